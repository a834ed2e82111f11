-- CHPL lines by tier and the country they were dispatched from, when that is not where they
-- were made (possible transshipment), with value and destinations.
SELECT chpl_tier, dispatch_country, origin_country,
       count() AS lines, round(sum(value_usd)) AS value_usd,
       arraySort(groupUniqArray(destination_country)) AS destinations
FROM declarations
WHERE declared_at >= {since:Date} AND chpl_tier IS NOT NULL
  AND dispatch_country IS NOT NULL AND origin_country IS NOT NULL
  AND dispatch_country != origin_country
GROUP BY chpl_tier, dispatch_country, origin_country
ORDER BY chpl_tier, value_usd DESC
