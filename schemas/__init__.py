"""Record models, topic JSON Schemas, ClickHouse DDL, rule data and settings for customs-watch.

Depends on nothing in ``ingest`` or ``stream``.
"""

from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent
"""The package folder: DDL (``clickhouse/``), JSON Schemas, rules and mappings live here."""
