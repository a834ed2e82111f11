-- Total lines, distinct line keys and alerts: equal first two columns mean no duplicates.
SELECT
    (SELECT count() FROM declarations) AS lines,
    (SELECT uniqExact(declaration_id, line_no, source) FROM declarations) AS distinct_lines,
    (SELECT count() FROM alerts FINAL WHERE NOT withdrawn) AS alerts
