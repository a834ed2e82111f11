-- requires: access management
-- The read-only BI role (0009) may read the outcomes per rule (0013). Skipped on the
-- embedded engine, which has no access management.
GRANT SELECT ON bi_rule_outcomes TO customs_watch_bi;
