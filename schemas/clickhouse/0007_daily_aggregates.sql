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
