"""The stateful rules' transitions on plain dicts, as the agents run them over faust tables."""

from collections import Counter
from typing import Any

from schemas.alert import Alert
from schemas.declaration import RawRef
from schemas.facts import FactBatch, FlowBatch, FlowFact, LineFact
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
        step = party_transition(batch, RULES, self.importers.get, self.groups.get)
        self.importers.apply(step.importers)
        self.groups.apply(step.alert_groups)
        return step.versions, step.new, {"importers": step.importers, "groups": step.alert_groups}


def raw(offset: int) -> RawRef:
    return RawRef(topic="customs.raw.jsonl", partition=0, offset=offset)


def facts(offset: int, *lines: LineFact, candidates: list[Alert] | None = None) -> FactBatch:
    return FactBatch(
        party_key=PARTY, raw=raw(offset), lines=list(lines), candidates=candidates or []
    )


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
    assert state["first_seen"] == "2024-03-05" and state["months"] == {"2024-03": 1000.0}
    assert state["applied"] == ["customs.raw.jsonl-0-1"]
    assert list(writes["groups"]) == [f"{NEW_IMPORTER_CHPL}|{PARTY}"]
    # a later line of the same importer joins that alert instead of opening another
    versions, new, _ = party.run(facts(2, fact("2024-03-20")))
    assert new == [] and [a.line_count for a in versions] == [2]


def test_an_importer_surge_against_the_months_before() -> None:
    party = Party()
    history = [fact(f"2023-{m:02d}-10", 400_000 / 6, n=m) for m in range(7, 13)]
    party.run(facts(1, *history))
    _, new, _ = party.run(facts(2, fact("2024-01-11", 300_000_000)))
    surge = [a for a in new if a.rule == IMPORTER_SURGE]
    assert len(surge) == 1 and surge[0].subject == "2024-01"
    assert party.importers.data[PARTY]["months"]["2024-01"] == 300_000_000


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
    assert before["months"] == {"2024-03": 1000.0}
    assert [a.line_count for a in versions] == [1]


def test_each_key_is_read_once_and_written_once_per_batch() -> None:
    party = Party()
    lines = [fact("2024-03-05", n=n) for n in range(5)]
    _, _, writes = party.run(facts(1, *lines, candidates=[candidate(x) for x in lines]))
    assert set(party.importers.reads.values()) == {1} and set(party.groups.reads.values()) == {1}
    assert len(writes["importers"]) == 1 and len(writes["groups"]) == 2  # new importer, battlefield


def test_exporter_keyed_parties_keep_no_importer_state() -> None:
    party = Party()
    line = fact("2024-03-05", chpl_tier=None)
    batch = FactBatch(
        party_key="exporter:x", raw=raw(1), lines=[line], candidates=[candidate(line)]
    )
    step = party_transition(batch, RULES, party.importers.get, party.groups.get)
    assert step.importers == {} and not party.importers.reads and len(step.new) == 1


def flow(offset: int, period: str, value: float) -> FlowBatch:
    fact = FlowFact(period=period, value_usd=value, lines=1, first_line=(f"D{offset}", 1))
    return FlowBatch(flow_key=FLOW, raw=raw(offset), facts=[fact], source="jsonl")


def test_a_flow_surge_fires_once_per_period_and_redeliveries_count_once() -> None:
    rule = RULES.rules.flow_surge
    flows = Table()

    def run(batch: FlowBatch) -> list[Alert]:
        step = flow_transition(batch, rule, flows.get)
        flows.apply(step.flows)
        return step.alerts

    assert run(flow(1, "2023-Q1", 100_000)) == []
    (alert,) = run(flow(2, "2023-Q2", 160_000))
    assert alert.subject == f"{FLOW}|2023-Q2" and "+60%" in alert.reason
    assert run(flow(3, "2023-Q2", 50_000)) == []  # fired already this period
    assert flows.data[FLOW]["fired"] == ["2023-Q2"]
    assert flows.data[FLOW]["totals"] == {"2023-Q1": 100_000, "2023-Q2": 210_000}
    again = flow_transition(flow(3, "2023-Q2", 50_000), rule, flows.get)
    assert again.alerts == [] and again.flows == {}  # the same raw message: not added twice


def test_the_applied_tokens_are_bounded_newest_last() -> None:
    full = {"applied": [f"t{i}" for i in range(APPLIED_MEMORY)]}
    applied = remember(full, "new")
    assert len(applied) == APPLIED_MEMORY and applied[-1] == "new" and applied[0] == "t1"
    assert remember({}, "first") == ["first"]
    rule = RULES.rules.flow_surge
    stored = {"totals": {}, "fired": [], **full}
    step = flow_transition(flow(99, "2023-Q1", 1.0), rule, {FLOW: stored}.get)
    kept = step.flows[FLOW]["applied"]
    assert len(kept) == APPLIED_MEMORY and kept[-1] == "customs.raw.jsonl-0-99"
    assert step.flows[FLOW]["applied"][0] == "t1"


def test_an_importer_remembers_more_than_its_latest_raw_message() -> None:
    party = Party()
    first = facts(1, fact("2024-03-05", n=1))
    party.run(first)
    party.run(facts(2, fact("2024-03-06", n=2)))
    party.run(first)  # redelivered after a later message of the same party
    assert party.importers.data[PARTY]["months"] == {"2024-03": 2000.0}
