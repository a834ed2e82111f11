"""A feed modelled on the cases that motivated customs-watch, with invented companies.

Each block mirrors a pattern from the research notes: body armour and helmets from a
Shanghai protective-gear maker to a newly seen Russian importer (some declared as airsoft),
drones routed through a Hong Kong trader, thermal sights, armour ceramics rising to Russia
while falling to Ukraine, Western chips through Türkiye, the UAE and Hong Kong, a listed
importer written three ways, and an importer whose monthly value jumps a thousandfold.
Control lines (the same goods to Poland, life vests to Russia) must raise nothing.
The first ``FIRST_HALF`` lines and the rest can be published separately, so a test can
restart the worker between them (the listed importer and the surging importer appear in
both halves: their alerts must continue, not restart).
"""

from __future__ import annotations

from typing import Any

FIRST_HALF = 21


def _line(
    number: int,
    day: str,
    hs: str,
    description: str,
    exporter: tuple[str, str],
    importer: tuple[str, str],
    destination: str,
    value: float,
    origin: str | None = None,
    dispatch: str | None = None,
    quantity: float = 100,
    unit: str = "pcs",
) -> dict[str, Any]:
    return {
        "declaration_id": f"SEED-{number:04d}",
        "line_no": 1,
        "declared_at": day,
        "flow": "export",
        "reporter": exporter[1],
        "hs_code": hs,
        "description": description,
        "quantity": quantity,
        "unit": unit,
        "value": value,
        "currency": "USD",
        "origin_country": origin or exporter[1],
        "dispatch_country": dispatch or exporter[1],
        "destination_country": destination,
        "exporter_name": exporter[0],
        "exporter_country": exporter[1],
        "importer_name": importer[0],
        "importer_country": importer[1],
        "source": "jsonl",
    }


GEAR = ("Shanghai Hengwei Protective Gear Co., Ltd", "CN")
SILVA = ("OOO Silva-Snab", "RU")
BRIGHTWAY = ("Hong Kong Brightway Trading Limited", "HK")
OPTIKA = ("OOO Okhota-Optika", "RU")
WUHAN = ("Wuhan Infrared Components Co., Ltd", "CN")
CERAMICS = ("Dalian Keramika Materials Co., Ltd", "CN")
KERAMZASHCHITA = ("OOO Keramzashchita", "RU")
KYIV_ARMOR = ("TOV Kyiv Bronezakhyst", "UA")
NOVA = ("Istanbul Nova Dis Ticaret A.S.", "TR")
FALCON = ("Dubai Falcon General Trading FZE", "AE")
TEKHNOKOM = ("AO Tekhnokom", "RU")
POZITRON = ("OOO Pozitron Trade", "RU")
ALMATY = ("Almaty Tech Supply LLP", "KZ")
WARSAW = ("Ochrona Osobista Sp. z o.o.", "PL")
TOYS = ("Shantou Happy Toys Co., Ltd", "CN")


def seed_lines() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []

    def add(*args: Any, **kwargs: Any) -> None:
        lines.append(_line(len(lines) + 1, *args, **kwargs))

    # 1. vests and helmets to a new importer, two of them declared as airsoft gear
    for day in ("2024-02-05", "2024-02-19", "2024-03-04"):
        add(day, "6211.33", "Bulletproof vest NIJ IIIA, aramid", GEAR, SILVA, "RU", 52_000)
        add(day, "6506.10", "Ballistic helmet FAST, aramid", GEAR, SILVA, "RU", 48_000)
    add(
        "2024-03-18",
        "9506.99",
        "Airsoft tactical vest with ballistic plates",
        GEAR,
        SILVA,
        "RU",
        30_000,
    )
    # 2. drones routed through a listed Hong Kong trader
    add(
        "2024-03-06",
        "8806.22",
        "Quadcopter DJI Mavic 3T with thermal camera",
        BRIGHTWAY,
        POZITRON,
        "RU",
        648_000,
    )
    # 3. thermal sights
    add("2024-03-12", "9013.10", "Thermal imaging riflescope 640x512", WUHAN, OPTIKA, "RU", 210_000)
    # 4. armour ceramics: Q1 a baseline to Russia and Ukraine
    add(
        "2024-02-10",
        "2849.90",
        "Boron carbide powder for armour plates",
        CERAMICS,
        KERAMZASHCHITA,
        "RU",
        120_000,
        quantity=2000,
        unit="kg",
    )
    add(
        "2024-02-10",
        "2849.90",
        "Boron carbide powder for armour plates",
        CERAMICS,
        KYIV_ARMOR,
        "UA",
        110_000,
        quantity=2000,
        unit="kg",
    )
    # 5. Western chips through third countries
    add(
        "2024-03-14",
        "8542.31",
        "Microcontroller STM32F405",
        NOVA,
        TEKHNOKOM,
        "RU",
        96_000,
        origin="US",
        dispatch="TR",
    )
    # 6. the listed importer, written three ways
    add(
        "2024-04-05",
        "8517.62",
        "Radio modem 900 MHz",
        ALMATY,
        ("ООО «ВЕКТОР-СНАБ»", "RU"),
        "RU",
        40_000,
        origin="CN",
    )
    # 7. Pozitron's ordinary months before the jump
    for month in ("2023-09", "2023-10", "2023-11", "2023-12", "2024-01", "2024-02"):
        add(
            f"{month}-15",
            "8471.30",
            "Laptop computers",
            ALMATY,
            POZITRON,
            "RU",
            66_000,
            origin="CN",
        )
    # controls: the same vests to Poland, life vests to Russia
    add("2024-03-05", "6211.33", "Bulletproof vest NIJ IIIA, aramid", GEAR, WARSAW, "PL", 52_000)
    add(
        "2024-03-05",
        "6307.20",
        "Life jackets for boating",
        TOYS,
        ("OOO Morskoi Otdykh", "RU"),
        "RU",
        8_000,
    )

    # ---- second half (lines FIRST_HALF + 1 ...) ----
    add(
        "2024-04-02", "6211.33", "Bulletproof vest NIJ IIIA, aramid", GEAR, SILVA, "RU", 52_000
    )  # joins the vest group? new window
    add(
        "2024-04-03",
        "8806.22",
        "Quadcopter DJI Mavic 3T with thermal camera",
        BRIGHTWAY,
        POZITRON,
        "RU",
        720_000,
    )
    add(
        "2024-04-09",
        "2849.90",
        "Boron carbide powder for armour plates",
        CERAMICS,
        KERAMZASHCHITA,
        "RU",
        203_000,
        quantity=3400,
        unit="kg",
    )
    add(
        "2024-04-09",
        "2849.90",
        "Boron carbide powder for armour plates",
        CERAMICS,
        KYIV_ARMOR,
        "UA",
        43_000,
        quantity=800,
        unit="kg",
    )
    add(
        "2024-04-10",
        "8542.39",
        "FPGA XC7A35T",
        FALCON,
        TEKHNOKOM,
        "RU",
        120_000,
        origin="US",
        dispatch="AE",
    )
    add(
        "2024-04-12",
        "8542.39",
        "FPGA XC7A35T",
        BRIGHTWAY,
        TEKHNOKOM,
        "RU",
        80_000,
        origin="US",
        dispatch="HK",
    )
    add(
        "2024-04-15",
        "8517.62",
        "Radio modem 900 MHz",
        ALMATY,
        ("OOO Vektor-Snab", "RU"),
        "RU",
        40_000,
        origin="CN",
    )
    add(
        "2024-04-16",
        "8517.62",
        "Radio modem 900 MHz",
        ALMATY,
        ("Vektor Snab, LLC", "RU"),
        "RU",
        40_000,
        origin="CN",
    )
    add(
        "2024-04-20",
        "8542.31",
        "Microcontrollers STM32, reels",
        ALMATY,
        POZITRON,
        "RU",
        300_000_000,
        origin="US",
    )
    add("2024-04-22", "6211.33", "Bulletproof vest NIJ IIIA, aramid", GEAR, WARSAW, "PL", 52_000)
    return lines
