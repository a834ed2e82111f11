-- Outcomes per rule from the ops console's triage (alert_actions, landed by the sink):
-- alerts closed as confirmed, false positive or not relevant since the date (the last close
-- of each alert counts), and the shares confirmed and false positive.
SELECT rule,
       count() AS closed,
       countIf(outcome = 'confirmed') AS confirmed,
       countIf(outcome = 'false_positive') AS false_positive,
       countIf(outcome = 'not_relevant') AS not_relevant,
       round(countIf(outcome = 'confirmed') / count(), 3) AS confirmed_rate,
       round(countIf(outcome = 'false_positive') / count(), 3) AS false_positive_rate
FROM
(
    SELECT alert_id, argMax(rule, at) AS rule, argMax(outcome, at) AS outcome
    FROM alert_actions FINAL
    WHERE action = 'close' AND toDate(at) >= {since:Date}
    GROUP BY alert_id
)
GROUP BY rule
ORDER BY closed DESC, rule
