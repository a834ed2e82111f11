"""A party's line fact for the stateful-rule tests: an importer in Russia, a tier-1 line."""

from __future__ import annotations

from typing import Any

from schemas.facts import LineFact


def fact(day: str, value: float = 1000.0, n: int = 1, **more: Any) -> LineFact:
    base: dict[str, Any] = {
        "declaration_id": f"D-{day}-{n}",
        "line_no": 1,
        "declared_at": day,
        "importer_name": "OOO Pozitron",
        "importer_country": "RU",
        "destination_country": "RU",
        "categories": [],
        "chpl_tier": "1",
        "value_usd": value,
    }
    return LineFact.model_validate({**base, **more})
