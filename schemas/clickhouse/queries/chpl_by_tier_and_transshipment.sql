-- CHPL lines by tier and the country they were dispatched from, when that is not where they
-- were made (possible transshipment), with value and destinations.
-- The view bi_chpl_by_tier_and_transshipment; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_chpl_by_tier_and_transshipment(since = {since:Date})
