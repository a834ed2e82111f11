"""CUSDEC: splitting interchanges with their exact bytes, and goods items to canonical lines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ingest.formats.cusdec.goods import message_lines
from ingest.formats.cusdec.split import message_problem, split_interchange
from schemas.declaration import Declaration

SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples" / "cusdec"
DEFAULT = ":+.? '"


def lines_of(name: str) -> list[list[dict[str, object]] | str]:
    interchange = split_interchange((SAMPLES / name).read_bytes())
    out: list[list[dict[str, object]] | str] = []
    for message in interchange.messages:
        if message.error:
            out.append(message.error)
            continue
        try:
            out.append(message_lines(message.raw.decode(interchange.charset), interchange.service))
        except ValueError as exc:
            out.append(str(exc))
    return out


def test_each_message_keeps_its_exact_bytes() -> None:
    for name in ("import_ru.edi", "export_cn.edi", "broken.edi"):
        data = (SAMPLES / name).read_bytes()
        interchange = split_interchange(data)
        for message in interchange.messages:
            assert message.raw in data
            assert message.raw.startswith(b"UNH")
            assert message.raw.endswith(interchange.service[5].encode())


def test_the_russian_import_reads_three_goods_items_and_a_second_message() -> None:
    first, second = lines_of("import_ru.edi")
    assert isinstance(first, list) and isinstance(second, list)
    assert [(x["line_no"], x["hs_code"]) for x in first] == [
        (1, "9013100000"),
        (2, "6914900000"),
        (3, "8516710000"),
    ]
    scope = first[0]
    assert scope["declaration_id"] == "10702070/120324/3041187"
    assert scope["declared_at"] == "2024-03-12" and scope["flow"] == "import"
    assert scope["exporter_name"] == "HONG KONG LINKSTAR TRADING LIMITED"
    assert scope["importer_name"] == "OOO TEKHNOVEKTOR-DV"
    assert scope["importer_id"] == "2536998871"
    assert scope["declarant_name"] == "OOO BROKER-VOSTOK"
    assert (scope["dispatch_country"], scope["origin_country"]) == ("HK", "CN")
    assert scope["destination_country"] == "RU"
    assert (scope["net_weight_kg"], scope["quantity"], scope["unit"]) == ("96.4", "120", "PCE")
    assert (scope["value"], scope["currency"]) == ("186000.00", "USD")
    assert scope["manufacturer"] == "WUHAN GUANGXIN OPTOELECTRONICS CO., LTD"
    assert "manufacturer" not in first[1]  # an item's NAD+MF stays on that item
    drone = second[0]
    assert drone["declared_at"] == "2024-03-25"  # format 203, with the time of day
    assert drone["exporter_address"] == "Bao'an District, Shenzhen, 518000"  # released '
    assert drone["extra"] == {"segments": {"GIR": [[["3"], ["SN-000123", "BN"]]]}}
    for line in [*first, *second]:
        Declaration.model_validate(line)


def test_service_advice_with_other_separators_and_released_characters() -> None:
    (items,) = lines_of("export_cn.edi")
    assert isinstance(items, list)
    assert [x["hs_code"] for x in items] == ["880622", "850760"]
    assert items[0]["flow"] == "export"
    assert items[0]["description"] == "Quadcopter drone^ 4K camera^ 35 min flight"
    assert str(items[1]["description"]).endswith("for UAVs~ spare")
    assert Decimal(str(items[0]["net_weight_kg"])) == Decimal("310.5")  # decimal comma
    assert items[0]["exporter_name"] == "SHENZHEN FEIYING INTELLIGENT TECHNOLOGY CO^ LTD"


def test_the_broken_interchange_gives_the_good_message_and_clear_reasons() -> None:
    good, wrong_count, bad_date = lines_of("broken.edi")
    assert isinstance(good, list) and good[0]["description"] == "Leather shoes for men"
    assert wrong_count == "UNT counts 4 segments, the message has 7"
    assert bad_date == "segment 3 (DTM): '20240231' is not a date in format 102"


def test_a_truncated_interchange_reports_the_cut_message() -> None:
    data = (SAMPLES / "import_ru.edi").read_bytes()
    cut = data[: data.index(b"CST+1+8806229000")]
    interchange = split_interchange(cut)
    assert interchange.messages[0].error is None
    assert interchange.messages[1].error == "cut off: no UNT (truncated interchange?)"
    assert message_problem(interchange.messages[1].raw, interchange.service) == (
        "cut off: no UNT (truncated interchange?)"
    )


def test_unz_must_count_the_messages() -> None:
    data = (SAMPLES / "import_ru.edi").read_bytes().replace(b"UNZ+2+", b"UNZ+3+")
    assert split_interchange(data).errors == ["UNZ counts 3 messages, the interchange holds 2"]


def test_a_megabyte_description_is_read_whole() -> None:
    text = "x" * 1_000_000
    message = (
        "UNH+1+CUSDEC:D:96B:UN'BGM+929+D1+9'DTM+137:20240101:102'UNS+D'CST+1+8471:122'"
        f"FTX+AAA+++{text}'UNT+7+1'"
    )
    assert message_problem(message.encode(), DEFAULT) is None
    (line,) = message_lines(message, DEFAULT)
    assert line["description"] == text


@pytest.mark.parametrize(
    ("segments", "reason"),
    [
        ("DTM+137:20240101:102'UNS+D'CST+1+8471:122'", "no BGM segment"),
        ("BGM+929+D1+9'UNS+D'CST+1+8471:122'", "no DTM segment"),
        ("BGM+929+D1+9'DTM+137:20240101:102'", "no goods item"),
        (
            "BGM+929+D1+9'DTM+137:20240101:102'UNS+D'CST+1+8471:122'MOA+38:12,3,4:USD'",
            "not a number",
        ),
        ("BGM+999+D1+9'DTM+137:20240101:102'UNS+D'CST+1+8471:122'", "pass --flow"),
    ],
)
def test_messages_missing_what_a_line_needs_are_refused(segments: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        message_lines(f"UNH+1+CUSDEC:D:96B:UN'{segments}UNT+9+1'", DEFAULT)
