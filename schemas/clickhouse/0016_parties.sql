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
