-- Drones (category uav) to Russia and to Ukraine per month, and the ratio between them.
SELECT toStartOfMonth(declared_at) AS month,
       round(sumIf(value_usd, destination_country = 'RU')) AS russia_usd,
       round(sumIf(value_usd, destination_country = 'UA')) AS ukraine_usd,
       countIf(destination_country = 'RU') AS russia_lines,
       countIf(destination_country = 'UA') AS ukraine_lines,
       if(ukraine_usd > 0, round(russia_usd / ukraine_usd, 2), NULL) AS ratio
FROM declarations
WHERE declared_at >= {since:Date} AND has(categories, 'uav')
GROUP BY month
ORDER BY month
