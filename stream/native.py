"""The hot stages compiled by mypyc, used only while they match the sources.

``customs-watch native build`` (``stream/native_build.py``) compiles the stages every line
goes through (``stream/stages``, the name matcher in ``stream/screening``) into extension
modules under ``stream/_compiled/``, beside a manifest holding the SHA-256 of each compiled
module's source and of every module of ours it imports. ``stream.stages`` and
``stream.screening`` put that folder first on their ``__path__`` only when the manifest
still matches the sources and this interpreter: an edited source, another Python, or
``CUSTOMS_WATCH_NATIVE=off`` means the plain Python modules, never stale compiled ones.

An environment variable, not a setting: the packages read it when they are first imported,
before any settings object exists.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ENV = "CUSTOMS_WATCH_NATIVE"
OFF = frozenset({"0", "off", "false", "no"})
ROOT = Path(__file__).resolve().parent.parent
"""The folder holding the ``stream``, ``schemas`` and ``ingest`` packages."""
NATIVE_DIR = ROOT / "stream" / "_compiled"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class NativeState:
    """Whether the compiled modules are used, and why (or why not)."""

    on: bool
    reason: str
    compiled: tuple[str, ...] = ()


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_source(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    package = base / "__init__.py"
    return package if package.is_file() else base.with_suffix(".py")


def read_state(native_dir: Path, root: Path, switch: str | None) -> NativeState:
    """The decision, from the manifest in ``native_dir``, the sources under ``root`` and the
    value of ``CUSTOMS_WATCH_NATIVE``."""
    if switch is not None and switch.strip().lower() in OFF:
        return NativeState(False, f"{ENV}={switch}")
    path = native_dir / MANIFEST
    if not path.is_file():
        return NativeState(False, "not built (customs-watch native build)")
    try:
        manifest = json.loads(path.read_bytes())
        compiled = tuple(manifest["compiled"])
        sources: dict[str, str] = manifest["sources"]
        suffix = manifest["ext_suffix"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return NativeState(False, f"unreadable manifest: {type(exc).__name__}: {exc}")
    if suffix != sysconfig.get_config_var("EXT_SUFFIX"):
        return NativeState(False, f"built for another Python ({suffix})")
    for module, digest in sources.items():
        source = module_source(root, module)
        if not source.is_file() or source_digest(source) != digest:
            return NativeState(False, f"{module} changed since the build")
    return NativeState(True, f"{len(compiled)} modules compiled", compiled)


@functools.cache
def state() -> NativeState:
    """This process's decision, taken once."""
    return read_state(NATIVE_DIR, ROOT, os.environ.get(ENV))


def package_path(package: str, path: list[str]) -> list[str]:
    """``path`` (a package's ``__path__``) with its compiled folder first, when in use."""
    if not state().on:
        return path
    compiled = NATIVE_DIR.joinpath(*package.split(".")[1:])
    return [str(compiled), *path] if compiled.is_dir() else path
