"""Migration files: the order they apply in, and how a file is cut into statements."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.errors import WarehouseRejected
from stream.warehouse.migrations import _statements, migration_files


def write(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("SELECT 1;\n")


def test_files_apply_by_number_and_other_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "0010_views.sql", "0002_alerts.sql", "0001_base.sql", "notes.sql")
    (tmp_path / "queries").mkdir()
    write(tmp_path / "queries", "0003_not_a_migration.sql")
    assert [p.name for p in migration_files(tmp_path)] == [
        "0001_base.sql",
        "0002_alerts.sql",
        "0010_views.sql",
    ]


def test_two_files_with_one_number_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "0001_base.sql", "0007_views.sql", "0007_roles.sql")
    with pytest.raises(WarehouseRejected, match="share a number: 0007"):
        migration_files(tmp_path)


def test_the_shipped_migrations_are_numbered_without_gaps() -> None:
    numbers = [int(p.name[:4]) for p in migration_files()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_statements_split_at_line_ends_and_drop_comment_only_pieces() -> None:
    sql = (
        "-- a table\nCREATE TABLE a (x String DEFAULT ';')\nENGINE = Memory;\n"
        "-- only a comment;\n\nCREATE VIEW v AS SELECT 1;\n-- trailing\n"
    )
    assert _statements(sql) == [
        "-- a table\nCREATE TABLE a (x String DEFAULT ';')\nENGINE = Memory",
        "\nCREATE VIEW v AS SELECT 1",
    ]
