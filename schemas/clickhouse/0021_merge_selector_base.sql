-- Issue 16: the tables every sink batch writes merge more parts at once. With the default
-- merge_selector_base (5) a part is merged again each time about five of its size gather,
-- so in a backfill every row is rewritten once per level, log5(rows / rows per insert)
-- times per table; at 20 the levels are fewer. Measured on a 1 000 000-line backfill (two
-- alternated pairs, BENCHMARKS.md session 10): the sink's CPU per 1 000 lines 153.8 and
-- 151.3 at 5, 113.9 and 97.0 at 20; lines/s 3 485 and 3 799 against 4 257 and 4 615. The
-- price: up to about twenty parts of a size wait side by side, so a query may read a few
-- more parts. ClickHouse counts this among its expert settings; these tables only.
ALTER TABLE declarations MODIFY SETTING merge_selector_base = 20;

ALTER TABLE alerts MODIFY SETTING merge_selector_base = 20;

ALTER TABLE sink_batches MODIFY SETTING merge_selector_base = 20;

ALTER TABLE daily_categories MODIFY SETTING merge_selector_base = 20;

ALTER TABLE monthly_category_destination MODIFY SETTING merge_selector_base = 20;

ALTER TABLE daily_party_lines MODIFY SETTING merge_selector_base = 20;

ALTER TABLE party_names MODIFY SETTING merge_selector_base = 20;
