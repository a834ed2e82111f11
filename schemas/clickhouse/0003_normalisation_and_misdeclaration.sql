-- Issue 4: normalisation results and the misdeclaration finding on every line.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS hs6_known Bool DEFAULT false AFTER hs6,
    ADD COLUMN IF NOT EXISTS unit_code LowCardinality(Nullable(String)) AFTER unit,
    ADD COLUMN IF NOT EXISTS value_usd Nullable(Decimal(38, 2)) AFTER currency,
    ADD COLUMN IF NOT EXISTS flags Array(LowCardinality(String)) AFTER extra,
    ADD COLUMN IF NOT EXISTS misdeclaration_suspected Bool DEFAULT false AFTER confidence,
    ADD COLUMN IF NOT EXISTS misdeclaration_reason Nullable(String) AFTER misdeclaration_suspected;
