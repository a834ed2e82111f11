-- A line is no longer refused for its commodity code (issue 15): hs_code may be '' and the
-- enriched line says how the code was read. hs_code_status: valid, national, older_version,
-- heading_only, chapter_only, several, unknown, missing, unreadable. hs_version: the HS
-- vintage the code was read as ('HS2022', 'HS2017', ... or '' when there is no code).
-- hs2022_read: the HS 2022 subheadings an older-vintage code correlates to.
-- Rows written before this migration were all readable codes: they default to 'valid'.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS hs_code_status LowCardinality(String) DEFAULT 'valid' AFTER flags,
    ADD COLUMN IF NOT EXISTS hs_version LowCardinality(String) DEFAULT '' AFTER hs_code_status,
    ADD COLUMN IF NOT EXISTS hs2022_read Array(LowCardinality(String)) AFTER hs_version;
