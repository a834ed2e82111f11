-- Lines whose description names a battlefield category under an unrelated cover heading.
SELECT declaration_id, line_no, hs_code, leftUTF8(description, 48) AS description, categories,
       destination_country, misdeclaration_reason
FROM declarations
WHERE misdeclaration_suspected
ORDER BY declared_at DESC, declaration_id, line_no
LIMIT 20
