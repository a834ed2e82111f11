-- Every alert (latest version of each), by rule and severity, with the lines it groups.
SELECT rule, severity, toDecimal32(score, 2) AS score, line_count AS lines, party_key,
       destination_country, subject, reason, alert_id
FROM alerts FINAL
WHERE NOT withdrawn
ORDER BY rule, multiIf(severity = 'critical', 0, severity = 'high', 1,
                       severity = 'medium', 2, 3), party_key, alert_id
