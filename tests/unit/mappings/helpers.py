"""Shared helpers: the packaged mappings, the sample files, a small test layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.mapping import Mapping, packaged_mappings

SAMPLES = Path(__file__).resolve().parents[3] / "ingest" / "samples" / "tabular"
MAPPINGS = packaged_mappings()
RU = MAPPINGS["ru_import_declarations"]
CN = MAPPINGS["cn_export_records"]
US = MAPPINGS["us_bill_of_lading"]


def layout(**changes: Any) -> dict[str, Any]:
    """A small valid mapping as a dict, with ``changes`` applied."""
    data: dict[str, Any] = {
        "name": "test_layout",
        "version": "1",
        "description": "A layout for tests.",
        "source": "Written for the unit tests of ingest.formats.tabular.",
        "format": "csv",
        "delimiter": ";",
        "columns": {
            "declaration_id": ["Declaration No."],
            "declared_at": ["Date"],
            "hs_code": ["HS Code", "Commodity code"],
            "description": ["Description"],
            "value": ["Value"],
        },
        "date_formats": ["%d.%m.%Y"],
        "decimal_separator": ",",
        "thousands_separator": [" ", "\u00a0"],
        "constants": {"flow": "import", "reporter": "RU"},
    }
    data.update(changes)
    return data


def mapping(**changes: Any) -> Mapping:
    return Mapping.model_validate(layout(**changes))
