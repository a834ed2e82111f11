-- The ops console's alert page: every line of the newest alerts as declared (description as
-- written, code, evidence, CHPL tier, screening hits with their explanation, the route).
SELECT a.alert_id AS alert_id, d.declaration_id AS declaration_id, d.line_no AS line_no,
       d.declared_at AS declared_at, d.hs_code AS hs_code, d.description AS description,
       d.categories AS categories, d.chpl_tier AS chpl_tier, d.evidence AS evidence,
       d.screening_hits AS screening_hits, d.origin_country AS origin_country,
       d.dispatch_country AS dispatch_country, d.destination_country AS destination_country,
       d.exporter_name AS exporter_name, d.importer_name AS importer_name, d.value AS value,
       d.currency AS currency, d.rules_version AS rules_version
FROM
(
    SELECT alert_id, line.1 AS declaration_id, line.2 AS line_no
    FROM (SELECT alert_id, lines FROM alerts FINAL WHERE NOT withdrawn
          ORDER BY created_at DESC LIMIT 5000)
    ARRAY JOIN lines AS line
) AS a
INNER JOIN declarations AS d ON d.declaration_id = a.declaration_id AND d.line_no = a.line_no
ORDER BY alert_id, declaration_id, line_no
LIMIT 1 BY alert_id, declaration_id, line_no
