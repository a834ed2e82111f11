-- Lines and value in USD (where a rate table is configured) per CHPL tier.
SELECT ifNull(chpl_tier, '(not CHPL)') AS tier, count() AS lines, sum(value_usd) AS value_usd
FROM declarations
GROUP BY tier
ORDER BY tier
