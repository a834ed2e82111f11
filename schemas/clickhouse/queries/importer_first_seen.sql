-- Importers (parties) seen on or after `since`: when each was first and last seen, on how
-- many lines, under which names. The view importer_first_seen; its SQL is in
-- schemas/clickhouse/0019_party_keyed_daily_lines.sql.
SELECT * FROM importer_first_seen
WHERE last_seen >= {since:Date}
ORDER BY first_seen, importer_name, importer_party_id
