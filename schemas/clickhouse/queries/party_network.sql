-- Parties within two hops of a listed party (one whose lines matched a watchlist entry in
-- that role): linked by trading with it (importer <-> exporter on one line), by a shared
-- identifier or a shared address, or through one party in between; `via` names the edges
-- ("buys from X, which sells to": both bought from X).
-- With `party`, only the rows where it is the listed party or the one reached.
-- The shell-company pattern around a listed party. Parties are resolved through merges
-- (declaration_parties, migration 0016).
WITH
    -- the parties `party` names: an id (its own or one merged into it), else a written name
    -- (any case), else a part of one; '' is every party
    wanted AS
    (
        SELECT if(r.root != '', r.root, n.written_party) AS pid,
               n.written_party = {party:String} OR r.root = {party:String}
                   OR lowerUTF8(n.name) = lowerUTF8({party:String}) AS exact
        FROM party_names AS n
        GLOBAL LEFT JOIN party_roots AS r ON r.party_id = n.written_party
        WHERE {party:String} != ''
          AND (exact OR positionCaseInsensitiveUTF8(n.name, {party:String}) > 0)
        SETTINGS join_use_nulls = 0
    ),
    chosen AS
    (
        SELECT DISTINCT pid FROM wanted
        WHERE exact OR (SELECT count() FROM wanted WHERE exact) = 0
    ),
    lines AS
    (
        SELECT source, declaration_id, line_no, role, party_id, identifier, address,
               screening_hits
        FROM declaration_parties
        WHERE declared_at >= {since:Date}
    ),
    keyed AS
    (
        SELECT DISTINCT party_id,
               concat('identifier ', replaceRegexpAll(upperUTF8(identifier), '[^0-9A-Z]', ''))
                   AS link
        FROM lines
        WHERE replaceRegexpAll(upperUTF8(identifier), '[^0-9A-Z]', '') != ''
        UNION ALL
        SELECT DISTINCT party_id,
               concat('address ', trimBoth(replaceRegexpAll(lowerUTF8(address),
                   '[^\\p{L}\\p{N}]+', ' '))) AS link
        FROM lines
        WHERE address != ''
    ),
    edges AS
    (
        SELECT a.party_id AS a, b.party_id AS b,
               if(a.role = 'importer', 'buys from', 'sells to') AS link
        FROM lines AS a
        INNER JOIN lines AS b ON a.source = b.source AND a.declaration_id = b.declaration_id
            AND a.line_no = b.line_no
        WHERE a.role IN ('importer', 'exporter') AND b.role IN ('importer', 'exporter')
          AND a.role != b.role AND a.party_id != b.party_id
        GROUP BY a, b, link
        UNION ALL
        SELECT x.party_id AS a, y.party_id AS b, concat('shares ', x.link) AS link
        FROM keyed AS x
        INNER JOIN keyed AS y ON x.link = y.link
        WHERE x.party_id != y.party_id
    ),
    listed AS
    (
        SELECT party_id, arraySort(groupUniqArray(JSONExtractString(hit, 'entity_id')))
                   AS entities
        FROM lines
        ARRAY JOIN JSONExtractArrayRaw(screening_hits) AS hit
        WHERE JSONExtractString(hit, 'role') = role
        GROUP BY party_id
    ),
    reached AS
    (
        SELECT s.party_id AS listed_party, e.b AS party_id, 1 AS hops, e.link AS via
        FROM listed AS s
        INNER JOIN edges AS e ON e.a = s.party_id
        UNION ALL
        SELECT s.party_id AS listed_party, e2.b AS party_id, 2 AS hops,
               concat(e1.link, ' ', if(mid.display_name != '', mid.display_name, e1.b),
                      ', which ', e2.link) AS via
        FROM listed AS s
        INNER JOIN edges AS e1 ON e1.a = s.party_id
        INNER JOIN edges AS e2 ON e2.a = e1.b
        LEFT JOIN party_display AS mid ON mid.party_id = e1.b
        WHERE e2.b != s.party_id
    )
SELECT r.listed_party, ld.display_name AS listed_name, l.entities AS listed_entities,
       r.party_id AS party_id, pd.display_name AS party_name, r.fewest AS hops, r.path AS via
FROM
(
    SELECT listed_party, party_id, min(hops) AS fewest, argMin(via, (hops, via)) AS path
    FROM reached
    GROUP BY listed_party, party_id
) AS r
INNER JOIN listed AS l ON l.party_id = r.listed_party
LEFT JOIN party_display AS ld ON ld.party_id = r.listed_party
LEFT JOIN party_display AS pd ON pd.party_id = r.party_id
WHERE {party:String} = '' OR r.listed_party IN (SELECT pid FROM chosen)
   OR r.party_id IN (SELECT pid FROM chosen)
ORDER BY r.listed_party, hops, r.party_id
LIMIT 1000
