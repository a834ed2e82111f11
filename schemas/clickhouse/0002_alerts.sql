-- One row per alert. ReplacingMergeTree on alert_id: alert ids are deterministic, so a
-- replay that re-raises an alert collapses onto the first row at merge time.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id String,
    rule LowCardinality(String),
    severity LowCardinality(String),
    score Float32,
    reason String,
    lines Array(Tuple(declaration_id String, line_no UInt32)),
    party_key String COMMENT 'importer name, else exporter name: the topic key',
    parties String COMMENT 'JSON array of Party objects',
    categories Array(LowCardinality(String)),
    chpl_tier LowCardinality(Nullable(String)),
    destination_country LowCardinality(Nullable(String)),
    source LowCardinality(Nullable(String)),
    rules_version LowCardinality(String),
    first_seen DateTime64(3, 'UTC'),
    last_seen DateTime64(3, 'UTC'),
    created_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (rule, alert_id)
SETTINGS non_replicated_deduplication_window = 10000;
