-- Importers first seen on or after `since` (newly appearing companies), with their volume.
-- The view bi_new_importers (one row per party); its SQL is in
-- schemas/clickhouse/0018_party_aggregates.sql.
SELECT * FROM bi_new_importers(since = {since:Date})
