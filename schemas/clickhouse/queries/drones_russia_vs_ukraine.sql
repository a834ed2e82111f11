-- Drones (category uav) to Russia and to Ukraine per month, and the ratio between them.
-- The view bi_drones_russia_vs_ukraine; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_drones_russia_vs_ukraine(since = {since:Date})
