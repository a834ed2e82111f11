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

-- When each importer party was first and last seen, on how many lines, under which names;
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
