"""Record models, topic JSON Schemas, ClickHouse DDL, rule data and settings for customs-watch.

Depends on nothing in ``ingest`` or ``stream``.
"""
