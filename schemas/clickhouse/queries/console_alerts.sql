-- The ops console's queue: the newest alerts, one row per alert id, with everything the
-- queue and the alert page show (parties as JSON, lines as (declaration_id, line_no)).
SELECT alert_id, rule, severity, score, reason, party_key, parties, categories, subject,
       line_count, chpl_tier, destination_country, source, rules_version, first_seen,
       last_seen, created_at, suppressed_by
FROM alerts FINAL
WHERE NOT withdrawn
ORDER BY created_at DESC, alert_id
LIMIT 5000
