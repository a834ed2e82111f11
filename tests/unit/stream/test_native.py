"""The compiled stages: used only while they match the sources, and equal to plain Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from stream.native import ENV, MANIFEST, NATIVE_DIR, ROOT, read_state, source_digest

SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


def built(tmp_path: Path, sources: dict[str, str], suffix: str = SUFFIX) -> tuple[Path, Path]:
    """A source tree with ``sources`` (module -> text) and a manifest matching it."""
    root, native = tmp_path / "root", tmp_path / "native"
    digests = {}
    for module, text in sources.items():
        path = root.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        digests[module] = source_digest(path)
    native.mkdir()
    manifest = {"ext_suffix": suffix, "compiled": ["pkg.fast"], "sources": digests}
    (native / MANIFEST).write_text(json.dumps(manifest))
    return native, root


def test_a_build_matching_the_sources_is_used(tmp_path: Path) -> None:
    native, root = built(tmp_path, {"pkg.fast": "x = 1\n", "pkg.model": "y = 2\n"})
    state = read_state(native, root, None)
    assert state.on and state.compiled == ("pkg.fast",)


@pytest.mark.parametrize("edited", ["pkg.fast", "pkg.model"])
def test_an_edited_source_or_a_module_it_imports_means_plain_python(
    tmp_path: Path, edited: str
) -> None:
    native, root = built(tmp_path, {"pkg.fast": "x = 1\n", "pkg.model": "y = 2\n"})
    root.joinpath(*edited.split(".")).with_suffix(".py").write_text("changed = True\n")
    state = read_state(native, root, None)
    assert not state.on and state.reason == f"{edited} changed since the build"


def test_a_removed_source_means_plain_python(tmp_path: Path) -> None:
    native, root = built(tmp_path, {"pkg.fast": "x = 1\n", "pkg.model": "y = 2\n"})
    (root / "pkg" / "model.py").unlink()
    assert not read_state(native, root, None).on


def test_a_build_for_another_python_is_not_used(tmp_path: Path) -> None:
    native, root = built(tmp_path, {"pkg.fast": "x = 1\n"}, suffix=".cpython-399-x.so")
    state = read_state(native, root, None)
    assert not state.on and "another Python" in state.reason


def test_no_build_or_an_unreadable_manifest_means_plain_python(tmp_path: Path) -> None:
    assert read_state(tmp_path, tmp_path, None).reason.startswith("not built")
    (tmp_path / MANIFEST).write_text("{not json")
    assert read_state(tmp_path, tmp_path, None).reason.startswith("unreadable manifest")


@pytest.mark.parametrize("switch", ["off", "0", "OFF", "no"])
def test_the_switch_turns_a_valid_build_off(tmp_path: Path, switch: str) -> None:
    native, root = built(tmp_path, {"pkg.fast": "x = 1\n"})
    assert read_state(native, root, "on").on
    assert not read_state(native, root, switch).on


def _run(code: list[str], native: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if native is not None:
        env[ENV] = native
    done = subprocess.run(
        [sys.executable, *code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_built_stages_are_in_use_and_give_what_plain_python_gives() -> None:
    """``make test`` builds them first (``make native``); this checks that the suite ran
    against them, and that parse, enrich, facts, flows and both stateful agents produce
    byte-identical messages compiled and as plain Python on the benchmark feed."""
    where = [
        "-c",
        "import stream.stages.enrich as e, stream.screening.matcher as m\n"
        "print(e.__file__); print(m.__file__)",
    ]
    compiled = _run(where, None).split()
    assert all(f.startswith(str(NATIVE_DIR)) and f.endswith(SUFFIX) for f in compiled), (
        f"the compiled stages are not in use ({compiled}): run `make native`"
    )
    plain = _run(where, "off").split()
    assert all(f.endswith(".py") for f in plain)
    digest = ["-m", "bench.worker_cpu", "--lines", "6000", "--digest"]
    messages = [_run(digest, None), _run(digest, "off")]
    tables = [[x for x in out.splitlines() if x.startswith("  ")] for out in messages]
    assert len(tables[0]) == 7 and tables[0] == tables[1]
