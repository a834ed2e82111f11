"""``customs-watch native build``: compile the hot stages with mypyc (see ``stream/native.py``).

Needs mypy (which brings mypyc), setuptools and a C compiler with the Python headers: the
``dev`` and ``native`` extras and Debian's ``gcc``. The code is the same typed Python that
``mypy --strict`` checks; compiled, the worker's stages cost 10–35 % less CPU in-process,
the workers ~9 % less in the two-worker pipeline (BENCHMARKS.md, session 9).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from stream.native import MANIFEST, NATIVE_DIR, ROOT, module_source, source_digest

COMPILED_PACKAGES = ("stream.stages",)
"""Every module of these packages but ``__init__`` is compiled ..."""
COMPILED_MODULES = (
    "stream.screening.homoglyphs",
    "stream.screening.matcher",
    "stream.screening.names",
)
"""... and these: the name matcher. The rest of ``stream.screening`` reads files and builds
pydantic models, which mypyc gains nothing on; the index stays plain too: compiled, building
a 1 000 000-name index left ~125 MiB more resident (BENCHMARKS.md, session 9)."""
MYPY_CONFIG = "[mypy]\nplugins = pydantic.mypy\nignore_missing_imports = True\n"
"""mypy settings of the build's own, not the project's: an installed package has no
pyproject.toml, and ``mypy --strict`` (``make check``) has already checked these sources.
pydantic's plugin types the models' constructors as the project's settings do."""
GROUP = "stream.stages.native"
"""mypyc's shared library for all of them, ``stream/_compiled/stages/native__mypyc*``."""
OURS = ("stream", "schemas", "ingest")
"""Our packages: copied for the build, and whose modules the manifest holds digests of."""


def compiled_modules(root: Path = ROOT) -> list[str]:
    modules = list(COMPILED_MODULES)
    for package in COMPILED_PACKAGES:
        folder = root.joinpath(*package.split("."))
        stems = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
        modules += [f"{package}.{stem}" for stem in stems]
    return sorted(modules)


def imported_closure(modules: list[str]) -> list[str]:
    """The modules of ours that importing ``modules`` loads (plain Python, in a child
    process): a compiled module is valid only while none of them changed."""
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print('\\n'.join(sorted(n for n in sys.modules if n.split('.')[0] in {OURS!r})))\n"
    )
    env = {**os.environ, "CUSTOMS_WATCH_NATIVE": "off"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing the modules to compile failed:\n{done.stderr}")
    return [m for m in done.stdout.split() if module_source(ROOT, m).is_file()]


def _not_source(folder: str, names: list[str]) -> set[str]:
    return {
        n
        for n in names
        if n in ("__pycache__", "_compiled", "_compiled.new", "_compiled.old")
        or not (n.endswith(".py") or Path(folder, n).is_dir())
    }


def _compile(modules: list[str], work: Path, log: Path) -> Path:
    """Run mypyc and the C compiler in a child process (their output goes to ``log``);
    the extension modules land under the returned folder, in package layout."""
    # a copy of our packages' sources: compiled in place, mypy would take an installed
    # package's site-packages for a source folder and refuse the modules beside it
    src = work / "src"
    for package in OURS:
        shutil.copytree(ROOT / package, src / package, ignore=_not_source)
    files = [str(module_source(src, m)) for m in modules]
    out = work / "lib"
    script = (
        "import sys\n"
        "from setuptools import setup\n"
        "from mypyc.build import mypycify\n"
        f"ext = mypycify({['--config-file', 'mypy.ini', *files]!r},"
        f" opt_level='3', group_name={GROUP!r}, target_dir='c')\n"
        "setup(name='customs-watch-native', ext_modules=ext, script_args=["
        f"'build_ext', '--build-lib', {str(out)!r}, '--build-temp', 'tmp', '-j', "
        f"'{max(1, os.cpu_count() or 1)}'])\n"
    )
    (work / "mypy.ini").write_text(MYPY_CONFIG)
    # the work folder is the current one: setuptools must not read the project's pyproject
    with log.open("w") as sink:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=work, stdout=sink, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError("mypyc or the C compiler failed:\n" + "\n".join(tail))
    return out / "stream"


def build(native_dir: Path = NATIVE_DIR) -> dict[str, object]:
    """Compile, then swap the new folder in whole; returns the manifest written."""
    modules = compiled_modules()
    sources = {m: source_digest(module_source(ROOT, m)) for m in imported_closure(modules)}
    with tempfile.TemporaryDirectory(prefix="customs-watch-native-") as tmp:
        work = Path(tmp)
        built = _compile(modules, work, work / "build.log")
        changed = [m for m, d in sources.items() if source_digest(module_source(ROOT, m)) != d]
        if changed:
            raise RuntimeError("sources changed during the build: " + ", ".join(changed))
        staged = native_dir.with_name(native_dir.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        for package_dir in sorted(p for p in built.rglob("*") if p.is_dir()):
            target = staged / package_dir.relative_to(built)
            target.mkdir(parents=True, exist_ok=True)
            for ext in package_dir.glob("*" + str(sysconfig.get_config_var("EXT_SUFFIX"))):
                shutil.copy2(ext, target / ext.name)
    manifest: dict[str, object] = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "compiled": modules,
        "sources": sources,
    }
    (staged / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    old = native_dir.with_name(native_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if native_dir.exists():
        native_dir.rename(old)
    staged.rename(native_dir)
    shutil.rmtree(old, ignore_errors=True)
    return manifest
