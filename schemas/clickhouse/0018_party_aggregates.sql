-- Issue 17: the daily aggregates and the first-seen table keyed by party. Each row keeps
-- the written party's own id (declarations.<role>_party_id; a line landed before 0016 has
-- none, and its name and country stand in as name:NAME:COUNTRY, as in declaration_parties);
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
