-- Every party's profile, or those `party` names (one row each; `customs-watch party show`
-- passes it): its names and
-- scripts, the written ids merged into it, identifiers, countries, addresses, roles, first
-- and last seen, lines and value per category and month, counterparties (importer <->
-- exporter, with lines and value), routes (origin -> dispatch -> destination), the alert
-- rules its lines raised, the watchlist entities it matched (in its role on the line), and
-- the merges that hold (each merged id with the reason, who and when).
-- Parties resolved through party_merges (view declaration_parties, migration 0016).
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
    )
SELECT p.party_id AS party_id, d.display_name AS display_name, d.names AS names,
       p.written_ids, p.scripts, p.identifiers, p.countries, p.addresses, p.roles,
       p.first_seen, p.last_seen, p.lines, p.value_usd,
       c.by_category, m.by_month, k.counterparties, r.routes, p.alert_rules,
       p.watchlist_entities, g.merges
FROM
(
    SELECT party_id, arraySort(groupUniqArray(written_party)) AS written_ids,
           arraySort(groupUniqArrayIf(multiIf(match(name, '\\p{Cyrillic}'), 'Cyrillic',
               match(name, '\\p{Han}'), 'Han', match(name, '\\p{Arabic}'), 'Arabic',
               'Latin'), name != '')) AS scripts,
           arraySort(groupUniqArrayIf(identifier, identifier != '')) AS identifiers,
           arraySort(groupUniqArrayIf(country, country != '')) AS countries,
           arraySort(groupUniqArrayIf(address, address != '')) AS addresses,
           arraySort(groupUniqArray(role)) AS roles,
           min(declared_at) AS first_seen, max(declared_at) AS last_seen,
           uniqExact(source, declaration_id, line_no) AS lines, round(sum(value_usd)) AS value_usd,
           arraySort(groupUniqArrayArray(alert_rules)) AS alert_rules,
           arraySort(groupUniqArrayArray(arrayMap(h -> JSONExtractString(h, 'entity_id'),
               arrayFilter(h -> JSONExtractString(h, 'role') = role
                   AND JSONExtractString(h, 'party_name') = name,
                   JSONExtractArrayRaw(screening_hits))))) AS watchlist_entities
    FROM declaration_parties
    WHERE declared_at >= {since:Date}
          AND ({party:String} = '' OR party_id IN (SELECT pid FROM chosen))
    GROUP BY party_id
) AS p
LEFT JOIN party_display AS d ON d.party_id = p.party_id
LEFT JOIN
(
    SELECT party_id, arraySort(groupArray((category, lines, value_usd))) AS by_category
    FROM
    (
        SELECT party_id, arrayJoin(categories) AS category, uniqExact(source, declaration_id, line_no) AS lines,
               round(sum(value_usd)) AS value_usd
        FROM declaration_parties
        WHERE declared_at >= {since:Date}
          AND ({party:String} = '' OR party_id IN (SELECT pid FROM chosen))
        GROUP BY party_id, category
    )
    GROUP BY party_id
) AS c ON c.party_id = p.party_id
LEFT JOIN
(
    SELECT party_id, arraySort(groupArray((month, lines, value_usd))) AS by_month
    FROM
    (
        SELECT party_id, toStartOfMonth(declared_at) AS month, uniqExact(source, declaration_id, line_no) AS lines,
               round(sum(value_usd)) AS value_usd
        FROM declaration_parties
        WHERE declared_at >= {since:Date}
          AND ({party:String} = '' OR party_id IN (SELECT pid FROM chosen))
        GROUP BY party_id, month
    )
    GROUP BY party_id
) AS m ON m.party_id = p.party_id
LEFT JOIN
(
    SELECT party_id, arrayReverseSort(x -> tupleElement(x, 4),
               groupArray((counterparty, role, name, lines, value_usd))) AS counterparties
    FROM
    (
        SELECT a.party_id AS party_id, b.party_id AS counterparty, b.role AS role,
               any(b.name) AS name, uniqExact(source, declaration_id, line_no) AS lines, round(sum(a.value_usd)) AS value_usd
        FROM declaration_parties AS a
        INNER JOIN declaration_parties AS b
            ON a.source = b.source AND a.declaration_id = b.declaration_id
               AND a.line_no = b.line_no
        WHERE a.declared_at >= {since:Date}
          AND ({party:String} = '' OR a.party_id IN (SELECT pid FROM chosen))
          AND a.role IN ('importer', 'exporter')
          AND b.role IN ('importer', 'exporter') AND a.role != b.role
        GROUP BY party_id, counterparty, role
    )
    GROUP BY party_id
) AS k ON k.party_id = p.party_id
LEFT JOIN
(
    SELECT party_id, arrayReverseSort(x -> tupleElement(x, 4),
               groupArray((origin, dispatch, destination, lines))) AS routes
    FROM
    (
        SELECT party_id, ifNull(origin_country, '') AS origin,
               ifNull(dispatch_country, '') AS dispatch,
               ifNull(destination_country, '') AS destination, uniqExact(source, declaration_id, line_no) AS lines
        FROM declaration_parties
        WHERE declared_at >= {since:Date}
          AND ({party:String} = '' OR party_id IN (SELECT pid FROM chosen))
        GROUP BY party_id, origin, dispatch, destination
    )
    GROUP BY party_id
) AS r ON r.party_id = p.party_id
LEFT JOIN
(
    SELECT t.root AS party_id,
           groupArray((e.from_party, e.reason, e.by, e.merged_at)) AS merges
    FROM
    (
        SELECT from_party, argMax(reason, (at, event_id)) AS reason,
               argMax(by, (at, event_id)) AS by, max(at) AS merged_at
        FROM party_merges FINAL
        GROUP BY from_party
    ) AS e
    INNER JOIN party_roots AS t ON t.party_id = e.from_party
    GROUP BY party_id
) AS g ON g.party_id = p.party_id
ORDER BY p.lines DESC, p.party_id
