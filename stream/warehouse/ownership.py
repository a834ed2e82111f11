"""Who owns the embedded ClickHouse data directory.

The embedded engine (chdb) lets one process open a data directory at a time. The process
running the sink (a worker, or ``customs-watch sink``) owns it and writes
``<dir>.owner.json`` (its PID and web address); the CLI reads the file and sends read-only
named queries to that process instead of opening the directory.
With no live owner, the CLI opens the directory itself. A ClickHouse server DSN has no
owner: every process connects directly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from stream.errors import WarehouseLocked


@dataclass(frozen=True, slots=True)
class Owner:
    pid: int
    url: str


def owner_file(data_dir: Path) -> Path:
    resolved = data_dir.resolve()
    return resolved.with_name(resolved.name + ".owner.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_owner(data_dir: Path) -> Owner | None:
    path = owner_file(data_dir)
    try:
        data = json.loads(path.read_text())
        owner = Owner(pid=int(data["pid"]), url=str(data["url"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return owner if _alive(owner.pid) and owner.pid != os.getpid() else None


def claim(data_dir: Path, url: str) -> None:
    """Record this process as the owner; refuse when another live process owns the directory."""
    other = current_owner(data_dir)
    if other is not None:
        raise WarehouseLocked(
            f"{data_dir} is owned by worker pid {other.pid} ({other.url}); stop it first or "
            "point CUSTOMS_WATCH_CLICKHOUSE_DSN at another directory"
        )
    path = owner_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "url": url}))
    tmp.replace(path)


def release(data_dir: Path) -> None:
    path = owner_file(data_dir)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if data.get("pid") == os.getpid():
        path.unlink(missing_ok=True)
