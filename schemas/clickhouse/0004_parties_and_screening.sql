-- Issue 5: the notify and declarant parties some feeds carry, and screening results in
-- columns BI can filter on without parsing the screening_hits JSON.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS notify_name Nullable(String) AFTER importer_id,
    ADD COLUMN IF NOT EXISTS notify_country LowCardinality(Nullable(String)) AFTER notify_name,
    ADD COLUMN IF NOT EXISTS notify_id Nullable(String) AFTER notify_country,
    ADD COLUMN IF NOT EXISTS declarant_name Nullable(String) AFTER notify_id,
    ADD COLUMN IF NOT EXISTS declarant_country LowCardinality(Nullable(String)) AFTER declarant_name,
    ADD COLUMN IF NOT EXISTS declarant_id Nullable(String) AFTER declarant_country,
    ADD COLUMN IF NOT EXISTS screened_entity_ids Array(String) AFTER screening_hits,
    ADD COLUMN IF NOT EXISTS screening_max_score Float32 DEFAULT 0 AFTER screened_entity_ids;
