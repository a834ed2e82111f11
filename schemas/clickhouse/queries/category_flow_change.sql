-- Category x destination value per quarter and its change on the quarter with trade before (the
-- seeds' question: armour ceramics +69 % to Russia while -61 % to Ukraine).
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
        SELECT arrayJoin(categories) AS category, destination_country,
               toStartOfQuarter(declared_at) AS quarter, sum(value_usd) AS value_usd
        FROM declarations
        WHERE declared_at >= {since:Date} AND destination_country IS NOT NULL
        GROUP BY category, destination_country, quarter
    )
)
ORDER BY category, destination_country, quarter
