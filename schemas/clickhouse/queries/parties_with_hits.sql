-- Parties on declaration lines that matched a watchlist entry, with the best score and how
-- many lines they appear on.
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
WHERE notEmpty(screened_entity_ids)
GROUP BY role, party, entity_id, dataset
ORDER BY lines DESC, party, entity_id
LIMIT 100
