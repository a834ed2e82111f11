-- Issue 7: party addresses (for shared_address), and grouped alerts: what an alert is about
-- beyond its party, and how many lines it groups.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS importer_address Nullable(String) AFTER importer_id,
    ADD COLUMN IF NOT EXISTS exporter_address Nullable(String) AFTER exporter_id;
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS subject Nullable(String) AFTER categories,
    ADD COLUMN IF NOT EXISTS line_count UInt32 DEFAULT 1 AFTER lines;
