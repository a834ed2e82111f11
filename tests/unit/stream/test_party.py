"""Party resolution: one id per company across scripts, spellings and identifiers."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from schemas.rule_data import default_rules
from stream.party_eval import evaluate_clusters, resolver_for
from stream.stages.party import EVENT_FIELDS, PartyRegistry, PartyResolver, RegistryEvent

CLUSTERS = Path(__file__).parents[2] / "data" / "party_clusters.jsonl"
SPELLINGS = Path(__file__).parents[2] / "data" / "party_spellings.jsonl"
SPELLINGS_BUILDER = Path(__file__).parents[2] / "data" / "build_party_spellings.py"
SIRIUS_INN = "7704730655"  # listed by the EU for JSC Sirius (32014R0833 annex IV)


@pytest.fixture(scope="module")
def resolver() -> PartyResolver:
    return resolver_for(default_rules())


def test_demo_spellings_are_one_party_and_a_near_miss_is_another(resolver: PartyResolver) -> None:
    registry = PartyRegistry()
    ids = {
        name: resolver.resolve(registry, name, country).party_id
        for name, country in [
            ("OOO Vektor-Snab", "RU"),
            ("ООО «ВЕКТОР-СНАБ»", "RU"),
            ("Vektor Snab, LLC", None),
            ("ООО ВЕКТОР-СТРОЙ", "RU"),
            ("AO Tekhnokom", "RU"),
            ("AO TEKHNOKOM", "RU"),
        ]
    }
    assert ids["OOO Vektor-Snab"] == ids["ООО «ВЕКТОР-СНАБ»"] == ids["Vektor Snab, LLC"]
    assert ids["ООО ВЕКТОР-СТРОЙ"] != ids["OOO Vektor-Snab"]
    assert ids["AO Tekhnokom"] == ids["AO TEKHNOKOM"]
    assert ids["AO Tekhnokom"] != ids["OOO Vektor-Snab"]


def test_ids_are_deterministic_and_a_replayed_registry_agrees(resolver: PartyResolver) -> None:
    feed = [("OOO Vektor-Snab", "RU"), ("Zala Aero Group", "RU"), ("ООО «ВЕКТОР-СНАБ»", "RU")]
    first, second = PartyRegistry(), PartyRegistry()
    events: list[RegistryEvent] = []
    got_first = []
    for name, country in feed:
        result = resolver.resolve(first, name, country)
        got_first.append(result.party_id)
        events.extend(result.events)
    assert got_first == [resolver.resolve(second, n, c).party_id for n, c in feed]
    replayed = PartyRegistry()
    for event in events:
        replayed.apply(RegistryEvent.from_dict(event.to_dict()), resolver.normalise)
    later = resolver.resolve(replayed, "Vektor Snab LLC", "RU")
    assert later.party_id == got_first[0]
    assert later.events[0].kind == "name"


def test_a_shared_identifier_merges_two_name_parties(resolver: PartyResolver) -> None:
    registry = PartyRegistry()
    sirius = resolver.resolve(registry, "JSC Concern Sirius", "RU", [SIRIUS_INN]).party_id
    other = resolver.resolve(registry, "OOO Orbita-Tekh", "RU").party_id
    assert other != sirius
    merged = resolver.resolve(registry, "OOO Orbita-Tekh", "RU", [f"ИНН {SIRIUS_INN}"])
    assert merged.party_id == sirius
    (merge,) = [e for e in merged.events if e.kind == "merge"]
    assert (merge.party, merge.to) == (other, sirius)
    assert "ru_inn:7704730655" in (merge.reason or "")
    assert registry.root(other) == sirius


def test_an_identifier_with_wrong_check_digits_links_nothing(resolver: PartyResolver) -> None:
    registry = PartyRegistry()
    wrong = SIRIUS_INN[:-1] + str((int(SIRIUS_INN[-1]) + 1) % 10)
    a = resolver.resolve(registry, "Alfa Prom", "RU", [wrong]).party_id
    b = resolver.resolve(registry, "Omega Snab", "RU", [wrong]).party_id
    assert a != b
    assert not registry.identifiers


def test_a_split_undoes_a_merge_and_it_is_not_redone_automatically(
    resolver: PartyResolver,
) -> None:
    registry = PartyRegistry()
    sirius = resolver.resolve(registry, "JSC Concern Sirius", "RU", [SIRIUS_INN]).party_id
    orbita = resolver.resolve(registry, "OOO Orbita-Tekh", "RU", [SIRIUS_INN])
    assert orbita.party_id == sirius and orbita.base != sirius
    assert orbita.base is not None
    event = resolver.split(registry, orbita.base, "analyst: a reseller, not Sirius")
    assert (event.kind, event.party, event.to) == ("split", orbita.base, sirius)
    again = resolver.resolve(registry, "OOO Orbita-Tekh", "RU", [f"INN {SIRIUS_INN}"])
    assert again.party_id == orbita.base and not [e for e in again.events if e.kind == "merge"]
    resolver.merge(registry, orbita.base, sirius, "analyst: it is Sirius after all")
    assert resolver.resolve(registry, "OOO Orbita-Tekh", "RU").party_id == sirius


def test_a_written_party_id_depends_on_the_line_alone(resolver: PartyResolver) -> None:
    """Two workers that met the spellings in other orders store the same id on a line."""
    feed = [("Vektor Snab, LLC", "RU"), ("OOO Vektor-Snab", "RU"), ("Zala Aero", "RU")]
    bases = []
    for order in (feed, feed[::-1]):
        registry = PartyRegistry()
        bases.append({n: resolver.resolve(registry, n, c).base for n, c in order})
    assert bases[0] == bases[1]
    assert bases[0]["Vektor Snab, LLC"] == bases[0]["OOO Vektor-Snab"]


def test_held_out_clusters_gate() -> None:
    """Pairwise precision on the held-out third of the EU-listed companies' names.

    Recall is printed by ``make eval`` and is far below 0.95: most names of one listed
    company are translations or abbreviations of each other, which no spelling comparison
    joins (see tests/data/README.md, "Party clusters")."""
    scores = evaluate_clusters(CLUSTERS, default_rules(), "gate")
    assert scores.names >= 400
    assert scores.precision >= 0.95, scores.merged_wrongly[:20]
    # floors under what is reached today (0.340 and 0.628), so recall cannot quietly fall
    assert scores.recall >= 0.33
    assert scores.spelling_recall >= 0.62, scores.split_wrongly[:20]


def test_spelling_gate() -> None:
    """Pairwise precision and recall on the held-out part of the spelling set: one real
    Cyrillic name per EU-listed company written as customs feeds write it (other
    Romanisation systems, upper case, legal form translated behind the name)."""
    scores = evaluate_clusters(SPELLINGS, default_rules(), "gate")
    assert scores.names >= 400
    assert scores.precision >= 0.95, scores.merged_wrongly[:20]
    assert scores.recall >= 0.95, scores.split_wrongly[:20]


def test_chinese_spellings_floor(tmp_path: Path) -> None:
    """The spelling set's Chinese companies alone (characters, the other script, pinyin as
    exporters write it): recall 0.91 on the gate part today, held above 0.90."""
    rows = [json.loads(line) for line in SPELLINGS.read_text(encoding="utf-8").splitlines()]
    chinese = [r for r in rows if any("\u4e00" <= c <= "\u9fff" for c in r["written_from"])]
    subset = tmp_path / "chinese.jsonl"
    subset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chinese))
    scores = evaluate_clusters(subset, default_rules(), "gate")
    assert scores.names >= 100
    assert scores.precision >= 0.95, scores.merged_wrongly[:20]
    assert scores.recall >= 0.90, scores.split_wrongly[:20]


def test_spelling_set_is_what_its_builder_writes() -> None:
    """Nothing in the spelling set is written by hand: the builder, run again on the
    cluster set with the pinned Romanisation package, gives the same rows."""
    spec = importlib.util.spec_from_file_location("build_party_spellings", SPELLINGS_BUILDER)
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    written = [json.loads(line) for line in SPELLINGS.read_text(encoding="utf-8").splitlines()]
    assert builder.build_rows() == written


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # the kind of body in Russian, in English and abbreviated
        ("АО «Научно-Производственное Объединение «Алмаз»", "NPO Almaz JSC"),
        ("Federal State Unitary Enterprise Almaz", "ФГУП «Алмаз»"),
        ("АО «НИИ СВТ»", "Научно-Исследовательский Институт Средств Вычислительной Техники"),
        ("ТАА ‘Дана Холдынгз’", "ООО ‘Дана Холдингз’"),
        # characters and pinyin, however spaced, the legal form in English or in pinyin
        ("广州欧赛科技有限公司", "Guangzhou Ousai Keji Co., Ltd."),
        ("香港凱利實業有限公司", "XIANG GANG KAI LI SHI YE YOU XIAN GONG SI"),
        ("Xianggang Kaili Shiye Youxian Gongsi", "香港凯利实业有限公司"),
    ],
)
def test_one_company_whatever_language_names_its_kind(
    resolver: PartyResolver, one: str, other: str
) -> None:
    registry = PartyRegistry()
    assert resolver.resolve(registry, one, None).party_id == (
        resolver.resolve(registry, other, None).party_id
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("LLC Atlas", "JSC ‘STC ‘Atlas’’"),  # a research centre is not the shop of that name
        ("АО «НПП «Волна»", "АО «НПП «Восток»"),  # only the kind in common
        ("深圳华信电子有限公司", "Shenzhen Huaxing Dianzi Youxian Gongsi"),  # 华兴, not 华信
    ],
)
def test_the_kind_of_body_alone_joins_nothing(
    resolver: PartyResolver, one: str, other: str
) -> None:
    registry = PartyRegistry()
    assert resolver.resolve(registry, one, None).party_id != (
        resolver.resolve(registry, other, None).party_id
    )


def _labelled_names(path: Path, part: str) -> list[tuple[str, str | None]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(line["name"], line.get("country")) for line in lines if line["part"] == part]


def test_score_bounds_are_never_below_the_scores(resolver: PartyResolver) -> None:
    """Issue 16: a candidate is skipped on an upper bound of its score; on pairs of real
    spellings, some alike, the bound is never below the score (words, whole names,
    syllable pairs)."""
    scorer, normalise = resolver.scorer, resolver.normalise
    names = [name for name, _ in _labelled_names(SPELLINGS, "dev")][:600]
    forms = [normalise(name) for name in names]
    checked = tight = 0
    for i, query in enumerate(forms):
        for listed in forms[max(0, i - 12) : i]:  # neighbours: often the same company
            words = " ".join(listed.words).split(" ")
            pinyin = " ".join(listed.pinyin).split(" ") if listed.pinyin else []
            score = scorer.compare_split(query, words, listed.compact, listed.han, pinyin)[0]
            bound = scorer.compare_bound(query, words, listed.compact, listed.han, pinyin)
            assert bound >= score - 1e-12, (query, listed, score, bound)
            assert scorer.bound(query.words, words) >= scorer.words(query.words, words)[0] - 1e-12
            checked += 1
            tight += bound - score < 1e-9
    assert checked > 5000 and tight > checked // 2


@pytest.mark.parametrize(("path", "part"), [(SPELLINGS, "dev"), (CLUSTERS, "dev")])
def test_skipping_candidates_on_their_bound_changes_no_resolution(
    path: Path, part: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same resolutions, events and reasons with every candidate scored in full."""
    from stream.stages import party

    def resolutions() -> list[object]:
        own = resolver_for(default_rules())
        registry = PartyRegistry()
        return [own.resolve(registry, name, country) for name, country in names]

    names = _labelled_names(path, part)[:1500]
    skipping = resolutions()
    monkeypatch.setattr(party, "BOUND_MARGIN", float("inf"))  # no candidate skipped
    assert resolutions() == skipping


def test_runs_of_initials_are_found_as_by_scanning_every_run(resolver: PartyResolver) -> None:
    """Issue 16: runs are looked up by their folded initials; the answer is the first run
    (by start, then length, of at most one word more than the abbreviation's letters) whose
    folded initials are the abbreviation's, as scanning them all finds it."""
    fold = resolver.normalise.fold

    def scanned(acronym: str, firsts: str) -> tuple[int, int] | None:
        for start in range(len(firsts)):
            for end in range(start + 1, min(len(firsts), start + len(acronym) + 1)):
                if fold(firsts[start : end + 1]) == fold(acronym):
                    return start, end + 1
        return None

    forms = [resolver.normalise(name) for name, _ in _labelled_names(CLUSTERS, "dev")[:800]]
    firsts = {"".join(w[0] for w in f.plain or f.words) for f in forms}
    acronyms = {w for f in forms for w in f.plain or f.words if 2 <= len(w) <= 6 and w.isalpha()}
    acronyms |= {"npo", "nii", "gnpp", "tsnii", "kb", "ckb", "td", "shch", "ks", "iyi"}
    found = 0
    for letters in sorted(firsts):
        for acronym in sorted(acronyms)[:120]:
            run = resolver._run_in(acronym, letters)
            assert run == scanned(acronym, letters), (acronym, letters)
            found += run is not None
    assert found > 30


def test_the_wire_form_names_every_field_of_a_registry_event() -> None:
    assert tuple(f.name for f in dataclasses.fields(RegistryEvent)) == EVENT_FIELDS
    event = RegistryEvent("merge", "p1", to="p2", reason="name 0.95")
    assert event.to_dict() == {"kind": "merge", "party": "p1", "to": "p2", "reason": "name 0.95"}
    assert RegistryEvent.from_dict(event.to_dict()) == event
