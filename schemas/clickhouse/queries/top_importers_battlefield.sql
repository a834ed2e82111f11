-- Top importers of battlefield goods (body armour, helmets, armour ceramics, UAVs, thermal,
-- night vision, weapon optics, firearms) by declared value in USD.
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
LIMIT 20
