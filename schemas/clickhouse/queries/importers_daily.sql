-- Lines and value per day and importer party (its spellings together) since `since`, from
-- the view daily_lines (schemas/clickhouse/0019_party_keyed_daily_lines.sql).
SELECT day, importer_party_id, importer_name, sum(lines) AS lines,
       round(sum(value_usd)) AS value_usd
FROM daily_lines
WHERE day >= {since:Date} AND importer_party_id != ''
GROUP BY day, importer_party_id, importer_name
ORDER BY day, value_usd DESC, importer_name
