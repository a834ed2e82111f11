-- Lines and declared value per CHPL tier.
SELECT ifNull(chpl_tier, '(not CHPL)') AS tier, count() AS lines, sum(value) AS value
FROM declarations
GROUP BY tier
ORDER BY tier
