-- Importers first seen on or after `since` (newly appearing companies), with their volume.
-- The view bi_new_importers; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_new_importers(since = {since:Date})
