-- The sink's batch plans: the offset range of every batch, written before its first insert
-- attempt, so a replay (crash, rebalance, reset group) rebuilds the very same ranges and
-- their insert_deduplication_tokens. identities: the upstream messages the batch kept, so
-- copies redelivered by an earlier stage are dropped, and a replay keeps the same ones.
CREATE TABLE IF NOT EXISTS sink_batches
(
    topic LowCardinality(String),
    partition Int32,
    first_offset Int64,
    last_offset Int64,
    token String,
    table LowCardinality(String),
    identities Array(String),
    rows UInt32,
    dropped UInt32 COMMENT 'redelivered upstream copies skipped',
    planned_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, first_offset)
SETTINGS non_replicated_deduplication_window = 10000;

-- Every record a stage could not process, with the reason and the bytes as received.
-- The topic is the source of truth (replay reads it); this table is for looking.
CREATE TABLE IF NOT EXISTS dead_letters
(
    letter_id String COMMENT 'same stage, record and reason: same id',
    source LowCardinality(String),
    origin String,
    position Nullable(Int64),
    stage LowCardinality(String),
    reason String,
    payload String COMMENT 'the original bytes',
    topic LowCardinality(Nullable(String)),
    partition Nullable(Int32),
    offset Nullable(Int64),
    failed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (source, stage, letter_id)
SETTINGS non_replicated_deduplication_window = 10000;
