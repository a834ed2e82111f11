import json

from schemas.topic_schemas import JSONSCHEMA_DIR, TOPIC_VALUES, drifted, render


def test_checked_in_json_schemas_match_the_models() -> None:
    assert drifted() == [], "run `make schemas` and commit schemas/jsonschema/"


def test_every_topic_has_a_schema_file() -> None:
    assert {p.stem for p in JSONSCHEMA_DIR.glob("*.json")} == set(TOPIC_VALUES)


def test_schemas_describe_required_fields() -> None:
    alert = json.loads(render("alerts"))
    assert {"alert_id", "rule", "severity", "lines"} <= set(alert["required"])
    raw = json.loads(render("raw"))
    record = raw["$defs"]["RawRecord"]
    assert record["properties"]["payload"]["contentEncoding"] == "base64"
