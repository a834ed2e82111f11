"""docs/architecture.md names every folder of the packages, and only folders that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "architecture.md"


def package_folders() -> set[str]:
    return {
        f"{path.relative_to(ROOT).as_posix()}/"
        for package in ("ingest", "stream")
        for path in (ROOT / package).iterdir()
        if path.is_dir() and (path / "__init__.py").exists()
    }


def documented_rows() -> set[str]:
    return set(re.findall(r"^\| `([a-z_/]+/)` \|", DOC.read_text(encoding="utf-8"), re.M))


def test_every_subpackage_has_its_line() -> None:
    assert package_folders() - documented_rows() == set()


def test_every_documented_folder_exists() -> None:
    assert {row for row in documented_rows() if not (ROOT / row).is_dir()} == set()


def test_every_file_the_doc_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:ingest|stream|schemas)/[a-z_/]+\.py)`", text))
    assert named, "the doc names files"
    assert {path for path in named if not (ROOT / path).exists()} == set()


def allowed_by_doc() -> dict[str, list[str]]:
    """Folder row → the module prefixes its "may import" cell allows (``everything``: none
    listed, no check)."""
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`") or "everything" in cells[2]:
            continue
        names = re.findall(r"`([^`]+)`", cells[2])
        rows[cells[0].strip("`")] = [
            name.removesuffix(".py").replace("/", ".") if name.endswith(".py") else name
            for name in names
        ]
    return rows


def units_of_row(row: str, units: set[str]) -> set[str]:
    if row.endswith("*.py"):
        package = row.split("/")[0]
        return {
            u
            for u in units
            if u.startswith(f"{package}.") and (ROOT / f"{u.replace('.', '/')}.py").exists()
        }
    return {row.rstrip("/").replace("/", ".")}


def test_every_import_is_one_the_doc_allows() -> None:
    from tests.unit.layout.test_imports import edges, existing_units

    graph, units = edges(), existing_units()
    wrong = []
    for row, allowed in allowed_by_doc().items():
        for unit in units_of_row(row, units):
            for target in graph.get(unit, ()):
                same_row = target in units_of_row(row, units)
                if not same_row and not any(
                    target == a or target.startswith(f"{a}.") for a in allowed
                ):
                    wrong.append(f"{unit} -> {target} (row {row})")
    assert wrong == []
