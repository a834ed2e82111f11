-- One row per enriched declaration line.
-- Ordered for the questions BI asks first: by date, then commodity, then the line itself.
-- Partitioned by year, not month: a batch spanning many months would otherwise be split into
-- one part per month on every insert (measured: 10x slower inserts on a year-long feed).
-- non_replicated_deduplication_window keeps insert-deduplication tokens on this
-- non-replicated table, so a replayed batch (same token) is dropped instead of inserted twice.
CREATE TABLE IF NOT EXISTS declarations
(
    declaration_id String,
    line_no UInt32,
    declared_at Date,
    flow LowCardinality(String),
    reporter LowCardinality(Nullable(String)),
    hs_code String,
    hs_digits String,
    hs2 LowCardinality(String),
    hs4 LowCardinality(String),
    hs6 LowCardinality(String),
    description String,
    quantity Nullable(Float64),
    unit LowCardinality(Nullable(String)),
    value Nullable(Decimal(38, 4)),
    currency LowCardinality(Nullable(String)),
    net_weight_kg Nullable(Float64),
    origin_country LowCardinality(Nullable(String)),
    dispatch_country LowCardinality(Nullable(String)),
    destination_country LowCardinality(Nullable(String)),
    exporter_name Nullable(String),
    exporter_country LowCardinality(Nullable(String)),
    exporter_id Nullable(String),
    importer_name Nullable(String),
    importer_country LowCardinality(Nullable(String)),
    importer_id Nullable(String),
    manufacturer Nullable(String),
    brand Nullable(String),
    source LowCardinality(String),
    source_record_id Nullable(String),
    extra String COMMENT 'unknown feed fields, JSON object',
    categories Array(LowCardinality(String)),
    chpl_tier LowCardinality(Nullable(String)),
    evidence String COMMENT 'JSON array of Evidence objects',
    confidence Float32,
    screening_hits String COMMENT 'JSON array of ScreeningHit objects',
    alert_rules Array(LowCardinality(String)),
    rules_version LowCardinality(String),
    raw_topic LowCardinality(String),
    raw_partition Int32,
    raw_offset Int64,
    enriched_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYear(declared_at)
ORDER BY (declared_at, hs6, declaration_id, line_no)
SETTINGS non_replicated_deduplication_window = 10000;
