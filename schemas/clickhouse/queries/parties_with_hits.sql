-- Parties on declaration lines that matched a watchlist entry, with the best score.
-- The view bi_parties_with_hits; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_parties_with_hits(since = {since:Date})
