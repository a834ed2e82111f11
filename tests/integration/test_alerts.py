"""The seeded scenario through the real broker, a worker restarted halfway, and watchers."""

from __future__ import annotations

import csv
import io
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest

from ingest.broker.reader import read_to_end
from ingest.seeds import FIRST_HALF, seed_lines
from schemas.alert import Alert
from stream.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from stream.warehouse.queries import via_worker
from tests.services import Pipeline

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples"


def write_lines(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return path


def grouped(pipe: Pipeline) -> dict[tuple[str, str], set[str]]:
    """(rule, first line of the alert) -> every line the alert groups, from ClickHouse."""
    url = f"http://127.0.0.1:{pipe.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    rows = via_worker(url, "alert_lines").as_dicts()
    by_alert: dict[str, set[str]] = defaultdict(set)
    rules: dict[str, str] = {}
    for row in rows:
        by_alert[row["alert_id"]].add(row["declaration_id"])
        rules[row["alert_id"]] = row["rule"]
    return {(rules[a], min(lines)): lines for a, lines in by_alert.items()}


class Receiver(HTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[tuple[dict[str, str], bytes]] = []


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_seeded_feed_raises_exactly_the_expected_alerts_across_a_restart(
    pipeline: Pipeline, tmp_path: Path, receiver: Receiver
) -> None:
    pipeline.cli("watchlist", "load", str(SAMPLES / "watchlist_demo.csv"), "--dataset", "demo")
    lines = seed_lines()
    first = write_lines(tmp_path / "first.jsonl", lines[:FIRST_HALF])
    second = write_lines(tmp_path / "second.jsonl", lines[FIRST_HALF:])

    worker = pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(first))
    pipeline.cli("wait", "--timeout", "120")
    assert pipeline.stop_worker(worker) == 0, pipeline.worker_logs()
    pipeline.start_worker()
    pipeline.cli("ingest", "jsonl", str(second))
    pipeline.cli("wait", "--timeout", "120")

    settings = pipeline.settings
    on_topic = [
        Alert.model_validate_json(r.value) for r in read_to_end(settings, settings.topics.alerts)
    ]
    ids = [a.alert_id for a in on_topic]
    assert len(ids) == len(set(ids)), "an alert was published twice"
    actual = grouped(pipeline)
    # (rule, first line) -> every line grouped in that alert; see ingest/seeds.py
    assert actual == {
        # vests and helmets to a new importer: per category and month
        ("battlefield_goods_to_high_risk", "SEED-0001"): {"SEED-0001", "SEED-0003"},
        ("battlefield_goods_to_high_risk", "SEED-0002"): {"SEED-0002", "SEED-0004"},
        ("battlefield_goods_to_high_risk", "SEED-0005"): {"SEED-0005", "SEED-0007"},
        ("battlefield_goods_to_high_risk", "SEED-0006"): {"SEED-0006"},
        ("battlefield_goods_to_high_risk", "SEED-0022"): {"SEED-0022"},
        ("misdeclaration", "SEED-0007"): {"SEED-0007"},  # "airsoft" vest under 9506
        # drones through the listed Hong Kong trader, to Pozitron
        ("battlefield_goods_to_high_risk", "SEED-0008"): {"SEED-0008"},
        ("battlefield_goods_to_high_risk", "SEED-0023"): {"SEED-0023"},
        ("sanctioned_party", "SEED-0008"): {"SEED-0008"},
        ("sanctioned_party", "SEED-0023"): {"SEED-0023"},
        # thermal sights
        ("battlefield_goods_to_high_risk", "SEED-0009"): {"SEED-0009"},
        ("chpl_to_high_risk", "SEED-0009"): {"SEED-0009"},
        # armour ceramics: +69 % to Russia from Q1 to Q2 (Ukraine falls: no alert)
        ("battlefield_goods_to_high_risk", "SEED-0010"): {"SEED-0010"},
        ("battlefield_goods_to_high_risk", "SEED-0024"): {"SEED-0024"},
        ("flow_surge", "SEED-0024"): {"SEED-0024"},
        # US chips through Türkiye, the UAE and Hong Kong to a listed importer
        ("chpl_to_high_risk", "SEED-0012"): {"SEED-0012"},
        ("transshipment", "SEED-0012"): {"SEED-0012"},
        ("sanctioned_party", "SEED-0012"): {"SEED-0012"},
        ("chpl_to_high_risk", "SEED-0026"): {"SEED-0026", "SEED-0027"},
        ("transshipment", "SEED-0026"): {"SEED-0026", "SEED-0027"},
        ("sanctioned_party", "SEED-0026"): {"SEED-0026", "SEED-0027"},
        ("sanctioned_party", "SEED-0027"): {"SEED-0027"},  # its exporter is listed too
        ("flow_surge", "SEED-0026"): {"SEED-0026"},  # microelectronics to RU, Q2 over Q1
        # the listed importer written three ways, before and after the restart: one alert each
        ("chpl_to_high_risk", "SEED-0013"): {"SEED-0013", "SEED-0028", "SEED-0029"},
        ("transshipment", "SEED-0013"): {"SEED-0013", "SEED-0028", "SEED-0029"},
        ("sanctioned_party", "SEED-0013"): {"SEED-0013", "SEED-0028", "SEED-0029"},
        # Pozitron: drones in March (10x its months of laptops), chips in April (400x)
        ("importer_surge", "SEED-0008"): {"SEED-0008"},
        ("importer_surge", "SEED-0023"): {"SEED-0023", "SEED-0030"},  # first, largest
        ("chpl_to_high_risk", "SEED-0030"): {"SEED-0030"},
        ("transshipment", "SEED-0030"): {"SEED-0030"},
        # every importer here is first seen after 2022-02-24: one alert per importer
        ("new_importer_chpl", "SEED-0001"): {f"SEED-{n:04d}" for n in (1, 2, 3, 4, 5, 6, 7, 22)},
        ("new_importer_chpl", "SEED-0008"): {"SEED-0008", "SEED-0023", "SEED-0030"},
        ("new_importer_chpl", "SEED-0009"): {"SEED-0009"},
        ("new_importer_chpl", "SEED-0010"): {"SEED-0010", "SEED-0024"},
        ("new_importer_chpl", "SEED-0012"): {"SEED-0012", "SEED-0026", "SEED-0027"},
        ("new_importer_chpl", "SEED-0013"): {"SEED-0013", "SEED-0028", "SEED-0029"},
    }
    assert set(ids) == set(via_worker_ids(pipeline))
    controls = {"SEED-0011", "SEED-0020", "SEED-0021", "SEED-0025", "SEED-0031"}
    assert not controls & {line for lines in actual.values() for line in lines}

    # the BI question of the seeds, answered by a named query through the worker
    flows = pipeline.cli(
        "query", "category_flow_change", "--since", "2024-01-01", "--format", "csv"
    )
    changes = {
        (row["category"], row["destination_country"], row["quarter"]): (
            float(row["value_usd"]),
            float(row["previous_usd"]),
            float(row["change_pct"]),
        )
        for row in csv.DictReader(io.StringIO(flows.stdout))
        if row["change_pct"]
    }
    assert changes[("armor_ceramics", "RU", "2024-04-01")] == (203000, 120000, 69.2)
    assert changes[("armor_ceramics", "UA", "2024-04-01")] == (43000, 110000, -60.9)
    later = pipeline.cli(
        "query", "top_importers_battlefield", "--since", "2024-04-01", "--format", "json"
    )
    assert {row["importer_name"] for row in orjson.loads(later.stdout)} >= {"OOO Silva-Snab"}
    assert all(row["first_seen"] >= "2024-04-01" for row in orjson.loads(later.stdout))

    # a watcher on a terminal, and a webhook, each in its own consumer group
    tail = pipeline.cli("alerts", "tail", "--from-beginning", "--json", "--idle-timeout", "4")
    assert sorted(orjson.loads(x)["alert_id"] for x in tail.stdout.splitlines()) == sorted(ids)
    critical = pipeline.cli(
        "alerts", "tail", "--from-beginning", "--severity", "critical", "--idle-timeout", "4"
    )
    shown = critical.stdout.splitlines()
    assert shown and all(" CRITICAL " in x for x in shown)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    (tmp_path / "secret").write_text("s3cret\n")
    hooked = pipeline.cli(
        "alerts", "webhook", url, "--secret-file", str(tmp_path / "secret"), "--from-beginning",
        "--idle-timeout", "4", "--failures", str(tmp_path / "failures.jsonl"),
    )  # fmt: skip
    assert f"delivered={len(ids)} failed=0" in hooked.stdout
    delivered = []
    for headers, body in receiver.received:
        timestamp = int(headers[TIMESTAMP_HEADER])
        assert verify(body, "s3cret", timestamp, headers[SIGNATURE_HEADER])
        delivered.append(orjson.loads(body)["alert_id"])
    assert sorted(delivered) == sorted(ids)


def via_worker_ids(pipe: Pipeline) -> list[str]:
    url = f"http://127.0.0.1:{pipe.env['CUSTOMS_WATCH_WORKER_WEB_PORT']}"
    return [row["alert_id"] for row in via_worker(url, "alert_lines").as_dicts()]
