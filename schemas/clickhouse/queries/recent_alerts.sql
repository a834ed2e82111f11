-- The newest alerts, one row per alert id.
SELECT alert_id, rule, severity, toDecimal32(score, 2) AS score, party_key, destination_country,
       chpl_tier, reason
FROM alerts FINAL
WHERE NOT withdrawn
ORDER BY created_at DESC, alert_id
LIMIT 20
