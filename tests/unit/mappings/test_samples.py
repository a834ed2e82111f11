"""Every sample export maps to valid declarations, except its one documented bad row."""

from datetime import date
from decimal import Decimal

from ingest.formats.tabular import MappedRow, TabularFile, map_rows, read_csv, read_xlsx
from schemas.declaration import Declaration
from schemas.mapping import Mapping
from tests.unit.mappings.helpers import CN, RU, SAMPLES, US


def split(table: TabularFile, mapping: Mapping) -> tuple[list[Declaration], list[MappedRow]]:
    good: list[Declaration] = []
    bad: list[MappedRow] = []
    for mapped in map_rows(table, mapping):
        if mapped.line is None:
            bad.append(mapped)
        else:
            good.append(Declaration.model_validate(mapped.line))
    return good, bad


def test_russian_cp1251_csv() -> None:
    data = (SAMPLES / "ru_declarations_cp1251.csv").read_bytes()
    lines, bad = split(read_csv(data, RU), RU)
    assert len(lines) == 11
    assert [(b.row.number, b.error) for b in bad] == [
        (11, "Дата ДТ: '31.02.2024' matches none of the date formats %d.%m.%Y, "
             "%d.%m.%Y %H:%M:%S, %d.%m.%Y %H:%M, %Y-%m-%d, %Y-%m-%d %H:%M:%S"),
    ]  # fmt: skip
    assert bad[0].row.raw.startswith("10702070/310224/3041999;31.02.2024;".encode("cp1251"))
    drone = lines[0]
    assert drone.key == ("10702070/120324/3041187", 1)
    assert drone.declared_at == date(2024, 3, 12)
    assert (drone.flow, drone.reporter, drone.destination_country) == ("import", "RU", "RU")
    assert drone.hs_code == "8806229000"
    assert drone.description.endswith("комплект:\nпульт ДУ, 2 аккумулятора")
    assert drone.importer_name == 'ООО "ТЕХНОВЕКТОР-ДВ"' and drone.importer_id == "2536998871"
    assert drone.importer_address is not None and "Владивосток" in drone.importer_address
    assert (drone.exporter_name, drone.exporter_country) == (
        "HONG KONG LINKSTAR TRADING LIMITED",
        "HK",
    )
    assert (drone.origin_country, drone.dispatch_country) == ("CN", "HK")
    assert (drone.brand, drone.manufacturer) == (
        "SKYHAWK",
        "SHENZHEN FEIYING INTELLIGENT TECHNOLOGY CO., LTD",
    )
    assert drone.net_weight_kg == Decimal("1250.500")  # no-break space between thousands
    assert (drone.quantity, drone.unit) == (Decimal(500), "шт")
    assert (drone.value, drone.currency) == (Decimal("1234567.89"), "USD")
    assert drone.extra == {}
    assert [ln.line_no for ln in lines[:3]] == [1, 2, 3]
    assert lines[2].quantity == Decimal(1400) and lines[2].net_weight_kg == Decimal(2310)
    furniture = [ln for ln in lines if ln.declaration_id == "10013160/250324/0211456"]
    assert [f.declared_at for f in furniture] == [date(2024, 3, 25)] * 2  # written with a time
    assert furniture[0].value == Decimal("1845300.00") and furniture[0].currency == "CNY"


def test_russian_xlsx() -> None:
    lines, bad = split(read_xlsx(SAMPLES / "ru_declarations.xlsx", RU), RU)
    assert len(lines) == 8
    assert [(b.row.number, b.error) for b in bad] == [
        (9, "Фактурная стоимость: '12,34,5' is not a number with decimal ',' and thousands "
            "' ' or '\\xa0' or '\\u202f'"),
    ]  # fmt: skip
    assert bad[0].row.raw.decode("utf-8").startswith('["10130090/090424/0255401","2024-04-09","3"')
    first = lines[0]
    assert first.key == ("10012020/020424/0071133", 1) and first.declared_at == date(2024, 4, 2)
    assert (first.hs_code, first.exporter_country, first.dispatch_country) == (
        "8807300000",
        "AE",
        "AE",
    )
    assert (first.net_weight_kg, first.quantity, first.value) == (
        Decimal("312.5"), Decimal(1500), Decimal(184500)
    )  # fmt: skip
    assert lines[1].value == Decimal("1234567.89")
    assert lines[2].net_weight_kg == Decimal("0.3")
    assert lines[3].value == Decimal("98000.00") and lines[3].brand is None
    assert lines[3].declared_at == date(2024, 4, 5)


def test_chinese_gb18030_csv() -> None:
    data = (SAMPLES / "cn_exports_gb18030.csv").read_bytes()
    table = read_csv(data, CN)
    assert table.encoding == "gb18030"
    lines, bad = split(table, CN)
    assert len(lines) == 10
    assert [(b.row.number, b.error) for b in bad] == [
        (9, "数量: '十二' is not a number with decimal '.' and thousands ','"),
    ]
    assert "十二".encode("gb18030") in bad[0].row.raw
    drone = lines[0]
    assert drone.key == ("531620240001245678", 1)
    assert (drone.flow, drone.reporter, drone.dispatch_country) == ("export", "CN", "CN")
    assert (drone.declared_at, drone.hs_code, drone.description) == (
        date(2024, 3, 15), "8806221000", "无人驾驶航空飞行器"
    )  # fmt: skip
    assert drone.exporter_name == "深圳市澜岳航拍科技有限公司"
    assert drone.importer_name == "OSOO ALTYN-KORGON TRADE"
    assert (drone.destination_country, drone.origin_country) == ("吉尔吉斯斯坦", "中国")
    assert (drone.quantity, drone.unit, drone.value, drone.currency) == (
        Decimal(300), "架", Decimal("186000.00"), "美元"
    )  # fmt: skip
    assert drone.net_weight_kg == Decimal("540.5")
    assert drone.extra == {"specification": "用途:航拍,品牌:天翼,型号:TY-X9,最大起飞重量0.9kg"}
    assert lines[1].net_weight_kg == Decimal("2280.0")
    dates = {ln.declaration_id: ln.declared_at for ln in lines}
    assert dates["530120240000876543"] == date(2024, 3, 16)  # 2024/03/16
    assert dates["223120240003456789"] == date(2024, 3, 18)  # 20240318


def test_us_bill_of_lading_csv() -> None:
    data = (SAMPLES / "us_bol.csv").read_bytes()
    lines, bad = split(read_csv(data, US), US)
    assert len(lines) == 9
    assert [(b.row.number, b.error) for b in bad] == [
        (11, "Arrival Date: '2024-02-30' matches none of the date formats %Y-%m-%d, %m/%d/%Y"),
    ]
    first, second = lines[0], lines[1]
    assert (first.key, second.key) == (("KWTL2403150011", 1), ("KWTL2403150011", 2))
    assert (first.flow, first.reporter, first.destination_country) == ("import", "US", "US")
    assert first.exporter_name == "SHENZHEN LANYUE AERIAL TECHNOLOGY CO., LTD"
    assert first.importer_name == "SKYWARD HOBBY DISTRIBUTION LLC"
    assert first.importer_address == "4100 COMMERCE PARKWAY, SUITE 210\nRENO, NV 89502"
    assert first.notify_name == "SAME AS CONSIGNEE"
    assert (first.hs_code, first.origin_country) == ("880622", "China")
    assert (first.quantity, first.unit, first.value, first.currency) == (
        Decimal(600), "PCS", Decimal("89700.00"), "USD"
    )  # fmt: skip
    assert first.net_weight_kg is None  # a bill's weight is gross: kept in extra
    assert first.extra == {
        "gross_weight_kg": "1,840.0",
        "port_of_lading": "Yantian, China",
        "port_of_unlading": "Long Beach, California",
    }
    assert second.value is None
    scopes = lines[2]
    assert (scopes.declared_at, scopes.hs_code) == (date(2024, 3, 18), "9013.10")
    assert scopes.notify_name == "RAPIDCLEAR CUSTOMS BROKERS INC"
    assert [ln.key for ln in lines[-2:]] == [("KWTL2403290031", 1), ("KWTL2403290031", 2)]
