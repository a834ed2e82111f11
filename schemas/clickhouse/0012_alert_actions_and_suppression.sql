-- Issue 18: the ops console's triage actions (audit events from <prefix>.alert-actions),
-- landed by the sink so BI can report outcomes per rule; and the suppression that kept an
-- alert from the watchers (stored, marked, not published).
CREATE TABLE IF NOT EXISTS alert_actions
(
    event_id String,
    alert_id String,
    action LowCardinality(String),
    actor LowCardinality(String),
    actor_role LowCardinality(String),
    at DateTime64(3, 'UTC'),
    rule LowCardinality(String),
    outcome LowCardinality(Nullable(String)),
    status_before LowCardinality(Nullable(String)),
    status_after LowCardinality(Nullable(String)),
    before String COMMENT 'JSON object: status, assignee, outcome before the action',
    after String COMMENT 'JSON object: the same after it',
    comment String,
    suppression String COMMENT 'JSON Suppression object for suppression_approved, else empty'
)
ENGINE = ReplacingMergeTree
ORDER BY (rule, alert_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS suppressed_by Nullable(String)
    COMMENT 'suppression id and until: kept from the watchers by an approved suppression';
