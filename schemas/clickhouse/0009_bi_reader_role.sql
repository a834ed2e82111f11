-- requires: access management
-- A read-only role for BI tools (Grafana, Metabase, Superset) and a user holding it. The role
-- may SELECT the bi_* views only: they run with their definer's rights (SQL SECURITY
-- DEFINER), so the raw tables stay out of reach. readonly = 2 lets a BI tool set query
-- settings (timeouts, formats) but never write or change DDL.
-- The password comes from CUSTOMS_WATCH_CLICKHOUSE_BI_PASSWORD at migration time (stored as
-- a SHA-256 hash; this file holds a placeholder). The embedded engine has no access
-- management: there the migration is recorded as skipped.
CREATE ROLE IF NOT EXISTS customs_watch_bi;
GRANT SELECT ON bi_top_importers_battlefield TO customs_watch_bi;
GRANT SELECT ON bi_drones_russia_vs_ukraine TO customs_watch_bi;
GRANT SELECT ON bi_category_flow_change TO customs_watch_bi;
GRANT SELECT ON bi_chpl_by_tier_and_transshipment TO customs_watch_bi;
GRANT SELECT ON bi_parties_with_hits TO customs_watch_bi;
GRANT SELECT ON bi_alerts_by_day TO customs_watch_bi;
GRANT SELECT ON bi_category_flows_daily TO customs_watch_bi;
GRANT SELECT ON bi_new_importers TO customs_watch_bi;
GRANT SELECT ON bi_dead_letters_by_reason TO customs_watch_bi;
CREATE USER IF NOT EXISTS customs_watch_bi_reader
    IDENTIFIED WITH sha256_hash BY '{bi_password_sha256}'
    DEFAULT ROLE customs_watch_bi
    SETTINGS readonly = 2;
GRANT customs_watch_bi TO customs_watch_bi_reader;
