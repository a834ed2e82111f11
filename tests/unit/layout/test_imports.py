"""The arrows between folders run one way (docs/architecture.md).

Reads every module's imports with ``ast`` (no import is executed) and checks: ``schemas``
imports nothing of ours, ``ingest`` nothing of ``stream``, and no two subpackages import
each other, directly or around a longer loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("schemas", "ingest", "stream")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterator[str]:
    """Every module of ours that ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield name


def unit_of(module: str) -> str:
    """The folder a module belongs to: ``stream.sink.service`` → ``stream.sink``; a module
    at a package's top (``stream.errors``) is a unit of its own."""
    return ".".join(module.split(".")[:2])


def existing_units() -> set[str]:
    units = set()
    for package in PACKAGES:
        for path in (ROOT / package).iterdir():
            if path.is_dir() and (path / "__init__.py").exists():
                units.add(f"{package}.{path.name}")
            elif path.suffix == ".py" and path.name != "__init__.py":
                units.add(f"{package}.{path.stem}")
    return units


def edges() -> dict[str, set[str]]:
    """Unit → the units it imports (names that are not units, e.g. ``from schemas import
    SCHEMAS_DIR`` resolved to ``schemas.SCHEMAS_DIR``, count as the package itself)."""
    units = existing_units()
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = unit_of(module_name(path))
            for name in imported_modules(path):
                target = unit_of(name)
                if target not in units:
                    target = name.split(".")[0]
                if target != source and target != source.split(".")[0]:
                    graph.setdefault(source, set()).add(target)
    return graph


def package_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (source.split(".")[0], target.split(".")[0])
        for source, targets in graph.items()
        for target in targets
        if source.split(".")[0] != target.split(".")[0]
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Loops in the graph, each once (depth-first search from every node)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                loop = trail[trail.index(nxt) :]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    found.append([*loop, nxt])
            elif len(trail) < 12:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_import_reader_sees_real_edges() -> None:
    graph = edges()
    assert "stream.sink" in graph["stream.worker"]
    assert "ingest.formats" in graph["stream.stages"]
    assert "schemas" in graph["ingest.connectors"] or any(
        t.startswith("schemas") for t in graph["ingest.connectors"]
    )


def test_schemas_imports_nothing_of_ingest_or_stream() -> None:
    assert {e for e in package_edges(edges()) if e[0] == "schemas"} == set()


def test_ingest_imports_nothing_of_stream() -> None:
    offenders = {
        f"{source} -> {target}"
        for source, targets in edges().items()
        if source.startswith("ingest")
        for target in targets
        if target.startswith("stream")
    }
    assert offenders == set()


def test_no_import_cycle_between_folders() -> None:
    assert cycles(edges()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c", "a"]]),
        ({"a": {"b"}, "b": {"c"}}, []),
    ],
)
def test_the_cycle_finder_finds_loops(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(graph) == expected
