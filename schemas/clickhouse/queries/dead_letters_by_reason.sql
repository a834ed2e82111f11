-- Dead letters per stage and reason: what is failing, since when.
-- The view bi_dead_letters_by_reason; its SQL is in schemas/clickhouse/0008_bi_views.sql.
SELECT * FROM bi_dead_letters_by_reason(since = {since:Date})
