"""Stateful rules and grouping, on plain-dict state as the faust tables hold it."""

import copy
from datetime import date
from typing import Any

import pytest

from schemas.alert import Alert
from schemas.facts import LineFact
from schemas.rule_data import load_rules
from stream.stages.behaviour import (
    _months_before,
    flow_surge,
    group,
    group_alert,
    group_key,
    group_state,
    importer_surge,
    new_importer_chpl,
    next_period,
    observe_importer,
    period_of,
    previous_period,
    signature,
    surge_months,
)
from tests.unit.stream.line_facts import fact

RULES = load_rules().alerts


def replay(facts: list[LineFact]) -> dict[str, Any]:
    return observe_importer(None, facts, RULES)


def test_periods_and_their_predecessors() -> None:
    day = date(2024, 2, 10)
    assert [period_of(day, p) for p in ("month", "quarter", "half", "year")] == [
        "2024-02",
        "2024-Q1",
        "2024-H1",
        "2024",
    ]
    assert previous_period("2024-01", "month") == "2023-12"
    assert previous_period("2024-Q1", "quarter") == "2023-Q4"
    assert previous_period("2024-H2", "half") == "2024-H1"
    assert previous_period("2024", "year") == "2023"


def test_a_new_importer_of_chpl_goods_raises_once_per_party() -> None:
    alert = new_importer_chpl("importer:pozitron", replay([fact("2024-03-05")]), RULES)
    assert alert is not None and alert.rule == "new_importer_chpl" and not alert.withdrawn
    assert "first seen in the feed on 2024-03-05" in alert.reason
    both = replay([fact("2024-03-05"), fact("2024-03-20", n=2)])
    again = new_importer_chpl("importer:pozitron", both, RULES)
    assert again is not None and again.alert_id == alert.alert_id  # same party, same id
    assert again.line_count == 2 and again.last_seen.day == 20


def test_an_importer_seen_before_the_invasion_is_not_new() -> None:
    history = replay([fact("2021-06-01", chpl_tier=None), fact("2024-03-05")])
    assert new_importer_chpl("importer:old", history, RULES) is None
    withdrawn = new_importer_chpl("importer:old", history, RULES, reported=True)
    assert withdrawn is not None and withdrawn.withdrawn


def test_ordinary_goods_or_safe_destinations_do_not_make_a_new_importer_alert() -> None:
    assert new_importer_chpl("k", replay([fact("2024-03-05", chpl_tier=None)]), RULES) is None
    safe = replay([fact("2024-03-05", destination_country="DE")])
    assert new_importer_chpl("k", safe, RULES) is None


def test_importer_surge_against_its_trailing_baseline() -> None:
    history = [fact(f"2023-{m:02d}-10", 400_000 / 6, n=m) for m in range(7, 13)]
    quiet = replay([*history, fact("2024-01-10", 100_000)])
    assert importer_surge("k", quiet, "2024-01", RULES) is None
    jumped = replay([*history, fact("2024-01-10", 100_000), fact("2024-01-11", 300_000_000)])
    alert = importer_surge("k", jumped, "2024-01", RULES)
    assert alert is not None and alert.severity == "high" and alert.subject == "2024-01"
    assert "2024-01" in alert.reason and "x its mean" in alert.reason and alert.line_count == 2
    assert surge_months(jumped, {"2023-09"}, RULES) == [
        "2023-09",
        "2023-10",
        "2023-11",
        "2023-12",
        "2024-01",
    ]


def test_no_surge_without_a_baseline() -> None:
    assert importer_surge("k", replay([fact("2024-01-11", 300_000_000)]), "2024-01", RULES) is None


def candidate(rule: str, key: tuple[str, int], day: str, **more: Any) -> Alert:
    moment = f"{day}T00:00:00"
    return Alert.model_validate(
        {
            "alert_id": f"{rule}-{key}",
            "rule": rule,
            "severity": "high",
            "score": 0.9,
            "reason": "r",
            "lines": [{"declaration_id": key[0], "line_no": key[1]}],
            "categories": ["body_armor"],
            "first_seen": moment,
            "last_seen": moment,
            **more,
        }
    )


def test_alerts_of_one_rule_party_and_category_in_a_window_are_grouped() -> None:
    first = candidate("battlefield_goods_to_high_risk", ("D1", 1), "2024-03-01")
    key = group_key(first, "importer:vektorsnab", date(2024, 3, 1), "month")
    opened = group(None, key, first)
    assert opened.new
    second = candidate("battlefield_goods_to_high_risk", ("D2", 1), "2024-03-02")
    assert group_key(second, "importer:vektorsnab", date(2024, 3, 30), "month") == key
    joined = group(group_alert(group_state(opened.alert)), key, second)
    assert not joined.new and joined.changed
    assert joined.alert.alert_id == opened.alert.alert_id
    assert [k.declaration_id for k in joined.alert.lines] == ["D1", "D2"]
    assert joined.alert.line_count == 2
    # the same line again (a replay) changes nothing
    replayed = group(joined.alert, key, second)
    assert not replayed.new and not replayed.changed and replayed.alert == joined.alert
    # another category, another party or another window: another alert
    helmets = candidate(
        "battlefield_goods_to_high_risk", ("D3", 1), "2024-03-02", categories=["helmet"]
    )
    assert group_key(helmets, "importer:vektorsnab", date(2024, 3, 2), "month") != key
    assert group_key(second, "importer:other", date(2024, 3, 2), "month") != key
    assert group_key(second, "importer:vektorsnab", date(2024, 4, 2), "month") != key
    # a new importer is one alert whatever the month
    new = candidate("new_importer_chpl", ("D4", 1), "2024-03-02")
    assert group_key(new, "importer:x", date(2024, 3, 2), "month") == group_key(
        new, "importer:x", date(2025, 1, 2), "month"
    )


def flow_state(**totals: float) -> dict[str, Any]:
    periods = {
        p.replace("_", "-"): {
            "v": v,
            "n": 1,
            "first": ["2023-02-01", "D9", 1],
            "last": "2023-06-01",
        }
        for p, v in totals.items()
    }
    return {"periods": periods}


def test_flow_surge_holds_per_flow_and_period() -> None:
    rule = RULES.rules.flow_surge
    state = flow_state(**{"2023_Q1": 100_000.0, "2023_Q2": 160_000.0})
    alert = flow_surge("armor_ceramics|RU", state, "2023-Q2", rule)
    assert alert is not None and "+60%" in alert.reason and not alert.withdrawn
    assert alert.first_seen.isoformat().startswith("2023-02-01")
    falling = flow_state(**{"2023_Q1": 100_000.0, "2023_Q2": 39_000.0})
    assert flow_surge("armor_ceramics|UA", falling, "2023-Q2", rule) is None
    reported = flow_surge("armor_ceramics|UA", falling, "2023-Q2", rule, reported=True)
    assert reported is not None and reported.withdrawn
    small = flow_state(**{"2023_Q1": 1_000.0, "2023_Q2": 9_000.0})
    assert flow_surge("uav|RU", small, "2023-Q2", rule) is None


def test_next_period_undoes_previous_period() -> None:
    for label, period in (
        ("2024-01", "month"),
        ("2024-Q1", "quarter"),
        ("2024-H1", "half"),
        ("2024", "year"),
        ("2023-12", "month"),
        ("2023-Q4", "quarter"),
    ):
        assert previous_period(next_period(label, period), period) == label


def test_new_importer_alert_says_how_long_before_its_first_line_it_was_registered() -> None:
    lines = [
        fact("2024-03-20", n=2, importer_incorporated="2024-01-10"),
        fact("2024-03-05", chpl_tier=None),  # not sensitive: the count starts at 03-20
        fact("2024-04-02", n=3, importer_incorporated="2024-02-01"),
        fact("2024-04-09", n=4),  # a line whose importer matched no dated entity
    ]
    alerts = []
    for order in (lines, lines[::-1], [lines[2], lines[0], lines[3], lines[1]]):
        state: dict[str, Any] | None = None
        for line in order:  # one batch per line, in this order
            state = observe_importer(state, [line], RULES)
        assert state is not None and state["incorporated"] == "2024-01-10"
        alert = new_importer_chpl("importer:p", state, RULES)
        assert alert is not None
        alerts.append(alert.reason)
    assert alerts[0] == alerts[1] == alerts[2]
    assert "registered on 2024-01-10, 70 days before its first CHPL/battlefield line" in alerts[0]


def test_no_registration_date_no_claim() -> None:
    alert = new_importer_chpl("importer:p", replay([fact("2024-03-05")]), RULES)
    assert alert is not None and "registered" not in alert.reason
    assert "incorporated" not in replay([fact("2024-03-05")])


def test_an_importer_alert_is_not_built_again_when_its_signature_was_reported() -> None:
    """``unchanged``: the signature last reported. The rule returns None for it (no new
    version) and the same alert as without it for any other signature (issue 16)."""
    history = [fact(f"2023-{m:02d}-10", 400_000 / 6, n=m) for m in range(7, 13)]
    state = replay([*history, fact("2024-01-10", 100_000), fact("2024-01-11", 300_000_000)])
    late = replay([fact("2021-06-01", chpl_tier=None), fact("2024-03-05")])
    cases = [
        (lambda **kw: importer_surge("k", state, "2024-01", RULES, **kw), False),
        (lambda **kw: importer_surge("k", state, "2023-09", RULES, **kw), True),
        (lambda **kw: new_importer_chpl("importer:k", state, RULES, **kw), False),
        (lambda **kw: new_importer_chpl("importer:old", late, RULES, **kw), True),
    ]
    for build, reported in cases:
        alert = build(reported=reported)
        assert alert is not None
        assert build(reported=reported, unchanged=signature(alert)) is None
        other = build(reported=reported, unchanged="0|1|low|1|D#1|")
        assert other is not None
        assert other.model_dump(exclude={"created_at"}) == alert.model_dump(exclude={"created_at"})


def test_observing_lines_leaves_the_state_it_was_given_as_it_was() -> None:
    """Only the months and days the lines touch are copied (issue 16): the state read from
    the table must stay unchanged, as a transition that fails writes nothing."""
    state = replay([fact(f"2023-{m:02d}-10", 1000.0 * m, n=m) for m in range(1, 13)])
    before = copy.deepcopy(state)
    after = observe_importer(state, [fact("2023-05-10", 5.0, n=99), fact("2024-02-01")], RULES)
    assert state == before
    assert after["months"]["2023-05"]["n"] == 2 and after["months"]["2024-02"]["n"] == 1
    assert after["months"]["2023-06"] is state["months"]["2023-06"]  # untouched: shared


@pytest.mark.parametrize("span", [1, 3, 6, 12])
def test_surge_months_are_the_touched_ones_and_those_whose_baseline_holds_one(span: int) -> None:
    rules = RULES.model_copy(
        update={
            "rules": RULES.rules.model_copy(
                update={
                    "importer_surge": RULES.rules.importer_surge.model_copy(
                        update={"baseline_months": span}
                    )
                }
            )
        }
    )
    traded = [f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13) if (y + m) % 3]
    state: dict[str, Any] = {"months": {month: {} for month in traded}}
    for touched in ({"2023-01"}, {"2022-12", "2024-06"}, {"2024-12"}, set(traded[::5])):
        expected = sorted(
            m for m in traded if m in touched or any(t in _months_before(m, span) for t in touched)
        )
        assert surge_months(state, touched, rules) == expected
