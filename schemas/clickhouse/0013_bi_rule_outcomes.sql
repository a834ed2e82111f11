-- Outcomes per rule for BI tools and the Grafana dashboard: the ops console's closes
-- (alert_actions, landed by the sink from <prefix>.alert-actions, migration 0012), the last
-- close of each alert counting; as the named query rule_outcomes. Parameterised by `since`.
CREATE VIEW IF NOT EXISTS bi_rule_outcomes
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
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
ORDER BY closed DESC, rule;
