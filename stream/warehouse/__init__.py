"""ClickHouse: the client and its error mapping, rows, migrations, named queries, and who
owns the embedded data directory."""
