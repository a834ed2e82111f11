-- Outcomes per rule from the ops console's triage (alert_actions, landed by the sink):
-- alerts closed as confirmed, false positive or not relevant since the date (the last close
-- of each alert counts), and the shares confirmed and false positive.
SELECT * FROM bi_rule_outcomes(since = {since:Date})
