-- The newest alerts, one row per alert id.
SELECT alert_id, rule, severity, score, party_key, destination_country, chpl_tier, categories,
       reason, created_at
FROM alerts FINAL
ORDER BY created_at DESC, alert_id
LIMIT 20
