-- Category x destination value per quarter and its change on the quarter before (the seeds'
-- question: armour ceramics +69 % to Russia while -61 % to Ukraine).
-- The view bi_category_flow_change; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_category_flow_change(since = {since:Date})
