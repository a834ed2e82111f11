"""One CUSDEC message → canonical declaration lines, one per goods item.

The subset read (UN/EDIFACT D.96B onward); which qualifier means what is data, in
``schemas/rules/cusdec_reading.yaml``:

========  =========================================================================
BGM       e1001 document name: 929 import declaration, 830 export declaration (→ flow);
          e1004 document number → ``declaration_id``
DTM       137 document date (or 182 issue date), format 102 ``CCYYMMDD`` or 203
          ``CCYYMMDDHHMM`` → ``declared_at``
NAD       CZ consignor → exporter, CN consignee → importer, DT declarant, MF manufacturer;
          party id (C082), name (C080), street (C059), city, postcode, country (3207)
LOC       27 country of origin, 35 country of exportation (dispatch), 28 country of
          destination; before the first goods item for the whole message, after it for
          that item
UNS+D     the detail section (goods items) starts
CST       a goods item: e7496 item number → ``line_no``; C246 customs identity code →
          ``hs_code``
FTX+AAA   goods description (text lines joined by a space) → ``description``
MEA       WT + AAL (or N) net weight, unit KGM → ``net_weight_kg``
QTY       47 invoiced quantity (with unit) → ``quantity``, ``unit``
MOA       38 invoice item amount (203 line amount) with currency → ``value``, ``currency``
========  =========================================================================

Any other segment is kept in ``extra`` (``{"segments": {"TAG": [[elements], ...]}}``) rather
than dropped. A message without BGM number, date or goods item, or with a value that is
not a number, raises ValueError naming the segment and its position.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from pydifact.control.characters import Characters
from pydifact.exceptions import MissingImplementationWarning
from pydifact.parser import Parser

from schemas.rule_data import RULES_DIR

HEADER_ONLY = frozenset({"UNH", "UNT", "UNS"})
READING_FILE = RULES_DIR / "cusdec_reading.yaml"


class Reading(BaseModel):
    """Which qualifier means what (``schemas/rules/cusdec_reading.yaml``)."""

    model_config = ConfigDict(frozen=True)

    version: str
    flows: dict[str, Literal["import", "export"]]
    parties: dict[str, Literal["exporter", "importer", "declarant"]]
    manufacturer: list[str]
    countries: dict[str, Literal["origin_country", "dispatch_country", "destination_country"]]
    date_qualifiers: list[str]
    date_formats: dict[str, str]
    description_qualifier: str
    net_weight: list[str]
    quantity_qualifier: str
    item_amounts: list[str]


@cache
def default_reading(path: Path = READING_FILE) -> Reading:
    return Reading.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _parts(element: Any) -> list[str]:
    if element is None:
        return []
    return [str(x or "") for x in element] if isinstance(element, list) else [str(element)]


def _part(element: Any, index: int) -> str:
    """Component ``index`` of an element ("" when absent)."""
    parts = _parts(element)
    return parts[index] if index < len(parts) else ""


def _first(element: Any) -> str:
    return _part(element, 0)


def _at(elements: list[Any], index: int) -> Any:
    return elements[index] if index < len(elements) else None


def _number(text: str, decimal_mark: str, where: str) -> str:
    try:
        return str(Decimal(text.replace(decimal_mark, ".")))
    except InvalidOperation as exc:
        raise ValueError(f"{where}: {text!r} is not a number") from exc


def _date(value: Any, where: str, patterns: dict[str, str]) -> str:
    text, fmt = _part(value, 1), _part(value, 2) or "102"
    if fmt not in patterns:
        known = ", ".join(patterns)
        raise ValueError(f"{where}: date format {fmt} is not read ({known} are)")
    try:
        return datetime.strptime(text, patterns[fmt]).date().isoformat()
    except ValueError as exc:
        raise ValueError(f"{where}: {text!r} is not a date in format {fmt}") from exc


def message_lines(
    text: str, service: str, flow: str | None = None, reading: Reading | None = None
) -> list[dict[str, Any]]:
    """Lines of one message (``text`` decoded, UNH…UNT); ``service``: the six UNA chars."""
    codes = reading or default_reading()
    characters = Characters.from_str("UNA" + service)
    decimal_mark = service[2]
    with warnings.catch_warnings():
        # pydifact warns for every service segment (UNH, UNS, UNT) it has no directory
        # entry for; they are read as plain segments all the same.
        warnings.simplefilter("ignore", MissingImplementationWarning)
        segments = list(Parser().parse(text, characters=characters))
    header: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    extra: dict[str, list[list[Any]]] = {}
    message_flow: str | None = None
    for position, segment in enumerate(segments, start=1):
        tag, elements = segment.tag, list(segment.elements)
        where = f"segment {position} ({tag})"
        target = items[-1] if items else header
        if tag == "BGM":
            message_flow = codes.flows.get(_first(_at(elements, 0)))
            header["declaration_id"] = _first(_at(elements, 1))
        elif tag == "DTM" and _first(_at(elements, 0)) in codes.date_qualifiers:
            header["declared_at"] = _date(_at(elements, 0), where, codes.date_formats)
        elif tag == "NAD" and _first(_at(elements, 0)) in (*codes.parties, *codes.manufacturer):
            role = codes.parties.get(_first(_at(elements, 0)))
            name = " ".join(p for p in _parts(_at(elements, 3)) if p)
            if role is None:
                target["manufacturer"] = name
                continue
            target[f"{role}_name"] = name
            if _first(_at(elements, 1)):
                target[f"{role}_id"] = _first(_at(elements, 1))
            address = [
                *_parts(_at(elements, 4)),
                _first(_at(elements, 5)),
                _first(_at(elements, 7)),
            ]
            if any(address):
                target[f"{role}_address"] = ", ".join(p for p in address if p)
            if _first(_at(elements, 8)):
                target[f"{role}_country"] = _first(_at(elements, 8))
        elif tag == "LOC" and _first(_at(elements, 0)) in codes.countries:
            target[codes.countries[_first(_at(elements, 0))]] = _first(_at(elements, 1))
        elif tag == "CST":
            item_no = _first(_at(elements, 0))
            if not item_no.isdigit():
                raise ValueError(f"{where}: goods item number {item_no!r} is not a number")
            items.append({"line_no": int(item_no), "hs_code": _first(_at(elements, 1))})
        elif tag == "FTX" and _first(_at(elements, 0)) == codes.description_qualifier:
            words = " ".join(p for p in _parts(_at(elements, 3)) if p)
            target["description"] = " ".join(x for x in (target.get("description"), words) if x)
        elif tag == "MEA" and _first(_at(elements, 1)) in codes.net_weight:
            unit, value = _part(_at(elements, 2), 0), _part(_at(elements, 2), 1)
            if unit and unit != "KGM":
                raise ValueError(f"{where}: net weight in {unit}, not KGM")
            target["net_weight_kg"] = _number(value, decimal_mark, where)
        elif tag == "QTY" and _first(_at(elements, 0)) == codes.quantity_qualifier:
            quantity = _at(elements, 0)
            target["quantity"] = _number(_part(quantity, 1), decimal_mark, where)
            if _part(quantity, 2):
                target["unit"] = _part(quantity, 2)
        elif tag == "MOA" and _first(_at(elements, 0)) in codes.item_amounts:
            amount = _at(elements, 0)
            target["value"] = _number(_part(amount, 1), decimal_mark, where)
            if _part(amount, 2):
                target["currency"] = _part(amount, 2)
        elif tag not in HEADER_ONLY:
            extra.setdefault(tag, []).append([_parts(e) for e in elements])
    if not header.get("declaration_id"):
        raise ValueError("no BGM segment with a document number")
    if "declared_at" not in header:
        raise ValueError("no DTM segment with the declaration date (137 or 182)")
    if not items:
        raise ValueError("no goods item (CST segment after UNS+D)")
    chosen = flow or message_flow
    if chosen is None:
        raise ValueError("BGM names no import (929) or export (830) declaration; pass --flow")
    lines = []
    for item in items:
        line = {**header, **item, "flow": chosen}
        if extra:
            line["extra"] = {"segments": extra}
        lines.append(line)
    return lines
