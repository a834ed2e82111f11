-- The line -> alert link: every declaration line each alert groups (latest version of each
-- alert; ReplacingMergeTree keeps one row per alert id after merges, FINAL before them).
SELECT alert_id, rule, severity, line.1 AS declaration_id, line.2 AS line_no, line_count
FROM alerts FINAL
ARRAY JOIN lines AS line
WHERE NOT withdrawn
ORDER BY rule, alert_id, declaration_id, line_no
