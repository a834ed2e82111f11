"""schemas.codecs: a batch of alert versions built from the alerts' own encodings."""

from datetime import UTC, datetime

import pytest

from schemas.alert import Alert, AlertBatch, LineKey, Party
from schemas.codecs import ALERT, ALERT_BATCH, alert_batch_json


def _alert(n: int, **more: object) -> Alert:
    moment = datetime(2024, 3, n, 12, 30, 5, 120000 * n, tzinfo=UTC)
    return Alert(
        alert_id=f"a{n}",
        rule="new_importer_chpl",
        severity="high",
        score=0.5 + n / 10,
        reason=f'importer "Вектор" {n} \u2028 «x»',
        lines=[LineKey(declaration_id=f"D{n}", line_no=n)],
        parties=[Party(role="importer", name="OOO Vektor", country="RU")],
        first_seen=moment,
        last_seen=moment,
        created_at=moment,
        **more,  # type: ignore[arg-type]
    )


def test_the_batch_is_byte_for_byte_what_its_model_encodes_to() -> None:
    for alerts in (
        [_alert(1)],
        [_alert(1), _alert(2, withdrawn=True, categories=["uav"], subject="2024-03")],
    ):
        joined = alert_batch_json([ALERT.encode(a) for a in alerts])
        assert joined == ALERT_BATCH.encode(AlertBatch(alerts=alerts))
        assert ALERT_BATCH.decode(joined).alerts == alerts


def test_an_empty_batch_is_refused_as_its_model_refuses_it() -> None:
    with pytest.raises(ValueError):
        alert_batch_json([])
