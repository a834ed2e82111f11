-- Importers first seen on or after `since` (newly appearing companies), with their volume.
-- The view bi_new_importers (one row per party) over importer_first_seen; their SQL is in
-- schemas/clickhouse/0019_party_keyed_daily_lines.sql.
SELECT * FROM bi_new_importers(since = {since:Date})
