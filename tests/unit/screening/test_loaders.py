from datetime import date
from pathlib import Path

import pytest

from stream.screening.loaders import (
    LoadReport,
    dataset_name,
    detect_format,
    read_ftm_jsonl,
    read_list,
    read_targets_csv,
)

SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples"


def test_demo_csv_loads_by_header_name_with_extra_columns(tmp_path: Path) -> None:
    report = LoadReport()
    entries = list(read_targets_csv(SAMPLES / "watchlist_demo.csv", "demo", report))
    assert report.entries == len(entries) == 7
    assert report.skipped == 1  # the Sanction row is not a party
    assert not report.rejects
    vektor = entries[0]
    assert vektor.dataset == "demo"
    assert vektor.aliases[0] == 'ООО "Вектор-Снаб"'
    assert vektor.countries == ["ru"]
    assert [i.value for i in vektor.identifiers] == ["7701234560", "1157746000001"]
    assert vektor.sources == ["customs-watch demo list"]


def test_csv_columns_in_another_order_and_bad_rows_rejected_with_line_numbers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "targets.simple.csv"
    path.write_text(
        "name,schema,id,aliases,program_ids\n"
        "Alpha LLC,Company,x-1,Альфа,P1\n"
        ",Company,x-2,,\n"
        "Beta LLC,,x-3,,\n"
        "Gamma LLC,Company,x-4,,P1,surplus\n"
        "Delta LLC,Person,x-5,,\n",
        encoding="utf-8",
    )
    report = LoadReport()
    entries = list(read_targets_csv(path, "t", report))
    assert [e.id for e in entries] == ["x-1", "x-5"]
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejects] == [
        (3, "name"),
        (4, "schema"),
        (5, "more cells than headers"),
    ]


def test_a_csv_without_the_key_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not a targets\.simple\.csv"):
        list(read_targets_csv(path, "t"))


def test_ftm_entities_keep_identifier_schemes_and_skip_non_parties(tmp_path: Path) -> None:
    report = LoadReport()
    entries = list(read_ftm_jsonl(SAMPLES / "watchlist_demo.ftm.json", "demo", report))
    assert [e.id for e in entries] == ["cw-ftm-0001", "cw-ftm-0002", "cw-ftm-0003"]
    assert report.skipped == 1
    pozitron = entries[1]
    assert pozitron.name == "Pozitron Trade LLC"
    assert pozitron.aliases == ["ООО «Позитрон Трейд»"]
    assert {(i.scheme, i.value) for i in pozitron.identifiers} == {
        ("innCode", "7704567893"),
        ("ogrnCode", "1227700000002"),
    }
    assert pozitron.incorporated == date(2022, 11, 21)
    assert entries[0].incorporated is None


def test_broken_ftm_lines_are_rejected_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "entities.ftm.json"
    path.write_text(
        '{"id": "a", "schema": "Company", "properties": {"name": ["A Co"]}}\n'
        "{not json\n"
        '{"id": "b", "properties": {}}\n'
        '{"id": "c", "schema": "Company", "properties": {}}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    report = LoadReport()
    entries = list(read_ftm_jsonl(path, "t", report))
    assert [e.id for e in entries] == ["a"]
    assert [r.line for r in report.rejects] == [2, 3, 4, 5]
    assert report.rejects[0].reason.startswith("not JSON")


def test_format_and_dataset_from_the_file_name() -> None:
    assert detect_format(Path("x/targets.simple.csv")) == "csv"
    assert detect_format(Path("entities.ftm.json")) == "ftm"
    with pytest.raises(ValueError):
        detect_format(Path("list.xml"))
    assert dataset_name(Path("/data/sanctions/targets.simple.csv")) == "sanctions"
    assert dataset_name(Path("watchlist_demo.csv")) == "watchlist_demo"
    assert next(read_list(SAMPLES / "watchlist_demo.csv")).dataset == "watchlist_demo"


def test_ftm_incorporation_date_kept_as_the_earliest_full_date(tmp_path: Path) -> None:
    path = tmp_path / "registry.ftm.json"
    path.write_text(
        '{"id": "a", "schema": "Company", "properties": {"name": ["A Co"], '
        '"incorporationDate": ["2022-09-14", "2022-05-03T00:00:00"]}}\n'
        '{"id": "b", "schema": "Company", "properties": {"name": ["B Co"], '
        '"incorporationDate": ["2021", "2021-06"]}}\n'
        '{"id": "c", "schema": "Company", "properties": {"name": ["C Co"]}}\n',
        encoding="utf-8",
    )
    entries = list(read_ftm_jsonl(path, "t"))
    assert [e.incorporated for e in entries] == [date(2022, 5, 3), None, None]
