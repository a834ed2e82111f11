-- Top importers of battlefield goods (body armour, helmets, armour ceramics, UAVs, thermal,
-- night vision, weapon optics, firearms) by declared value in USD.
-- The view bi_top_importers_battlefield (one row per party); its SQL is in
-- schemas/clickhouse/0018_party_aggregates.sql.
SELECT * FROM bi_top_importers_battlefield(since = {since:Date})
