-- Lines, declarations and declared value per category (a line may count in several).
SELECT
    arrayJoin(if(empty(categories), ['(none)'], categories)) AS category,
    count() AS lines,
    uniqExact(declaration_id) AS declarations,
    sum(value) AS value
FROM declarations
GROUP BY category
ORDER BY lines DESC, category
