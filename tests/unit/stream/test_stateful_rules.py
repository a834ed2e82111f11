"""The stateful rules' transitions on plain dicts, as the agents run them over faust tables."""

import random
from collections import Counter
from typing import Any

from schemas.alert import Alert, alert_id
from schemas.declaration import RawRef
from schemas.facts import FactBatch, FlowBatch, FlowFact, FlowFacts, LineFact, PartyFacts
from schemas.rule_data import load_rules
from stream.stages.behaviour import IMPORTER_SURGE, NEW_IMPORTER_CHPL
from stream.stages.stateful import (
    APPLIED_MEMORY,
    flow_transition,
    party_transition,
    remember,
)
from tests.unit.stream.line_facts import fact

RULES = load_rules().alerts
PARTY = "importer:ooopozitron"
FLOW = "armor_ceramics|RU"


class Table:
    """A table as the agent sees it: reads counted per key, writes applied as returned."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.reads: Counter[str] = Counter()

    def get(self, key: str) -> dict[str, Any] | None:
        self.reads[key] += 1
        return self.data.get(key)

    def apply(self, writes: dict[str, dict[str, Any]]) -> None:
        self.data.update(writes)


class Party:
    def __init__(self) -> None:
        self.importers, self.groups = Table(), Table()

    def run(self, batch: FactBatch) -> tuple[list[Alert], list[Alert], dict[str, Any]]:
        versions: list[Alert] = []
        new: list[Alert] = []
        writes: dict[str, Any] = {"importers": {}, "groups": {}}
        for party in batch.parties:
            step = party_transition(
                party, batch.raw.token(), RULES, self.importers.get, self.groups.get
            )
            self.importers.apply(step.importers)
            self.groups.apply(step.alert_groups)
            versions += step.versions
            new += step.new
            writes["importers"].update(step.importers)
            writes["groups"].update(step.alert_groups)
        return versions, new, writes


def raw(offset: int) -> RawRef:
    return RawRef(topic="customs.raw.jsonl", partition=0, offset=offset)


def facts(
    offset: int, *lines: LineFact, candidates: list[Alert] | None = None, key: str = PARTY
) -> FactBatch:
    party = PartyFacts(party_key=key, lines=list(lines), candidates=candidates or [])
    return FactBatch(raw=raw(offset), parties=[party])


def candidate(line: LineFact) -> Alert:
    """A stateless rule's alert on one line, as the enrich agent attaches it."""
    moment = f"{line.declared_at.isoformat()}T00:00:00"
    return Alert.model_validate(
        {
            "alert_id": f"battlefield-{line.declaration_id}",
            "rule": "battlefield_goods_to_high_risk",
            "severity": "high",
            "score": 0.9,
            "reason": "r",
            "lines": [{"declaration_id": line.declaration_id, "line_no": line.line_no}],
            "categories": ["body_armor"],
            "first_seen": moment,
            "last_seen": moment,
        }
    )


def test_a_new_importer_opens_one_alert_and_its_state() -> None:
    party = Party()
    versions, new, writes = party.run(facts(1, fact("2024-03-05")))
    assert [a.rule for a in new] == [NEW_IMPORTER_CHPL] and versions == new
    state = writes["importers"][PARTY]
    assert state["first_seen"] == "2024-03-05" and state["months"]["2024-03"]["v"] == 1000.0
    assert state["applied"] == ["customs.raw.jsonl-0-1"]
    assert list(state["open"]) == [NEW_IMPORTER_CHPL]
    # a later line of the same importer is a new version of that alert, not another one
    versions, new, _ = party.run(facts(2, fact("2024-03-20")))
    assert new == [] and [a.line_count for a in versions] == [2]


def test_a_new_importer_alert_is_withdrawn_when_earlier_trade_arrives_late() -> None:
    party = Party()
    _, (opened,), _ = party.run(facts(1, fact("2024-03-05")))
    versions, new, _ = party.run(facts(2, fact("2019-06-01", chpl_tier=None)))
    (withdrawn,) = new
    assert withdrawn.alert_id == opened.alert_id and withdrawn.withdrawn and versions == new
    assert withdrawn.reason.startswith("withdrawn:")
    assert NEW_IMPORTER_CHPL not in party.importers.data[PARTY]["open"]
    # a CHPL line within recent_days of the (new) first line makes it stand again
    _, (again,), _ = party.run(facts(3, fact("2019-07-01")))
    assert again.alert_id == opened.alert_id and not again.withdrawn and again.line_count == 1


def test_an_importer_surge_against_the_months_before() -> None:
    party = Party()
    history = [fact(f"2023-{m:02d}-10", 400_000 / 6, n=m) for m in range(7, 13)]
    party.run(facts(1, *history))
    _, new, _ = party.run(facts(2, fact("2024-01-11", 300_000_000)))
    surge = [a for a in new if a.rule == IMPORTER_SURGE]
    assert len(surge) == 1 and surge[0].subject == "2024-01" and surge[0].line_count == 1
    assert party.importers.data[PARTY]["months"]["2024-01"]["v"] == 300_000_000


def test_a_surge_is_withdrawn_when_a_larger_baseline_arrives_late() -> None:
    party = Party()
    party.run(facts(1, fact("2023-12-10", 50_000, n=1)))
    _, new, _ = party.run(facts(2, fact("2024-01-11", 1_000_000, n=2)))
    (surge,) = [a for a in new if a.rule == IMPORTER_SURGE]
    _, new, _ = party.run(facts(3, fact("2023-11-10", 5_000_000, n=3)))
    (withdrawn,) = [a for a in new if a.rule == IMPORTER_SURGE]
    assert withdrawn.alert_id == surge.alert_id and withdrawn.withdrawn


def test_a_candidate_is_grouped_into_the_stored_alert() -> None:
    party = Party()
    first, second = fact("2024-03-01", chpl_tier=None), fact("2024-03-02", chpl_tier=None)
    _, opened, _ = party.run(facts(1, first, candidates=[candidate(first)]))
    assert len(opened) == 1
    versions, new, writes = party.run(facts(2, second, candidates=[candidate(second)]))
    assert new == []
    (merged,) = versions
    assert merged.alert_id == opened[0].alert_id and merged.line_count == 2
    assert [k.declaration_id for k in merged.lines] == [first.declaration_id, second.declaration_id]
    (gkey,) = writes["groups"]
    assert writes["groups"][gkey]["alert"]["line_count"] == 2


def test_a_redelivered_raw_message_is_counted_once() -> None:
    party = Party()
    line = fact("2024-03-05", chpl_tier=None)
    batch = facts(7, line, candidates=[candidate(line)])
    party.run(batch)
    before = party.importers.data[PARTY]
    versions, new, writes = party.run(batch)
    assert new == [] and writes == {"importers": {}, "groups": {}}
    assert party.importers.data[PARTY] == before
    assert before["months"]["2024-03"]["v"] == 1000.0 and before["months"]["2024-03"]["n"] == 1
    assert [a.line_count for a in versions] == [1]


def test_each_key_is_read_once_and_written_once_per_batch() -> None:
    party = Party()
    lines = [fact("2024-03-05", n=n) for n in range(5)]
    _, _, writes = party.run(facts(1, *lines, candidates=[candidate(x) for x in lines]))
    assert set(party.importers.reads.values()) == {1} and set(party.groups.reads.values()) == {1}
    assert len(writes["importers"]) == 1 and len(writes["groups"]) == 1  # battlefield group


def test_exporter_keyed_parties_keep_no_importer_state() -> None:
    party = Party()
    line = fact("2024-03-05", chpl_tier=None)
    one = PartyFacts(party_key="exporter:x", lines=[line], candidates=[candidate(line)])
    step = party_transition(one, raw(1).token(), RULES, party.importers.get, party.groups.get)
    assert step.importers == {} and not party.importers.reads and len(step.new) == 1


def standing(alerts: list[Alert]) -> dict[str, int]:
    """The alerts standing after these versions: id → line count of the latest version."""
    latest: dict[str, Alert] = {}
    for alert in alerts:
        latest[alert.alert_id] = alert
    return {i: a.line_count for i, a in latest.items() if not a.withdrawn}


def test_the_alerts_standing_do_not_depend_on_the_order_lines_arrive_in() -> None:
    """The same lines in chronological order, reversed, shuffled and cut into other batches
    leave the same alerts standing with the same line counts."""
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    lines = [
        fact(
            f"{month}-{d:02d}",
            value=(9_000_000 if month == "2024-02" else 40_000) * d,
            n=d,
            chpl_tier="1" if d % 3 == 0 else None,
            categories=["body_armor"] if d % 4 == 0 else [],
        )
        for month in months
        for d in (3, 8, 12, 20)
    ] + [fact("2021-05-05", 1_000, n=99, chpl_tier=None)]
    results = []
    for order in range(4):
        shuffled = list(lines)
        if order == 1:
            shuffled.reverse()
        elif order >= 2:
            random.Random(order).shuffle(shuffled)
        size = [7, 3, 11, 100][order]
        party = Party()
        versions: list[Alert] = []
        for offset, start in enumerate(range(0, len(shuffled), size)):
            chunk = shuffled[start : start + size]
            cands = [candidate(x) for x in chunk if x.categories]
            versions += party.run(facts(offset, *chunk, candidates=cands))[0]
        results.append(standing(versions))
    assert all(r == results[0] for r in results[1:]), results
    surge = alert_id("group", f"{IMPORTER_SURGE}|{PARTY}|2024-02")
    assert results[0][surge] == 4  # the month's four lines
    assert alert_id("group", f"{NEW_IMPORTER_CHPL}|{PARTY}") not in results[0]  # seen in 2021
    assert len(results[0]) > 2  # battlefield groups per month stand too


def flow(offset: int, period: str, value: float, day: str = "2023-02-01") -> FlowBatch:
    fact = FlowFact(
        period=period,
        value_usd=value,
        lines=1,
        first_line=(f"D{offset}", 1),
        first_seen=day,
        last_seen=day,
    )
    return FlowBatch(
        raw=raw(offset), flows=[FlowFacts(flow_key=FLOW, facts=[fact])], source="jsonl"
    )


def run_flow(flows: Table, batch: FlowBatch) -> tuple[list[Alert], list[Alert], dict[str, Any]]:
    rule = RULES.rules.flow_surge
    step = flow_transition(batch.flows[0], batch.raw.token(), batch.source, "", rule, flows.get)
    flows.apply(step.flows)
    return step.versions, step.new, step.flows


def test_a_flow_surge_opens_once_per_period_and_redeliveries_count_once() -> None:
    flows = Table()
    assert run_flow(flows, flow(1, "2023-Q1", 100_000))[1] == []
    _, (alert,), _ = run_flow(flows, flow(2, "2023-Q2", 160_000, "2023-05-01"))
    assert alert.subject == f"{FLOW}|2023-Q2" and "+60%" in alert.reason
    versions, new, _ = run_flow(flows, flow(3, "2023-Q2", 50_000, "2023-05-02"))
    assert new == [] and [v.line_count for v in versions] == [2]  # a new version, not news
    periods = flows.data[FLOW]["periods"]
    assert {p: e["v"] for p, e in periods.items()} == {"2023-Q1": 100_000, "2023-Q2": 210_000}
    again = run_flow(flows, flow(3, "2023-Q2", 50_000))
    assert again == ([], [], {})  # the same raw message: not added twice


def test_a_flow_surge_is_withdrawn_when_the_previous_period_grows_late() -> None:
    flows = Table()
    run_flow(flows, flow(1, "2023-Q1", 100_000))
    _, (opened,), _ = run_flow(flows, flow(2, "2023-Q2", 160_000, "2023-05-01"))
    _, (withdrawn,), _ = run_flow(flows, flow(3, "2023-Q1", 100_000, "2023-02-02"))
    assert withdrawn.alert_id == opened.alert_id and withdrawn.withdrawn


def test_the_applied_tokens_are_bounded_newest_last() -> None:
    full = {"applied": [f"t{i}" for i in range(APPLIED_MEMORY)]}
    applied = remember(full, "new")
    assert len(applied) == APPLIED_MEMORY and applied[-1] == "new" and applied[0] == "t1"
    assert remember({}, "first") == ["first"]
    stored = Table()
    stored.data[FLOW] = {"periods": {}, **full}
    *_, written = run_flow(stored, flow(99, "2023-Q1", 1.0))
    kept = written[FLOW]["applied"]
    assert len(kept) == APPLIED_MEMORY and kept[-1] == "customs.raw.jsonl-0-99"
    assert kept[0] == "t1"


def test_an_importer_remembers_more_than_its_latest_raw_message() -> None:
    party = Party()
    first = facts(1, fact("2024-03-05", n=1))
    party.run(first)
    party.run(facts(2, fact("2024-03-06", n=2)))
    party.run(first)  # redelivered after a later message of the same party
    assert party.importers.data[PARTY]["months"]["2024-03"]["v"] == 2000.0
