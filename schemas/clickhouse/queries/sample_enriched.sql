-- The most recently enriched lines that carry a category or a CHPL tier.
SELECT declaration_id, line_no, hs6, leftUTF8(description, 48) AS description, categories,
       chpl_tier, destination_country, importer_name, alert_rules
FROM declarations
WHERE notEmpty(categories) OR chpl_tier IS NOT NULL
ORDER BY enriched_at DESC, declaration_id, line_no
LIMIT 5
