-- requires: access management
-- The read-only BI role (0009) may read the party views (0016). Skipped on the embedded
-- engine, which has no access management.
GRANT SELECT ON party_links TO customs_watch_bi;
GRANT SELECT ON party_roots TO customs_watch_bi;
GRANT SELECT ON declaration_parties TO customs_watch_bi;
GRANT SELECT ON party_display TO customs_watch_bi;
