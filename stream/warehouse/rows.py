"""How a record becomes a ClickHouse row: the column order of each sink table. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Context, Decimal
from operator import itemgetter
from typing import Any

import orjson

from schemas.alert import Alert
from schemas.alert_action import AlertAction
from schemas.dead_letter import DeadLetter
from schemas.enriched import EnrichedDeclaration
from schemas.party import PartyMerge
from stream.warehouse.client import Warehouse

DECLARATION_COLUMNS = (
    "declaration_id", "line_no", "declared_at", "flow", "reporter", "hs_code", "hs_digits", "hs2",
    "hs4", "hs6", "hs6_known", "description", "quantity", "unit", "unit_code", "value", "currency",
    "value_usd", "net_weight_kg", "origin_country", "dispatch_country", "destination_country",
    "exporter_name", "exporter_country", "exporter_id", "exporter_address", "importer_name",
    "importer_country", "importer_id", "importer_address", "notify_name", "notify_country",
    "notify_id", "declarant_name", "declarant_country", "declarant_id", "manufacturer", "brand",
    "source", "source_record_id", "extra", "flags", "hs_code_status", "hs_version", "hs2022_read",
    "categories", "chpl_tier", "evidence", "confidence", "misdeclaration_suspected",
    "misdeclaration_reason", "screening_hits", "screened_entity_ids", "screening_max_score",
    "alert_rules", "rules_version", "raw_topic", "raw_partition", "raw_offset", "enriched_at",
    "importer_party_id", "exporter_party_id", "notify_party_id", "declarant_party_id",
    "manufacturer_party_id",
)  # fmt: skip
ALERT_COLUMNS = (
    "alert_id",
    "rule",
    "severity",
    "score",
    "reason",
    "lines",
    "line_count",
    "party_key",
    "parties",
    "categories",
    "subject",
    "chpl_tier",
    "destination_country",
    "source",
    "rules_version",
    "first_seen",
    "last_seen",
    "created_at",
    "suppressed_by",
    "withdrawn",
)
DEAD_LETTER_COLUMNS = (
    "letter_id", "source", "origin", "position", "stage", "reason", "payload", "topic",
    "partition", "offset", "failed_at",
)  # fmt: skip


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


_WIDE = Context(prec=80)
_VALUE_STEP, _USD_STEP = Decimal("0.0001"), Decimal("0.01")  # Decimal(38, 4), Decimal(38, 2)


def _cut(value: Decimal | str | None, step: Decimal) -> Decimal | None:
    """A decimal cut (toward zero) to its column's scale, as ClickHouse cuts the text of a
    JSON insert. clickhouse-connect scales a value within 38 significant digits, so one with
    more places than the column keeps (34 + 5 digits) would otherwise round up past it."""
    if value is None:
        return None
    return Decimal(value).quantize(step, rounding=ROUND_DOWN, context=_WIDE)


def declaration_row(line: EnrichedDeclaration) -> list[Any]:
    return [
        line.declaration_id, line.line_no, line.declared_at, line.flow, line.reporter,
        line.hs_code, line.hs_digits, line.hs2, line.hs4, line.hs6, line.hs6_known,
        line.description, None if line.quantity is None else float(line.quantity), line.unit,
        line.unit_code, _cut(line.value, _VALUE_STEP), line.currency,
        _cut(line.value_usd, _USD_STEP),
        None if line.net_weight_kg is None else float(line.net_weight_kg),
        line.origin_country, line.dispatch_country, line.destination_country,
        line.exporter_name, line.exporter_country, line.exporter_id, line.exporter_address,
        line.importer_name, line.importer_country, line.importer_id, line.importer_address,
        line.notify_name, line.notify_country,
        line.notify_id, line.declarant_name, line.declarant_country, line.declarant_id,
        line.manufacturer, line.brand,
        line.source or "", line.source_record_id, _json(line.extra), list(line.flags),
        line.hs_code_status, line.hs_version, list(line.hs2022_read),
        list(line.categories), line.chpl_tier,
        _json([e.model_dump(mode="json") for e in line.evidence]), line.confidence,
        line.misdeclaration_suspected, line.misdeclaration_reason,
        _json([h.model_dump(mode="json") for h in line.screening_hits]),
        sorted({h.entity_id for h in line.screening_hits}),
        max((h.score for h in line.screening_hits), default=0.0),
        list(line.alert_rules), line.rules_version, line.raw_topic, line.raw_partition,
        line.raw_offset, line.enriched_at,
        line.importer_party_id or "", line.exporter_party_id or "", line.notify_party_id or "",
        line.declarant_party_id or "", line.manufacturer_party_id or "",
    ]  # fmt: skip


_ID = itemgetter("declaration_id", "line_no")
_GOODS = itemgetter(
    "flow", "reporter", "hs_code", "hs_digits", "hs2", "hs4", "hs6", "hs6_known", "description"
)
_UNIT = itemgetter("unit", "unit_code")
_PARTIES = itemgetter(
    "origin_country", "dispatch_country", "destination_country", "exporter_name",
    "exporter_country", "exporter_id", "exporter_address", "importer_name", "importer_country",
    "importer_id", "importer_address", "notify_name", "notify_country", "notify_id",
    "declarant_name", "declarant_country", "declarant_id", "manufacturer", "brand",
)  # fmt: skip
_STATUS = itemgetter("hs_code_status", "hs_version", "hs2022_read", "categories", "chpl_tier")
_MISDECLARATION = itemgetter("confidence", "misdeclaration_suspected", "misdeclaration_reason")
_RULES = itemgetter("alert_rules", "rules_version", "raw_topic", "raw_partition", "raw_offset")
_PARTY_IDS = itemgetter(
    "importer_party_id", "exporter_party_id", "notify_party_id", "declarant_party_id",
    "manufacturer_party_id",
)  # fmt: skip


def declaration_row_from_json(line: dict[str, Any]) -> list[Any]:
    """:func:`declaration_row` of a line as its JSON reads (``orjson.loads`` of an enriched
    batch the worker wrote), without building the model: the same values, column by column
    (``tests/unit/stream/test_sink_rows.py`` compares the two). Runs of columns taken as
    they are go through ``itemgetter``; the lists are orjson's own, not copied."""
    hits = line["screening_hits"]
    quantity, value, value_usd, weight = (
        line["quantity"], line["value"], line["value_usd"], line["net_weight_kg"]
    )  # fmt: skip
    return [
        *_ID(line), date.fromisoformat(line["declared_at"]), *_GOODS(line),
        None if quantity is None else float(quantity), *_UNIT(line),
        _cut(value, _VALUE_STEP), line["currency"], _cut(value_usd, _USD_STEP),
        None if weight is None else float(weight), *_PARTIES(line),
        line["source"] or "", line["source_record_id"], _json(line["extra"]), line["flags"],
        *_STATUS(line), _json(line["evidence"]), *_MISDECLARATION(line), _json(hits),
        sorted({h["entity_id"] for h in hits}) if hits else [],
        max(h["score"] for h in hits) if hits else 0.0, *_RULES(line),
        datetime.fromisoformat(line["enriched_at"]),
        *[x or "" for x in _PARTY_IDS(line)],
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class JsonColumns:
    """How ClickHouse builds a table's rows from JSON objects (``JSONEachRow``) by itself:
    ``INSERT INTO <table> (columns) SELECT select FROM <the JSON read as structure>`` (see
    :meth:`stream.warehouse.client.Warehouse.insert_json`). ``fields``: the keys every
    object must carry (a missing one would silently take its type's default); ``row``: the
    same row built in Python, for batches that cannot go as JSON."""

    columns: tuple[str, ...]
    structure: str
    select: str
    fields: frozenset[str]
    row: Callable[[dict[str, Any]], list[Any]]


# The JSON fields of an enriched line as ClickHouse reads them, and how each column follows
# from them: the same values as declaration_row_from_json, column for column
# (tests/unit/stream/test_sink_json_insert.py inserts both ways and compares). Decimals as
# text parse into Decimal(38, s) truncating like clickhouse-connect; Float64 parses exactly
# with precise_float_parsing (JSON_INSERT_SETTINGS); Float32 goes through Float64 as Python
# rounds it (parsing the text straight into Float32 rounds once, which differs on ties);
# objects and arrays kept as JSON text are read verbatim: the batch is re-encoded by orjson,
# which writes them as orjson.dumps does.
_JSON_TYPES = {
    "line_no": "UInt32", "declared_at": "Date", "hs6_known": "Bool",
    "quantity": "Nullable(Float64)", "value": "Nullable(Decimal(38, 4))",
    "value_usd": "Nullable(Decimal(38, 2))", "net_weight_kg": "Nullable(Float64)",
    "flags": "Array(String)", "hs2022_read": "Array(String)", "categories": "Array(String)",
    "confidence": "Float64", "misdeclaration_suspected": "Bool",
    "alert_rules": "Array(String)", "raw_partition": "Int32", "raw_offset": "Int64",
    "enriched_at": "DateTime64(3, 'UTC')",
}  # fmt: skip
_NOT_NULL = (
    "declaration_id", "flow", "hs_code", "hs_digits", "hs2", "hs4", "hs6", "description",
    "extra", "hs_code_status", "hs_version", "evidence", "screening_hits", "rules_version",
    "raw_topic",
)  # fmt: skip
_HITS = "JSONExtract(screening_hits, 'Array(Tuple(entity_id String, score Float64))')"
_DERIVED = {
    "source": "ifNull(source, '')",
    "confidence": "toFloat32(confidence)",
    "screened_entity_ids": f"arraySort(arrayDistinct({_HITS}.1))",
    "screening_max_score": f"toFloat32(if(screening_hits = '[]', 0., arrayMax({_HITS}.2)))",
    **{f"{role}_party_id": f"ifNull({role}_party_id, '')" for role in (
        "importer", "exporter", "notify", "declarant", "manufacturer"
    )},
}  # fmt: skip


def _declaration_json() -> JsonColumns:
    derived_only = ("screened_entity_ids", "screening_max_score")
    fields = [c for c in DECLARATION_COLUMNS if c not in derived_only]
    types = {
        c: _JSON_TYPES.get(c, "String" if c in _NOT_NULL else "Nullable(String)") for c in fields
    }
    select = [_DERIVED.get(c, c) for c in DECLARATION_COLUMNS]
    return JsonColumns(
        columns=DECLARATION_COLUMNS,
        structure=", ".join(f"{c} {types[c]}" for c in fields),
        select=", ".join(select),
        fields=frozenset(fields),
        row=declaration_row_from_json,
    )


DECLARATION_JSON = _declaration_json()


def alert_row(alert: Alert) -> list[Any]:
    return [
        alert.alert_id,
        alert.rule,
        alert.severity,
        alert.score,
        alert.reason,
        [(k.declaration_id, k.line_no) for k in alert.lines],
        alert.line_count,
        alert.partition_key(),
        _json([p.model_dump(mode="json") for p in alert.parties]),
        list(alert.categories),
        alert.subject,
        alert.chpl_tier,
        alert.destination_country,
        alert.source,
        alert.rules_version,
        alert.first_seen,
        alert.last_seen,
        alert.created_at,
        alert.suppressed_by,
        alert.withdrawn,
    ]


ACTION_COLUMNS = (
    "event_id", "alert_id", "action", "actor", "actor_role", "at", "rule", "outcome",
    "status_before", "status_after", "before", "after", "comment", "suppression",
)  # fmt: skip


def action_row(action: AlertAction) -> list[Any]:
    suppression = action.suppression.model_dump_json() if action.suppression else ""
    return [
        action.event_id, action.alert_id, action.action, action.actor, action.actor_role,
        action.at, action.rule, action.outcome, action.before.get("status"),
        action.after.get("status"), _json(action.before), _json(action.after), action.comment,
        suppression,
    ]  # fmt: skip


PARTY_MERGE_COLUMNS = ("event_id", "kind", "from_party", "to_party", "reason", "at", "by")


def party_merge_row(merge: PartyMerge) -> list[Any]:
    return [
        merge.event_id, merge.kind, merge.from_party, merge.to_party, merge.reason, merge.at,
        merge.by,
    ]  # fmt: skip


def dead_letter_row(letter: DeadLetter) -> list[Any]:
    return [
        letter.identity(), letter.source, letter.origin, letter.position,
        letter.stage, letter.reason, letter.payload, letter.topic, letter.partition,
        letter.offset, letter.failed_at,
    ]  # fmt: skip


def insert_declarations(
    warehouse: Warehouse, lines: Sequence[EnrichedDeclaration], token: str
) -> None:
    warehouse.insert_rows(
        "declarations", [declaration_row(x) for x in lines], DECLARATION_COLUMNS, token
    )


def insert_alerts(warehouse: Warehouse, alerts: Sequence[Alert], token: str) -> None:
    warehouse.insert_rows("alerts", [alert_row(a) for a in alerts], ALERT_COLUMNS, token)
