-- Named views for BI tools: one per question the seeds ask, plus the dashboard's panels.
-- Parameterised by `since` (a date): SELECT * FROM bi_top_importers_battlefield(since = '2024-01-01').
-- SQL SECURITY DEFINER: a reader granted SELECT on a view needs no grant on the tables under
-- it (see 0009 for the read-only BI role). docs/queries.md shows each with an example.

-- Top importers of battlefield goods (body armour, helmets, armour ceramics, UAVs, thermal,
-- night vision, weapon optics, firearms) by declared value in USD.
CREATE VIEW IF NOT EXISTS bi_top_importers_battlefield
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT importer_name, importer_country,
       round(sum(value_usd)) AS value_usd, count() AS lines,
       arraySort(groupUniqArrayArray(arrayFilter(c -> c IN ('body_armor', 'helmet',
           'armor_ceramics', 'uav', 'thermal_imaging', 'night_vision', 'weapon_optics',
           'firearms'), categories))) AS battlefield_categories,
       min(declared_at) AS first_seen, max(declared_at) AS last_seen
FROM declarations
WHERE declared_at >= {since:Date} AND importer_name IS NOT NULL
  AND hasAny(categories, ['body_armor', 'helmet', 'armor_ceramics', 'uav', 'thermal_imaging',
                          'night_vision', 'weapon_optics', 'firearms'])
GROUP BY importer_name, importer_country
ORDER BY value_usd DESC, lines DESC
LIMIT 20;

-- Drones (category uav) to Russia and to Ukraine per month, and the ratio between them.
CREATE VIEW IF NOT EXISTS bi_drones_russia_vs_ukraine
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toStartOfMonth(day) AS month,
       round(sumIf(value_usd, destination_country = 'RU')) AS russia_usd,
       round(sumIf(value_usd, destination_country = 'UA')) AS ukraine_usd,
       sumIf(lines, destination_country = 'RU') AS russia_lines,
       sumIf(lines, destination_country = 'UA') AS ukraine_lines,
       if(ukraine_usd > 0, round(russia_usd / ukraine_usd, 2), NULL) AS ratio
FROM daily_categories
WHERE day >= {since:Date} AND category = 'uav'
GROUP BY month
ORDER BY month;

-- Category x destination value per quarter and its change on the quarter before (the seeds'
-- question: armour ceramics +69 % to Russia while -61 % to Ukraine).
CREATE VIEW IF NOT EXISTS bi_category_flow_change
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT category, destination_country, quarter, round(value_usd) AS value_usd,
       round(previous_usd) AS previous_usd,
       if(previous_usd > 0, round(100 * (value_usd - previous_usd) / previous_usd, 1), NULL)
           AS change_pct
FROM
(
    SELECT category, destination_country, quarter, value_usd,
           lagInFrame(value_usd, 1, 0) OVER (PARTITION BY category, destination_country
               ORDER BY quarter ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous_usd
    FROM
    (
        SELECT category, destination_country, toStartOfQuarter(month) AS quarter,
               sum(value_usd) AS value_usd
        FROM monthly_category_destination
        WHERE month >= toStartOfMonth({since:Date}) AND destination_country != ''
        GROUP BY category, destination_country, quarter
    )
)
ORDER BY category, destination_country, quarter;

-- CHPL lines by tier and the country they were dispatched from, when that is not where they
-- were made (possible transshipment), with value and destinations.
CREATE VIEW IF NOT EXISTS bi_chpl_by_tier_and_transshipment
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT chpl_tier, dispatch_country, origin_country,
       count() AS lines, round(sum(value_usd)) AS value_usd,
       arraySort(groupUniqArray(destination_country)) AS destinations
FROM declarations
WHERE declared_at >= {since:Date} AND chpl_tier IS NOT NULL
  AND dispatch_country IS NOT NULL AND origin_country IS NOT NULL
  AND dispatch_country != origin_country
GROUP BY chpl_tier, dispatch_country, origin_country
ORDER BY chpl_tier, value_usd DESC;

-- Parties on declaration lines that matched a watchlist entry, with the best score.
CREATE VIEW IF NOT EXISTS bi_parties_with_hits
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT JSONExtractString(hit, 'role') AS role,
       JSONExtractString(hit, 'party_name') AS party,
       JSONExtractString(hit, 'entity_id') AS entity_id,
       JSONExtractString(hit, 'dataset') AS dataset,
       any(JSONExtractString(hit, 'matched_name')) AS matched_name,
       max(JSONExtractFloat(hit, 'score')) AS best_score,
       count() AS lines,
       min(declared_at) AS first_seen,
       max(declared_at) AS last_seen
FROM declarations
ARRAY JOIN JSONExtractArrayRaw(screening_hits) AS hit
WHERE declared_at >= {since:Date} AND notEmpty(screened_entity_ids)
GROUP BY role, party, entity_id, dataset
ORDER BY lines DESC, party, entity_id
LIMIT 100;

-- Alerts (latest version of each) per day of first sight, rule and severity.
CREATE VIEW IF NOT EXISTS bi_alerts_by_day
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toDate(first_seen) AS day, rule, severity, count() AS alerts, sum(line_count) AS lines
FROM alerts FINAL
WHERE toDate(first_seen) >= {since:Date}
GROUP BY day, rule, severity
ORDER BY day, rule, severity;

-- Category flows per day and destination (value, lines), for trend panels.
CREATE VIEW IF NOT EXISTS bi_category_flows_daily
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT day, category, destination_country, sum(lines) AS lines,
       round(sum(value_usd)) AS value_usd, round(sum(net_weight_kg)) AS net_weight_kg
FROM daily_categories
WHERE day >= {since:Date}
GROUP BY day, category, destination_country
ORDER BY day, category, destination_country;

-- Importers first seen on or after `since` (newly appearing companies), with their volume.
CREATE VIEW IF NOT EXISTS bi_new_importers
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT importer_name, importer_country, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen, sum(lines) AS lines
FROM importer_first_seen
GROUP BY importer_name, importer_country
HAVING first_seen >= {since:Date}
ORDER BY first_seen DESC, lines DESC;

-- Dead letters per stage and reason: what is failing, since when.
CREATE VIEW IF NOT EXISTS bi_dead_letters_by_reason
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT stage, source, reason, count() AS letters, min(failed_at) AS first_failed,
       max(failed_at) AS last_failed
FROM dead_letters FINAL
WHERE toDate(failed_at) >= {since:Date}
GROUP BY stage, source, reason
ORDER BY letters DESC;
