-- Category flows per day and destination (value, lines), for trend panels.
-- The view bi_category_flows_daily; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_category_flows_daily(since = {since:Date})
