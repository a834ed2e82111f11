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
