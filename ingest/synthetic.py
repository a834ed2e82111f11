"""A synthetic, deterministic feed of canonical declaration lines for demos, tests and benchmarks.

Company names are invented. The goods mix follows the story customs-watch exists for:
CHPL electronics, drones, thermal optics and armour among ordinary consumer goods.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import orjson

# (hs_code as a feed might write it, description, unit, typical unit value in USD)
GOODS: tuple[tuple[str, str, str, float], ...] = (
    ("8542.31.90", "Microcontroller STM32F405RGT6, LQFP-64, 32-bit ARM Cortex-M4", "pcs", 6.5),
    ("8542 39 900 0", "FPGA XC7A35T-1CSG324C programmable logic device", "pcs", 48.0),
    ("854232", "DRAM memory chip DDR4 8Gb", "pcs", 3.2),
    ("8526.91.20", "GNSS receiver module u-blox NEO-M8N", "pcs", 22.0),
    ("8806.22.00", "Quadcopter DJI Mavic 3 Thermal with RC controller", "pcs", 5400.0),
    ("8806 21", "Mini quadcopter FPV kit, take-off weight 249 g", "pcs", 180.0),
    ("9013.10.00", "Riflescope 3-9x40 with illuminated reticle", "pcs", 95.0),
    ("8525.83.00", "Night vision camera module, digital, 1080p", "pcs", 310.0),
    ("8482.10.10", "Deep groove ball bearing 6204-2RS", "pcs", 0.8),
    ("8517.62.00", "Industrial Ethernet router with LTE modem", "pcs", 140.0),
    ("6211.33.00", "Men's garments of synthetic fibres", "pcs", 35.0),
    ("6506.10.80", "Safety helmet, construction type, ABS shell", "pcs", 7.0),
    ("6403.99.93", "Leather footwear for men", "pairs", 28.0),
    ("9503.00.75", "Plastic toy construction sets", "pcs", 4.5),
    ("0806.10.10", "Fresh table grapes", "kg", 1.9),
    ("8471.30.00", "Laptop computer 15.6 inch", "pcs", 520.0),
    ("9405.42.31", "LED lamps for household use", "pcs", 2.1),
    ("3926.90.97", "Plastic storage boxes", "pcs", 1.4),
)
EXPORTERS = (
    ("Shenzhen Lianxin Electronics Co., Ltd", "CN"),
    ("Hong Kong Brightway Trading Limited", "HK"),
    ("Guangzhou Tianhe Optics Co., Ltd", "CN"),
    ("Istanbul Nova Dis Ticaret A.S.", "TR"),
    ("Dubai Falcon General Trading FZE", "AE"),
    ("Almaty Tech Supply LLP", "KZ"),
    ("Northwind Components GmbH", "DE"),
)
IMPORTERS = (
    ("OOO Vektor-Snab", "RU"),
    ("OOO Pozitron Trade", "RU"),
    ("AO Tekhnokom", "RU"),
    ("OAO Minsk Optika", "BY"),
    ("TOV Kyiv Elektro", "UA"),
    ("Baltic Retail SIA", "LV"),
    ("Almaty Tech Supply LLP", "KZ"),
    ("Yerevan Trade House LLC", "AM"),
)
ORIGINS = ("CN", "CN", "CN", "US", "TW", "JP", "DE", "KR")


def synthetic_lines(
    count: int, seed: int = 7, prefix: str = "SYN", lines_per_declaration: int = 3
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` canonical lines as dicts, grouped into declarations of up to N lines."""
    rng = random.Random(seed)
    start = date(2024, 1, 2)
    produced = 0
    declaration_no = 0
    while produced < count:
        declaration_no += 1
        exporter, exporter_country = rng.choice(EXPORTERS)
        importer, importer_country = rng.choice(IMPORTERS)
        declared_at = start + timedelta(days=rng.randrange(0, 330))
        n_lines = min(rng.randint(1, lines_per_declaration), count - produced)
        for line_no in range(1, n_lines + 1):
            hs_code, description, unit, unit_value = rng.choice(GOODS)
            quantity = rng.randint(1, 500)
            yield {
                "declaration_id": f"{prefix}-{declaration_no:08d}",
                "line_no": line_no,
                "declared_at": declared_at.isoformat(),
                "flow": "export",
                "reporter": exporter_country if exporter_country != "HK" else "CN",
                "hs_code": hs_code,
                "description": description,
                "quantity": quantity,
                "unit": unit,
                "value": round(quantity * unit_value * rng.uniform(0.8, 1.2), 2),
                "currency": "USD",
                "net_weight_kg": round(quantity * rng.uniform(0.01, 2.0), 3),
                "origin_country": rng.choice(ORIGINS),
                "dispatch_country": exporter_country,
                "destination_country": importer_country,
                "exporter_name": exporter,
                "exporter_country": exporter_country,
                "importer_name": importer,
                "importer_country": importer_country,
                "source_record_id": f"{prefix}-{declaration_no:08d}/{line_no}",
            }
            produced += 1


def synthetic_jsonl(count: int, seed: int = 7, prefix: str = "SYN") -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in synthetic_lines(count, seed, prefix))
