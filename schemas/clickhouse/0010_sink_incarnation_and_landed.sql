-- The sink's plans name the topic incarnation (the topic id the broker reports; a topic
-- deleted and created again starts its offsets at 0 under a new id) and whether ClickHouse
-- acknowledged the batch. The incarnation joins the key, so two incarnations' plans at one
-- offset are two rows; the landed row is written after the plan row and replaces it.
-- A replayed range whose plan is landed is not inserted again: exactly-once for replays
-- (a reset group, a long outage) no longer depends on the deduplication window, which is
-- left to cover only a batch that may have landed and was not marked yet (a crash between
-- the insert and the mark). Plans written before this migration have incarnation '' and
-- are not replayed: stop the worker cleanly (it writes every open batch) before upgrading.
ALTER TABLE sink_batches
    ADD COLUMN IF NOT EXISTS incarnation String AFTER partition,
    ADD COLUMN IF NOT EXISTS landed UInt8 DEFAULT 0 COMMENT '1: ClickHouse acknowledged the rows',
    MODIFY ORDER BY (topic, partition, first_offset, incarnation);
