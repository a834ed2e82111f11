-- requires: access management
-- The read-only BI role (0009) may read the party-keyed daily_lines and importer_first_seen
-- views (0019). Skipped on the embedded engine, which has no access management.
GRANT SELECT ON daily_lines TO customs_watch_bi;
GRANT SELECT ON importer_first_seen TO customs_watch_bi;
