-- schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (version String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version;
ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS note String DEFAULT '';

-- 0001_declarations
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

-- 0002_alerts
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

-- 0003_normalisation_and_misdeclaration
-- Issue 4: normalisation results and the misdeclaration finding on every line.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS hs6_known Bool DEFAULT false AFTER hs6,
    ADD COLUMN IF NOT EXISTS unit_code LowCardinality(Nullable(String)) AFTER unit,
    ADD COLUMN IF NOT EXISTS value_usd Nullable(Decimal(38, 2)) AFTER currency,
    ADD COLUMN IF NOT EXISTS flags Array(LowCardinality(String)) AFTER extra,
    ADD COLUMN IF NOT EXISTS misdeclaration_suspected Bool DEFAULT false AFTER confidence,
    ADD COLUMN IF NOT EXISTS misdeclaration_reason Nullable(String) AFTER misdeclaration_suspected;

-- 0004_parties_and_screening
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

-- 0005_alerts_grouping_and_addresses
-- Issue 7: party addresses (for shared_address), and grouped alerts: what an alert is about
-- beyond its party, and how many lines it groups.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS importer_address Nullable(String) AFTER importer_id,
    ADD COLUMN IF NOT EXISTS exporter_address Nullable(String) AFTER exporter_id;
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS subject Nullable(String) AFTER categories,
    ADD COLUMN IF NOT EXISTS line_count UInt32 DEFAULT 1 AFTER lines;

-- 0006_sink_batches_and_dead_letters
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

-- 0007_daily_aggregates
-- Aggregate tables for BI, filled by materialised views on every insert into declarations
-- (a deduplicated retry feeds them nothing: inserts set
-- deduplicate_blocks_in_dependent_materialized_views), and back-filled from the lines already
-- there. SummingMergeTree adds rows with the same key at merge time: read them with sum().

-- Per day, commodity, route and parties. Null countries and parties are ''.
CREATE TABLE IF NOT EXISTS daily_lines
(
    day Date,
    flow LowCardinality(String),
    hs6 LowCardinality(String),
    origin_country LowCardinality(String),
    dispatch_country LowCardinality(String),
    destination_country LowCardinality(String),
    importer_name String,
    exporter_name String,
    lines UInt64,
    value_usd Float64,
    quantity Float64,
    net_weight_kg Float64
)
ENGINE = SummingMergeTree((lines, value_usd, quantity, net_weight_kg))
PARTITION BY toYear(day)
ORDER BY (day, hs6, destination_country, origin_country, dispatch_country, flow, importer_name,
          exporter_name)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_lines_mv TO daily_lines AS
SELECT declared_at AS day, flow, hs6,
       ifNull(origin_country, '') AS origin_country,
       ifNull(dispatch_country, '') AS dispatch_country,
       ifNull(destination_country, '') AS destination_country,
       ifNull(importer_name, '') AS importer_name,
       ifNull(exporter_name, '') AS exporter_name,
       count() AS lines,
       sum(toFloat64(ifNull(value_usd, 0))) AS value_usd,
       sum(ifNull(quantity, 0)) AS quantity,
       sum(ifNull(net_weight_kg, 0)) AS net_weight_kg
FROM declarations
GROUP BY day, flow, hs6, origin_country, dispatch_country, destination_country, importer_name,
         exporter_name;

-- Per day and goods category (a line in two categories counts in both; uncategorised lines
-- are not here), with the CHPL tier and the route.
CREATE TABLE IF NOT EXISTS daily_categories
(
    day Date,
    category LowCardinality(String),
    chpl_tier LowCardinality(String),
    origin_country LowCardinality(String),
    dispatch_country LowCardinality(String),
    destination_country LowCardinality(String),
    lines UInt64,
    value_usd Float64,
    quantity Float64,
    net_weight_kg Float64
)
ENGINE = SummingMergeTree((lines, value_usd, quantity, net_weight_kg))
PARTITION BY toYear(day)
ORDER BY (category, day, destination_country, dispatch_country, origin_country, chpl_tier)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_categories_mv TO daily_categories AS
SELECT declared_at AS day, arrayJoin(categories) AS category,
       ifNull(chpl_tier, '') AS chpl_tier,
       ifNull(origin_country, '') AS origin_country,
       ifNull(dispatch_country, '') AS dispatch_country,
       ifNull(destination_country, '') AS destination_country,
       count() AS lines,
       sum(toFloat64(ifNull(value_usd, 0))) AS value_usd,
       sum(ifNull(quantity, 0)) AS quantity,
       sum(ifNull(net_weight_kg, 0)) AS net_weight_kg
FROM declarations
GROUP BY day, category, chpl_tier, origin_country, dispatch_country, destination_country;

-- Per month, category and destination: the period-over-period questions.
CREATE TABLE IF NOT EXISTS monthly_category_destination
(
    month Date,
    category LowCardinality(String),
    destination_country LowCardinality(String),
    lines UInt64,
    value_usd Float64,
    net_weight_kg Float64
)
ENGINE = SummingMergeTree((lines, value_usd, net_weight_kg))
ORDER BY (category, destination_country, month)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS monthly_category_destination_mv
TO monthly_category_destination AS
SELECT toStartOfMonth(declared_at) AS month, arrayJoin(categories) AS category,
       ifNull(destination_country, '') AS destination_country,
       count() AS lines,
       sum(toFloat64(ifNull(value_usd, 0))) AS value_usd,
       sum(ifNull(net_weight_kg, 0)) AS net_weight_kg
FROM declarations
GROUP BY month, category, destination_country;

-- When each importer was first (and last) seen, and on how many lines.
CREATE TABLE IF NOT EXISTS importer_first_seen
(
    importer_name String,
    importer_country LowCardinality(String),
    first_seen SimpleAggregateFunction(min, Date),
    last_seen SimpleAggregateFunction(max, Date),
    lines SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (importer_name, importer_country)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS importer_first_seen_mv TO importer_first_seen AS
SELECT importer_name, ifNull(importer_country, '') AS importer_country,
       min(declared_at) AS first_seen, max(declared_at) AS last_seen, count() AS lines
FROM declarations
WHERE importer_name IS NOT NULL
GROUP BY importer_name, importer_country;

INSERT INTO daily_lines
SELECT declared_at AS day, flow, hs6, ifNull(origin_country, ''), ifNull(dispatch_country, ''),
       ifNull(destination_country, ''), ifNull(importer_name, ''), ifNull(exporter_name, ''),
       count(), sum(toFloat64(ifNull(value_usd, 0))), sum(ifNull(quantity, 0)),
       sum(ifNull(net_weight_kg, 0))
FROM declarations
GROUP BY ALL;

INSERT INTO daily_categories
SELECT declared_at AS day, arrayJoin(categories) AS category, ifNull(chpl_tier, ''),
       ifNull(origin_country, ''), ifNull(dispatch_country, ''), ifNull(destination_country, ''),
       count(), sum(toFloat64(ifNull(value_usd, 0))), sum(ifNull(quantity, 0)),
       sum(ifNull(net_weight_kg, 0))
FROM declarations
GROUP BY ALL;

INSERT INTO monthly_category_destination
SELECT toStartOfMonth(declared_at) AS month, arrayJoin(categories) AS category,
       ifNull(destination_country, ''), count(), sum(toFloat64(ifNull(value_usd, 0))),
       sum(ifNull(net_weight_kg, 0))
FROM declarations
GROUP BY ALL;

INSERT INTO importer_first_seen
SELECT importer_name, ifNull(importer_country, ''), min(declared_at), max(declared_at), count()
FROM declarations
WHERE importer_name IS NOT NULL
GROUP BY ALL;

-- 0008_bi_views
-- Named views for BI tools: one per question the seeds ask, plus the dashboard's panels.
-- Parameterised by `since` (a date): SELECT * FROM bi_top_importers_battlefield(since = '2024-01-01').
-- SQL SECURITY DEFINER: a reader granted SELECT on a view needs no grant on the tables under
-- it (see 0009 for the read-only BI role). docs/queries.md shows each with an example.

-- Top importers of battlefield goods (body armour, helmets, armour ceramics, UAVs, thermal,
-- night vision, weapon optics, firearms) by declared value in USD.
CREATE VIEW IF NOT EXISTS bi_top_importers_battlefield
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT importer_name, importer_country,
       round(sum(value_usd)) AS value_usd, count() AS lines,
       arraySort(groupUniqArrayArray(arrayFilter(c -> c IN ('body_armor', 'helmet',
           'armor_ceramics', 'uav', 'thermal_imaging', 'night_vision', 'weapon_optics',
           'firearms'), categories))) AS battlefield_categories,
       min(declared_at) AS first_seen, max(declared_at) AS last_seen
FROM declarations
WHERE declared_at >= {since:Date} AND importer_name IS NOT NULL
  AND hasAny(categories, ['body_armor', 'helmet', 'armor_ceramics', 'uav', 'thermal_imaging',
                          'night_vision', 'weapon_optics', 'firearms'])
GROUP BY importer_name, importer_country
ORDER BY value_usd DESC, lines DESC
LIMIT 20;

-- Drones (category uav) to Russia and to Ukraine per month, and the ratio between them.
CREATE VIEW IF NOT EXISTS bi_drones_russia_vs_ukraine
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toStartOfMonth(day) AS month,
       round(sumIf(value_usd, destination_country = 'RU')) AS russia_usd,
       round(sumIf(value_usd, destination_country = 'UA')) AS ukraine_usd,
       sumIf(lines, destination_country = 'RU') AS russia_lines,
       sumIf(lines, destination_country = 'UA') AS ukraine_lines,
       if(ukraine_usd > 0, round(russia_usd / ukraine_usd, 2), NULL) AS ratio
FROM daily_categories
WHERE day >= {since:Date} AND category = 'uav'
GROUP BY month
ORDER BY month;

-- Category x destination value per quarter and its change on the quarter before (the seeds'
-- question: armour ceramics +69 % to Russia while -61 % to Ukraine).
CREATE VIEW IF NOT EXISTS bi_category_flow_change
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT category, destination_country, quarter, round(value_usd) AS value_usd,
       round(previous_usd) AS previous_usd,
       if(previous_usd > 0, round(100 * (value_usd - previous_usd) / previous_usd, 1), NULL)
           AS change_pct
FROM
(
    SELECT category, destination_country, quarter, value_usd,
           lagInFrame(value_usd, 1, 0) OVER (PARTITION BY category, destination_country
               ORDER BY quarter ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous_usd
    FROM
    (
        SELECT category, destination_country, toStartOfQuarter(month) AS quarter,
               sum(value_usd) AS value_usd
        FROM monthly_category_destination
        WHERE month >= toStartOfMonth({since:Date}) AND destination_country != ''
        GROUP BY category, destination_country, quarter
    )
)
ORDER BY category, destination_country, quarter;

-- CHPL lines by tier and the country they were dispatched from, when that is not where they
-- were made (possible transshipment), with value and destinations.
CREATE VIEW IF NOT EXISTS bi_chpl_by_tier_and_transshipment
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT chpl_tier, dispatch_country, origin_country,
       count() AS lines, round(sum(value_usd)) AS value_usd,
       arraySort(groupUniqArray(destination_country)) AS destinations
FROM declarations
WHERE declared_at >= {since:Date} AND chpl_tier IS NOT NULL
  AND dispatch_country IS NOT NULL AND origin_country IS NOT NULL
  AND dispatch_country != origin_country
GROUP BY chpl_tier, dispatch_country, origin_country
ORDER BY chpl_tier, value_usd DESC;

-- Parties on declaration lines that matched a watchlist entry, with the best score.
CREATE VIEW IF NOT EXISTS bi_parties_with_hits
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT JSONExtractString(hit, 'role') AS role,
       JSONExtractString(hit, 'party_name') AS party,
       JSONExtractString(hit, 'entity_id') AS entity_id,
       JSONExtractString(hit, 'dataset') AS dataset,
       any(JSONExtractString(hit, 'matched_name')) AS matched_name,
       max(JSONExtractFloat(hit, 'score')) AS best_score,
       count() AS lines,
       min(declared_at) AS first_seen,
       max(declared_at) AS last_seen
FROM declarations
ARRAY JOIN JSONExtractArrayRaw(screening_hits) AS hit
WHERE declared_at >= {since:Date} AND notEmpty(screened_entity_ids)
GROUP BY role, party, entity_id, dataset
ORDER BY lines DESC, party, entity_id
LIMIT 100;

-- Alerts (latest version of each) per day of first sight, rule and severity.
CREATE VIEW IF NOT EXISTS bi_alerts_by_day
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toDate(first_seen) AS day, rule, severity, count() AS alerts, sum(line_count) AS lines
FROM alerts FINAL
WHERE toDate(first_seen) >= {since:Date}
GROUP BY day, rule, severity
ORDER BY day, rule, severity;

-- Category flows per day and destination (value, lines), for trend panels.
CREATE VIEW IF NOT EXISTS bi_category_flows_daily
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT day, category, destination_country, sum(lines) AS lines,
       round(sum(value_usd)) AS value_usd, round(sum(net_weight_kg)) AS net_weight_kg
FROM daily_categories
WHERE day >= {since:Date}
GROUP BY day, category, destination_country
ORDER BY day, category, destination_country;

-- Importers first seen on or after `since` (newly appearing companies), with their volume.
CREATE VIEW IF NOT EXISTS bi_new_importers
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT importer_name, importer_country, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen, sum(lines) AS lines
FROM importer_first_seen
GROUP BY importer_name, importer_country
HAVING first_seen >= {since:Date}
ORDER BY first_seen DESC, lines DESC;

-- Dead letters per stage and reason: what is failing, since when.
CREATE VIEW IF NOT EXISTS bi_dead_letters_by_reason
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT stage, source, reason, count() AS letters, min(failed_at) AS first_failed,
       max(failed_at) AS last_failed
FROM dead_letters FINAL
WHERE toDate(failed_at) >= {since:Date}
GROUP BY stage, source, reason
ORDER BY letters DESC;

-- 0009_bi_reader_role
-- requires: access management
-- A read-only role for BI tools (Grafana, Metabase, Superset) and a user holding it. The role
-- may SELECT the bi_* views only: they run with their definer's rights (SQL SECURITY
-- DEFINER), so the raw tables stay out of reach. readonly = 2 lets a BI tool set query
-- settings (timeouts, formats) but never write or change DDL.
-- The password comes from CUSTOMS_WATCH_CLICKHOUSE_BI_PASSWORD at migration time (stored as
-- a SHA-256 hash; this file holds a placeholder). The embedded engine has no access
-- management: there the migration is recorded as skipped.
CREATE ROLE IF NOT EXISTS customs_watch_bi;
GRANT SELECT ON bi_top_importers_battlefield TO customs_watch_bi;
GRANT SELECT ON bi_drones_russia_vs_ukraine TO customs_watch_bi;
GRANT SELECT ON bi_category_flow_change TO customs_watch_bi;
GRANT SELECT ON bi_chpl_by_tier_and_transshipment TO customs_watch_bi;
GRANT SELECT ON bi_parties_with_hits TO customs_watch_bi;
GRANT SELECT ON bi_alerts_by_day TO customs_watch_bi;
GRANT SELECT ON bi_category_flows_daily TO customs_watch_bi;
GRANT SELECT ON bi_new_importers TO customs_watch_bi;
GRANT SELECT ON bi_dead_letters_by_reason TO customs_watch_bi;
CREATE USER IF NOT EXISTS customs_watch_bi_reader
    IDENTIFIED WITH sha256_hash BY '{bi_password_sha256}'
    DEFAULT ROLE customs_watch_bi
    SETTINGS readonly = 2;
GRANT customs_watch_bi TO customs_watch_bi_reader;

-- 0010_sink_incarnation_and_landed
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

-- 0011_hs_code_status
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

-- 0012_alert_actions_and_suppression
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

-- 0013_bi_rule_outcomes
-- Outcomes per rule for BI tools and the Grafana dashboard: the ops console's closes
-- (alert_actions, landed by the sink from <prefix>.alert-actions, migration 0012), the last
-- close of each alert counting; as the named query rule_outcomes. Parameterised by `since`.
CREATE VIEW IF NOT EXISTS bi_rule_outcomes
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT rule,
       count() AS closed,
       countIf(outcome = 'confirmed') AS confirmed,
       countIf(outcome = 'false_positive') AS false_positive,
       countIf(outcome = 'not_relevant') AS not_relevant,
       round(countIf(outcome = 'confirmed') / count(), 3) AS confirmed_rate,
       round(countIf(outcome = 'false_positive') / count(), 3) AS false_positive_rate
FROM
(
    SELECT alert_id, argMax(rule, at) AS rule, argMax(outcome, at) AS outcome
    FROM alert_actions FINAL
    WHERE action = 'close' AND toDate(at) >= {since:Date}
    GROUP BY alert_id
)
GROUP BY rule
ORDER BY closed DESC, rule;

-- 0014_bi_rule_outcomes_grant
-- requires: access management
-- The read-only BI role (0009) may read the outcomes per rule (0013). Skipped on the
-- embedded engine, which has no access management.
GRANT SELECT ON bi_rule_outcomes TO customs_watch_bi;

-- 0015_alerts_withdrawn
-- Issue 16: the stateful rules are restated from sums and counts after every batch, so the
-- alerts standing at the end do not depend on the order lines arrived in. A version whose
-- condition no longer holds (earlier lines arrived late) is stored withdrawn; the latest
-- version decides. Counting views and queries leave withdrawn alerts out.
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS withdrawn Bool DEFAULT false
    COMMENT 'the latest version no longer holds: earlier lines arrived late';

CREATE OR REPLACE VIEW bi_alerts_by_day
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toDate(first_seen) AS day, rule, severity, count() AS alerts, sum(line_count) AS lines
FROM alerts FINAL
WHERE toDate(first_seen) >= {since:Date} AND NOT withdrawn
GROUP BY day, rule, severity
ORDER BY day, rule, severity;

-- 0016_parties
-- Issue 17: one company, one party. Every line carries each party's own id (from its
-- normalised name and country, else its identifier; stream/stages/party.py); that two ids
-- are one company is a merge event (<prefix>.party-merges → party_merges, landed by the
-- sink), undone by a split. The views below resolve every id through the latest event of
-- each party, so history regroups when a merge or a split lands, without a row rewritten.
ALTER TABLE declarations
    ADD COLUMN IF NOT EXISTS importer_party_id String DEFAULT ''
        COMMENT 'the written importer''s own party id; resolve through party_roots'
        AFTER importer_address,
    ADD COLUMN IF NOT EXISTS exporter_party_id String DEFAULT '' AFTER exporter_address,
    ADD COLUMN IF NOT EXISTS notify_party_id String DEFAULT '' AFTER notify_id,
    ADD COLUMN IF NOT EXISTS declarant_party_id String DEFAULT '' AFTER declarant_id,
    ADD COLUMN IF NOT EXISTS manufacturer_party_id String DEFAULT '' AFTER manufacturer;

CREATE TABLE IF NOT EXISTS party_merges
(
    event_id String,
    kind LowCardinality(String) COMMENT 'merge or split',
    from_party String,
    to_party String COMMENT 'merge: the party joined; split: the party left',
    reason String,
    at DateTime64(3, 'UTC'),
    by LowCardinality(String) COMMENT 'resolver, or the analyst'
)
ENGINE = ReplacingMergeTree
ORDER BY (from_party, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- Where each merged party points now: the latest event of each from_party holds, and a
-- latest split points nowhere.
CREATE VIEW IF NOT EXISTS party_links
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT from_party, to_party
FROM
(
    SELECT from_party, argMax(kind, (at, event_id)) AS kind,
           argMax(to_party, (at, event_id)) AS to_party
    FROM party_merges FINAL
    GROUP BY from_party
)
WHERE kind = 'merge' AND to_party != '' AND to_party != from_party;

-- Each merged party and the party it stands for now, through up to four merges in a row
-- (A → B → C: a group merged into another).
CREATE VIEW IF NOT EXISTS party_roots
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT l1.from_party AS party_id,
       multiIf(l4.to_party != '', l4.to_party, l3.to_party != '', l3.to_party,
               l2.to_party != '', l2.to_party, l1.to_party) AS root
FROM party_links AS l1
LEFT JOIN party_links AS l2 ON l2.from_party = l1.to_party
LEFT JOIN party_links AS l3 ON l3.from_party = l2.to_party
LEFT JOIN party_links AS l4 ON l4.from_party = l3.to_party
SETTINGS join_use_nulls = 0;

-- One row per party on a line (importer, exporter, notify, declarant, manufacturer) with
-- the written party's id and the party it stands for now (party_id). A line landed before
-- this migration has no id: its written name and country stand in.
CREATE VIEW IF NOT EXISTS declaration_parties
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT l.*, if(r.root != '', r.root, l.written_party) AS party_id
FROM
(
    SELECT declaration_id, line_no, declared_at, source, hs6, categories, chpl_tier,
           toFloat64(ifNull(value_usd, 0)) AS value_usd, origin_country, dispatch_country,
           destination_country, alert_rules, screened_entity_ids, screening_hits,
           importer_party_id, exporter_party_id,
           tupleElement(p, 1) AS role,
           if(tupleElement(p, 2) != '', tupleElement(p, 2),
              concat('name:', tupleElement(p, 3), ':', tupleElement(p, 4))) AS written_party,
           tupleElement(p, 3) AS name, tupleElement(p, 4) AS country,
           tupleElement(p, 5) AS identifier, tupleElement(p, 6) AS address
    FROM declarations
    ARRAY JOIN [
        ('importer', importer_party_id, ifNull(importer_name, ''), ifNull(importer_country, ''),
         ifNull(importer_id, ''), ifNull(importer_address, '')),
        ('exporter', exporter_party_id, ifNull(exporter_name, ''), ifNull(exporter_country, ''),
         ifNull(exporter_id, ''), ifNull(exporter_address, '')),
        ('notify', notify_party_id, ifNull(notify_name, ''), ifNull(notify_country, ''),
         ifNull(notify_id, ''), ''),
        ('declarant', declarant_party_id, ifNull(declarant_name, ''),
         ifNull(declarant_country, ''), ifNull(declarant_id, ''), ''),
        ('manufacturer', manufacturer_party_id, ifNull(manufacturer, ''), '', '', '')
    ] AS p
    WHERE tupleElement(p, 2) != '' OR tupleElement(p, 3) != ''
) AS l
LEFT JOIN party_roots AS r ON r.party_id = l.written_party
SETTINGS join_use_nulls = 0;

-- Each party's display name (its most frequent spelling on lines) and every name seen.
CREATE VIEW IF NOT EXISTS party_display
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT party_id, argMax(name, (lines, name)) AS display_name,
       arraySort(groupArray(name)) AS names
FROM
(
    SELECT party_id, name, count() AS lines
    FROM declaration_parties
    WHERE name != ''
    GROUP BY party_id, name
)
GROUP BY party_id;

-- Top importers of battlefield goods, now one row per party (its spellings together).
CREATE OR REPLACE VIEW bi_top_importers_battlefield
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT t.party_id AS importer_party_id, d.display_name AS importer_name,
       arrayFilter(n -> n != d.display_name, d.names) AS other_names, t.importer_country,
       t.value_usd, t.lines, t.battlefield_categories, t.first_seen, t.last_seen
FROM
(
    SELECT party_id, argMaxIf(country, declared_at, country != '') AS importer_country,
           round(sum(value_usd)) AS value_usd, count() AS lines,
           arraySort(groupUniqArrayArray(arrayFilter(c -> c IN ('body_armor', 'helmet',
               'armor_ceramics', 'uav', 'thermal_imaging', 'night_vision', 'weapon_optics',
               'firearms'), categories))) AS battlefield_categories,
           min(declared_at) AS first_seen, max(declared_at) AS last_seen
    FROM declaration_parties
    WHERE role = 'importer' AND declared_at >= {since:Date}
      AND hasAny(categories, ['body_armor', 'helmet', 'armor_ceramics', 'uav',
                              'thermal_imaging', 'night_vision', 'weapon_optics', 'firearms'])
    GROUP BY party_id
) AS t
LEFT JOIN party_display AS d ON d.party_id = t.party_id
ORDER BY t.value_usd DESC, t.lines DESC, importer_name
LIMIT 20;

-- Importers (parties) first seen on or after `since`, over all their spellings.
CREATE OR REPLACE VIEW bi_new_importers
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT t.party_id AS importer_party_id, d.display_name AS importer_name,
       arrayFilter(n -> n != d.display_name, d.names) AS other_names, t.importer_country,
       t.first_seen, t.last_seen, t.lines
FROM
(
    SELECT party_id, argMaxIf(country, declared_at, country != '') AS importer_country,
           min(declared_at) AS first_seen, max(declared_at) AS last_seen, count() AS lines
    FROM declaration_parties
    WHERE role = 'importer'
    GROUP BY party_id
    HAVING first_seen >= {since:Date}
) AS t
LEFT JOIN party_display AS d ON d.party_id = t.party_id
ORDER BY t.first_seen DESC, t.lines DESC, importer_name;

-- Parties that matched a watchlist entry, one row per party (its spellings together) and
-- entity: `party` is the display name, `other_names` the party's other spellings.
CREATE OR REPLACE VIEW bi_parties_with_hits
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT h.role AS role, if(d.display_name != '', d.display_name, h.party) AS party,
       h.party_id AS party_id,
       arrayFilter(n -> n != if(d.display_name != '', d.display_name, h.party), d.names)
           AS other_names,
       h.entity_id AS entity_id, h.dataset AS dataset, h.matched_name AS matched_name,
       h.best_score AS best_score, h.lines AS lines, h.first_seen AS first_seen,
       h.last_seen AS last_seen
FROM
(
    SELECT role, party_id, any(name) AS party,
           JSONExtractString(hit, 'entity_id') AS entity_id,
           JSONExtractString(hit, 'dataset') AS dataset,
           any(JSONExtractString(hit, 'matched_name')) AS matched_name,
           max(JSONExtractFloat(hit, 'score')) AS best_score,
           uniqExact(source, declaration_id, line_no) AS lines,
           min(declared_at) AS first_seen, max(declared_at) AS last_seen
    FROM declaration_parties
    ARRAY JOIN JSONExtractArrayRaw(screening_hits) AS hit
    WHERE declared_at >= {since:Date} AND notEmpty(screened_entity_ids)
      AND JSONExtractString(hit, 'role') = role
      AND JSONExtractString(hit, 'party_name') = name
    GROUP BY role, party_id, entity_id, dataset
) AS h
LEFT JOIN party_display AS d ON d.party_id = h.party_id
ORDER BY lines DESC, party, entity_id
LIMIT 100;

-- 0017_parties_grant
-- requires: access management
-- The read-only BI role (0009) may read the party views (0016). Skipped on the embedded
-- engine, which has no access management.
GRANT SELECT ON party_links TO customs_watch_bi;
GRANT SELECT ON party_roots TO customs_watch_bi;
GRANT SELECT ON declaration_parties TO customs_watch_bi;
GRANT SELECT ON party_display TO customs_watch_bi;

-- 0018_party_aggregates
-- the views resolve it through party_roots when they are read, so a merge or a split
-- regroups the aggregates too, without a row rewritten. daily_lines and
-- importer_first_seen (0007) stay as they were, by written name. The aggregates join the
-- party roots GLOBAL: in cluster mode the roots (over the Distributed party_merges) are
-- read once by the node asking and sent to the shards, not read again from each shard.

-- Per day, importer and exporter party, commodity, categories and route.
CREATE TABLE IF NOT EXISTS daily_party_lines
(
    day Date,
    importer_party String COMMENT 'the written importer''s own id; resolve through party_roots',
    exporter_party String COMMENT 'the written exporter''s own id; resolve through party_roots',
    flow LowCardinality(String),
    hs6 LowCardinality(String),
    categories Array(LowCardinality(String)),
    chpl_tier LowCardinality(String),
    origin_country LowCardinality(String),
    dispatch_country LowCardinality(String),
    destination_country LowCardinality(String),
    lines UInt64,
    value_usd Float64,
    quantity Float64,
    net_weight_kg Float64
)
ENGINE = SummingMergeTree((lines, value_usd, quantity, net_weight_kg))
PARTITION BY toYear(day)
ORDER BY (day, importer_party, exporter_party, hs6, destination_country, origin_country,
          dispatch_country, flow, chpl_tier, categories)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS daily_party_lines_mv TO daily_party_lines AS
SELECT declared_at AS day,
       multiIf(importer_party_id != '', importer_party_id, ifNull(importer_name, '') != '',
               concat('name:', importer_name, ':', ifNull(importer_country, '')), '')
           AS importer_party,
       multiIf(exporter_party_id != '', exporter_party_id, ifNull(exporter_name, '') != '',
               concat('name:', exporter_name, ':', ifNull(exporter_country, '')), '')
           AS exporter_party,
       flow, hs6, arraySort(categories) AS categories, ifNull(chpl_tier, '') AS chpl_tier,
       ifNull(origin_country, '') AS origin_country,
       ifNull(dispatch_country, '') AS dispatch_country,
       ifNull(destination_country, '') AS destination_country,
       count() AS lines,
       sum(toFloat64(ifNull(value_usd, 0))) AS value_usd,
       sum(ifNull(quantity, 0)) AS quantity,
       sum(ifNull(net_weight_kg, 0)) AS net_weight_kg
FROM declarations
GROUP BY day, importer_party, exporter_party, flow, hs6, categories, chpl_tier,
         origin_country, dispatch_country, destination_country;

-- Every party's written names per role, with when each was first and last seen and on how
-- many lines: new importers, display names and other spellings without a scan of the lines.
CREATE TABLE IF NOT EXISTS party_names
(
    written_party String COMMENT 'the written party''s own id; resolve through party_roots',
    role LowCardinality(String),
    name String,
    country LowCardinality(String),
    first_seen SimpleAggregateFunction(min, Date),
    last_seen SimpleAggregateFunction(max, Date),
    lines SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (written_party, role, name, country)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS party_names_mv TO party_names AS
SELECT if(tupleElement(p, 2) != '', tupleElement(p, 2),
          concat('name:', tupleElement(p, 3), ':', tupleElement(p, 4))) AS written_party,
       tupleElement(p, 1) AS role, tupleElement(p, 3) AS name, tupleElement(p, 4) AS country,
       min(declared_at) AS first_seen, max(declared_at) AS last_seen, count() AS lines
FROM declarations
ARRAY JOIN [
    ('importer', importer_party_id, ifNull(importer_name, ''), ifNull(importer_country, '')),
    ('exporter', exporter_party_id, ifNull(exporter_name, ''), ifNull(exporter_country, '')),
    ('notify', notify_party_id, ifNull(notify_name, ''), ifNull(notify_country, '')),
    ('declarant', declarant_party_id, ifNull(declarant_name, ''),
     ifNull(declarant_country, '')),
    ('manufacturer', manufacturer_party_id, ifNull(manufacturer, ''), '')
] AS p
WHERE tupleElement(p, 2) != '' OR tupleElement(p, 3) != ''
GROUP BY written_party, role, name, country;

INSERT INTO daily_party_lines
SELECT declared_at AS day,
       multiIf(importer_party_id != '', importer_party_id, ifNull(importer_name, '') != '',
               concat('name:', importer_name, ':', ifNull(importer_country, '')), ''),
       multiIf(exporter_party_id != '', exporter_party_id, ifNull(exporter_name, '') != '',
               concat('name:', exporter_name, ':', ifNull(exporter_country, '')), ''),
       flow, hs6, arraySort(categories), ifNull(chpl_tier, ''), ifNull(origin_country, ''),
       ifNull(dispatch_country, ''), ifNull(destination_country, ''),
       count(), sum(toFloat64(ifNull(value_usd, 0))), sum(ifNull(quantity, 0)),
       sum(ifNull(net_weight_kg, 0))
FROM declarations
GROUP BY ALL;

INSERT INTO party_names
SELECT if(tupleElement(p, 2) != '', tupleElement(p, 2),
          concat('name:', tupleElement(p, 3), ':', tupleElement(p, 4))),
       tupleElement(p, 1), tupleElement(p, 3), tupleElement(p, 4),
       min(declared_at), max(declared_at), count()
FROM declarations
ARRAY JOIN [
    ('importer', importer_party_id, ifNull(importer_name, ''), ifNull(importer_country, '')),
    ('exporter', exporter_party_id, ifNull(exporter_name, ''), ifNull(exporter_country, '')),
    ('notify', notify_party_id, ifNull(notify_name, ''), ifNull(notify_country, '')),
    ('declarant', declarant_party_id, ifNull(declarant_name, ''),
     ifNull(declarant_country, '')),
    ('manufacturer', manufacturer_party_id, ifNull(manufacturer, ''), '')
] AS p
WHERE tupleElement(p, 2) != '' OR tupleElement(p, 3) != ''
GROUP BY ALL;

-- Each party's display name (its most frequent spelling) and every name seen, now from
-- party_names rather than a scan of every line.
CREATE OR REPLACE VIEW party_display
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT pid AS party_id, argMax(name, (named_lines, name)) AS display_name,
       arraySort(groupArray(name)) AS names
FROM
(
    SELECT if(r.root != '', r.root, n.written_party) AS pid, n.name AS name,
           sum(n.lines) AS named_lines
    FROM party_names AS n
    GLOBAL LEFT JOIN party_roots AS r ON r.party_id = n.written_party
    WHERE n.name != ''
    GROUP BY pid, name
)
GROUP BY pid
SETTINGS join_use_nulls = 0;

-- Top importers of battlefield goods, one row per party, from daily_party_lines; the
-- country is the one on the party's latest line.
CREATE OR REPLACE VIEW bi_top_importers_battlefield
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT t.pid AS importer_party_id, d.display_name AS importer_name,
       arrayFilter(n -> n != d.display_name, d.names) AS other_names,
       c.importer_country AS importer_country, t.value_usd AS value_usd, t.lines AS lines,
       t.battlefield_categories AS battlefield_categories, t.first_seen AS first_seen,
       t.last_seen AS last_seen
FROM
(
    SELECT if(r.root != '', r.root, l.importer_party) AS pid,
           round(sum(l.value_usd)) AS value_usd, sum(l.lines) AS lines,
           arraySort(groupUniqArrayArray(arrayFilter(x -> x IN ('body_armor', 'helmet',
               'armor_ceramics', 'uav', 'thermal_imaging', 'night_vision', 'weapon_optics',
               'firearms'), l.categories))) AS battlefield_categories,
           min(l.day) AS first_seen, max(l.day) AS last_seen
    FROM daily_party_lines AS l
    GLOBAL LEFT JOIN party_roots AS r ON r.party_id = l.importer_party
    WHERE l.day >= {since:Date} AND l.importer_party != ''
      AND hasAny(l.categories, ['body_armor', 'helmet', 'armor_ceramics', 'uav',
                                'thermal_imaging', 'night_vision', 'weapon_optics', 'firearms'])
    GROUP BY pid
) AS t
LEFT JOIN party_display AS d ON d.party_id = t.pid
LEFT JOIN
(
    SELECT if(r.root != '', r.root, n.written_party) AS cpid,
           argMaxIf(n.country, n.last_seen, n.country != '') AS importer_country
    FROM party_names AS n
    GLOBAL LEFT JOIN party_roots AS r ON r.party_id = n.written_party
    WHERE n.role = 'importer'
    GROUP BY cpid
) AS c ON c.cpid = t.pid
ORDER BY value_usd DESC, lines DESC, importer_name
LIMIT 20
SETTINGS join_use_nulls = 0;

-- Importers (parties) first seen on or after `since`, over all their spellings, from
-- party_names.
CREATE OR REPLACE VIEW bi_new_importers
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT t.pid AS importer_party_id, d.display_name AS importer_name,
       arrayFilter(n -> n != d.display_name, d.names) AS other_names,
       t.importer_country AS importer_country, t.first_seen AS first_seen,
       t.last_seen AS last_seen, t.lines AS lines
FROM
(
    SELECT if(r.root != '', r.root, n.written_party) AS pid,
           argMaxIf(n.country, n.last_seen, n.country != '') AS importer_country,
           min(n.first_seen) AS first_seen, max(n.last_seen) AS last_seen,
           sum(n.lines) AS lines
    FROM party_names AS n
    GLOBAL LEFT JOIN party_roots AS r ON r.party_id = n.written_party
    WHERE n.role = 'importer'
    GROUP BY pid
    HAVING first_seen >= {since:Date}
) AS t
LEFT JOIN party_display AS d ON d.party_id = t.pid
ORDER BY first_seen DESC, lines DESC, importer_name
SETTINGS join_use_nulls = 0;

-- 0019_party_keyed_daily_lines
-- Issue 17: daily_lines and importer_first_seen (0007) keyed by party, under the same names.
-- They were tables keyed by the written name, so one company written three ways was three
-- importers. Their materialised views stop here; the tables are kept, renamed
-- daily_lines_by_name and importer_first_seen_by_name: the written-name figures up to this
-- migration, not fed after it (the only copy of lines a declarations TTL removed before
-- 0018 back-filled the party aggregates). daily_lines and importer_first_seen are now views
-- over the party aggregates of 0018, resolved through party_roots when read, so a merge or
-- a split regroups them without a row rewritten. Their columns are the old ones (the name
-- is the party's display name, its most frequent spelling) plus the party ids; each view
-- returns summed rows, so a reader's sum() and GROUP BY answer as before.
-- Nothing to back-fill: 0018 filled the party aggregates from every line.
DROP VIEW IF EXISTS daily_lines_mv;

DROP VIEW IF EXISTS importer_first_seen_mv;

RENAME TABLE IF EXISTS daily_lines TO daily_lines_by_name;

RENAME TABLE IF EXISTS importer_first_seen TO importer_first_seen_by_name;

-- Per day, commodity, route, importer party and exporter party ('' where the line has none).
CREATE VIEW IF NOT EXISTS daily_lines
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT l.day AS day, l.flow AS flow, l.hs6 AS hs6, l.origin_country AS origin_country,
       l.dispatch_country AS dispatch_country, l.destination_country AS destination_country,
       l.importer_pid AS importer_party_id, di.display_name AS importer_name,
       l.exporter_pid AS exporter_party_id, de.display_name AS exporter_name,
       l.lines AS lines, l.value_usd AS value_usd, l.quantity AS quantity,
       l.net_weight_kg AS net_weight_kg
FROM
(
    SELECT p.day AS day, p.flow AS flow, p.hs6 AS hs6, p.origin_country AS origin_country,
           p.dispatch_country AS dispatch_country,
           p.destination_country AS destination_country,
           if(ri.root != '', ri.root, p.importer_party) AS importer_pid,
           if(re.root != '', re.root, p.exporter_party) AS exporter_pid,
           sum(p.lines) AS lines, sum(p.value_usd) AS value_usd,
           sum(p.quantity) AS quantity, sum(p.net_weight_kg) AS net_weight_kg
    FROM daily_party_lines AS p
    GLOBAL LEFT JOIN party_roots AS ri ON ri.party_id = p.importer_party
    GLOBAL LEFT JOIN party_roots AS re ON re.party_id = p.exporter_party
    GROUP BY day, flow, hs6, origin_country, dispatch_country, destination_country,
             importer_pid, exporter_pid
) AS l
LEFT JOIN party_display AS di ON di.party_id = l.importer_pid
LEFT JOIN party_display AS de ON de.party_id = l.exporter_pid
SETTINGS join_use_nulls = 0;
-- the country is the one on its latest line.
CREATE VIEW IF NOT EXISTS importer_first_seen
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT t.pid AS importer_party_id, d.display_name AS importer_name,
       arrayFilter(n -> n != d.display_name, d.names) AS other_names,
       t.importer_country AS importer_country, t.first_seen AS first_seen,
       t.last_seen AS last_seen, t.lines AS lines
FROM
(
    SELECT if(r.root != '', r.root, n.written_party) AS pid,
           argMaxIf(n.country, n.last_seen, n.country != '') AS importer_country,
           min(n.first_seen) AS first_seen, max(n.last_seen) AS last_seen,
           sum(n.lines) AS lines
    FROM party_names AS n
    GLOBAL LEFT JOIN party_roots AS r ON r.party_id = n.written_party
    WHERE n.role = 'importer'
    GROUP BY pid
) AS t
LEFT JOIN party_display AS d ON d.party_id = t.pid
SETTINGS join_use_nulls = 0;

-- Importers (parties) first seen on or after `since`: importer_first_seen's rows, so the
-- question and the view answer from one definition (the columns are 0018's).
CREATE OR REPLACE VIEW bi_new_importers
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT importer_party_id, importer_name, other_names, importer_country, first_seen,
       last_seen, lines
FROM importer_first_seen
WHERE first_seen >= {since:Date}
ORDER BY first_seen DESC, lines DESC, importer_name;

-- 0020_party_keyed_daily_lines_grant
-- requires: access management
-- The read-only BI role (0009) may read the party-keyed daily_lines and importer_first_seen
-- views (0019). Skipped on the embedded engine, which has no access management.
GRANT SELECT ON daily_lines TO customs_watch_bi;
GRANT SELECT ON importer_first_seen TO customs_watch_bi;

-- 0021_merge_selector_base
-- Issue 16: the tables every sink batch writes merge more parts at once. With the default
-- merge_selector_base (5) a part is merged again each time about five of its size gather,
-- so in a backfill every row is rewritten once per level, log5(rows / rows per insert)
-- times per table; at 20 the levels are fewer. Measured on a 1 000 000-line backfill (two
-- alternated pairs, BENCHMARKS.md session 10): the sink's CPU per 1 000 lines 153.8 and
-- 151.3 at 5, 113.9 and 97.0 at 20; lines/s 3 485 and 3 799 against 4 257 and 4 615. The
-- price: up to about twenty parts of a size wait side by side, so a query may read a few
-- more parts. ClickHouse counts this among its expert settings; these tables only.
ALTER TABLE declarations MODIFY SETTING merge_selector_base = 20;

ALTER TABLE alerts MODIFY SETTING merge_selector_base = 20;

ALTER TABLE sink_batches MODIFY SETTING merge_selector_base = 20;

ALTER TABLE daily_categories MODIFY SETTING merge_selector_base = 20;

ALTER TABLE monthly_category_destination MODIFY SETTING merge_selector_base = 20;

ALTER TABLE daily_party_lines MODIFY SETTING merge_selector_base = 20;

ALTER TABLE party_names MODIFY SETTING merge_selector_base = 20;
