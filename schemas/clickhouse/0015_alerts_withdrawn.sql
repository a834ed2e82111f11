-- Issue 16: the stateful rules are restated from sums and counts after every batch, so the
-- alerts standing at the end do not depend on the order lines arrived in. A version whose
-- condition no longer holds (earlier lines arrived late) is stored withdrawn; the latest
-- version decides. Counting views and queries leave withdrawn alerts out.
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS withdrawn Bool DEFAULT false
    COMMENT 'the latest version no longer holds: earlier lines arrived late';

CREATE OR REPLACE VIEW bi_alerts_by_day
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT toDate(first_seen) AS day, rule, severity, count() AS alerts, sum(line_count) AS lines
FROM alerts FINAL
WHERE toDate(first_seen) >= {since:Date} AND NOT withdrawn
GROUP BY day, rule, severity
ORDER BY day, rule, severity;
