-- Lines, declarations and value in USD (where a rate table is configured) per category;
-- a line may count in several categories.
SELECT
    arrayJoin(if(empty(categories), ['(none)'], categories)) AS category,
    count() AS lines,
    uniqExact(declaration_id) AS declarations,
    sum(value_usd) AS value_usd
FROM declarations
GROUP BY category
ORDER BY lines DESC, category
