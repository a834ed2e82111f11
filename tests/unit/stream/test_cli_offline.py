from pathlib import Path
from typing import ClassVar

import orjson
from typer.testing import CliRunner

from ingest.synthetic import synthetic_jsonl
from schemas.rule_data import default_rules
from schemas.settings import Settings
from stream.cli.main import app
from stream.offline import classify_file, offline_enricher, rejects_path


def test_classify_command_writes_enriched_lines_and_rejects(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(synthetic_jsonl(50, seed=3) + b'{"declaration_id": "X"}\n')
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["classify", "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(x) for x in target.read_bytes().splitlines()]
    assert len(lines) == 50
    assert all("alerts" in x and "hs6" in x for x in lines)
    chpl = [x for x in lines if any(a["rule"] == "chpl_to_high_risk" for a in x["alerts"])]
    assert chpl, "the synthetic mix contains CHPL goods bound for RU/BY"
    for x in chpl:
        assert x["chpl_tier"] is not None
        assert default_rules().alerts.destination_kind(x["destination_country"]) is not None
    for x in lines:
        assert sorted(x["alert_rules"]) == sorted(a["rule"] for a in x["alerts"])
        for a in x["alerts"]:
            assert a["severity"] and a["reason"]
    rejects = (tmp_path / "out.jsonl.rejects.jsonl").read_bytes().splitlines()
    assert len(rejects) == 1
    assert orjson.loads(rejects[0])["position"] == 51


def test_classify_screens_parties_against_the_given_watchlist(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parents[3] / "ingest" / "samples"
    source = tmp_path / "in.jsonl"
    line = {
        "declaration_id": "W1",
        "line_no": 1,
        "declared_at": "2024-05-01",
        "flow": "export",
        "hs_code": "854231",
        "importer_name": "ООО «Вектор-Снаб»",
        "importer_country": "RU",
    }
    source.write_bytes(
        orjson.dumps(line)
        + b"\n"
        + orjson.dumps({**line, "line_no": 2, "importer_name": "Unlisted Trading Co"})
        + b"\n"
    )
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "--watchlist-dir",
            str(tmp_path / "empty"),
            "classify",
            "--input",
            str(source),
            "--output",
            str(target),
            "--watchlist",
            str(samples / "watchlist_demo.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    first, second = (orjson.loads(x) for x in target.read_bytes().splitlines())
    assert [(h["entity_id"], h["dataset"]) for h in first["screening_hits"]] == [
        ("cw-demo-0001", "watchlist_demo")
    ]
    assert second["screening_hits"] == []
    assert "screened_hits=1" in result.output


def test_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in (
        "topics",
        "ingest",
        "worker",
        "wait",
        "db",
        "query",
        "classify",
        "deadletter",
        "schemas",
        "generate",
        "watchlist",
    ):
        assert name in result.output
    watchlist = CliRunner().invoke(app, ["watchlist", "--help"])
    for name in ("load", "list", "remove", "eval"):
        assert name in watchlist.output


def test_the_offline_loop_is_a_library_call(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(synthetic_jsonl(5, seed=1) + b"\n" + b"not json\n")
    target = tmp_path / "out.jsonl"
    settings = Settings(screening={"watchlist_dir": tmp_path / "empty"})
    counts = classify_file(offline_enricher(settings), source, target)
    assert (counts.lines, counts.rejected, counts.screened_hits) == (5, 1, 0)
    assert counts.as_text().startswith("lines=5 rejected=1 alerts=")
    assert len(target.read_bytes().splitlines()) == 5
    (reject,) = rejects_path(target).read_bytes().splitlines()
    assert orjson.loads(reject)["position"] == 7


class _BrokenScreener:
    """Raises on one party, as a library bug would on one odd name; finds nothing else."""

    class index:  # noqa: N801 - the attribute the screen stage reads
        entities: ClassVar[dict[str, object]] = {}

    def screen(self, name: str, *_: object) -> list[object]:
        if name == "Broken Party":
            raise RuntimeError("screener broke")
        return []

    def screen_address(self, _address: str) -> list[object]:
        return []


def test_a_line_a_stage_raises_on_is_rejected_and_the_file_goes_on(tmp_path: Path) -> None:
    from stream.stages.enrich import Enricher

    good = synthetic_jsonl(4, seed=3).splitlines()
    bad = orjson.loads(good[1])
    bad["importer_name"] = "Broken Party"
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([good[0], orjson.dumps(bad), *good[2:]]) + b"\n")
    target = tmp_path / "out.jsonl"
    counts = classify_file(Enricher(default_rules(), None, _BrokenScreener), source, target)
    assert (counts.lines, counts.rejected) == (3, 1)
    rejects = [orjson.loads(x) for x in rejects_path(target).read_bytes().splitlines()]
    assert [r["position"] for r in rejects] == [2]
    assert "RuntimeError: screener broke" in rejects[0]["reason"]
