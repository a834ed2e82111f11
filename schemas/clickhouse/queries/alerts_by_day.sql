-- Alerts (latest version of each) per day of first sight, rule and severity.
-- The view bi_alerts_by_day; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_alerts_by_day(since = {since:Date})
