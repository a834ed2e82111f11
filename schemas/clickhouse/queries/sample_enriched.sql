-- The most recently enriched lines that carry a category or a CHPL tier.
SELECT declaration_id, line_no, declared_at, hs_code, hs6, description, categories, chpl_tier,
       destination_country, importer_name, value, currency, alert_rules, evidence
FROM declarations
WHERE notEmpty(categories) OR chpl_tier IS NOT NULL
ORDER BY enriched_at DESC, declaration_id, line_no
LIMIT 5
