"""Party resolution: which written names and identifiers on lines are one company.

A pure function over a registry state passed in (:class:`PartyRegistry`). Identifiers
decide first (checked with python-stdnum where it knows the scheme: an INN with wrong check
digits links nothing); then the name, normalised and scored exactly as screening does
(:mod:`stream.screening.names`, :class:`stream.screening.matcher.Scorer`), against the
names already registered; a name scoring ``parties.yaml``'s threshold joins that party,
otherwise a new party is registered.

Every written party has an id of its own, derived from its normalised name and country
(or, without a name, its first linking identifier): never from a counter, a clock or the
order lines came in, so the id a line carries is the same on every worker and after every
restart. That two written parties are one company is a ``merge`` (from one id to another,
with the reason: a name scoring the threshold, an identifier seen with both names, an
analyst's decision); a ``split`` undoes one. The warehouse stores the written party's id and
resolves it through the merges, so history regroups without rewriting a row.

Every change to the registry is a :class:`RegistryEvent`; :meth:`PartyRegistry.apply`
replays them, so a worker that reads the registry and merge topics holds the same registry.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from stdnum.exceptions import InvalidChecksum, ValidationError

from schemas.rule_data import PartyRules
from stream.screening.matcher import Own, Scorer, explain
from stream.screening.names import NameForm, NameNormaliser

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")

EventKind = Literal["name", "identifier", "merge", "split"]


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """One change to the registry; ``to_dict``/``from_dict`` are its wire form."""

    kind: EventKind
    party: str
    name: str | None = None
    country: str | None = None
    identifier: str | None = None
    to: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in EVENT_FIELDS if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryEvent:
        return cls(**{k: data.get(k) for k in EVENT_FIELDS})  # type: ignore[arg-type]


EVENT_FIELDS = tuple(f.name for f in fields(RegistryEvent))
"""A :class:`RegistryEvent`'s fields in order (``__slots__`` is not readable through a class
compiled by mypyc)."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """The party of one written name, how it was found, and the registry changes made."""

    party_id: str | None
    how: str
    events: tuple[RegistryEvent, ...] = ()
    base: str | None = None
    """The written party's own id (:meth:`PartyResolver.base_id`), before merges."""


class IdentifierReader:
    """Turns identifiers as written into registry keys (``ru_inn:7704730655``).

    A value is tried against each scheme of ``parties.yaml`` in order; the first whose
    python-stdnum module validates it names it. A value no scheme validates but that has the
    shape of one (same compact form accepted by ``compact`` but wrong check digits) is
    dropped; anything else long enough is kept as ``other:<COUNTRY>:<VALUE>``.
    """

    def __init__(self, rules: PartyRules) -> None:
        self.rules = rules
        self._schemes = [
            (s.scheme, importlib.import_module(f"stdnum.{s.module}"), s.linking)
            for s in rules.identifier_schemes
        ]

    def keys(self, value: str | None, country: str | None = None) -> list[tuple[str, bool]]:
        """Registry keys of one written identifier field, each with whether it links."""
        if not value:
            return []
        out: list[tuple[str, bool]] = []
        for part in re.split(r"[;,/]", value):
            key = self._key(part.strip(), country)
            if key is not None:
                out.append(key)
        return out

    def _key(self, value: str, country: str | None) -> tuple[str, bool] | None:
        compact = _NOT_ALNUM.sub("", value.upper())
        if not compact:
            return None
        wrong_check_digits = False
        for scheme, module, linking in self._schemes:
            try:
                return f"{scheme}:{module.validate(compact)}", linking
            except InvalidChecksum:
                wrong_check_digits = True
            except ValidationError:
                continue
        if wrong_check_digits or len(compact) < self.rules.other_identifier_min_length:
            return None
        return f"other:{(country or '').upper()}:{compact}", True


@dataclass(slots=True)
class _Name:
    """A registered name as the scorer reads it, split once (not for every comparison)."""

    party: str
    words: tuple[str, ...]
    compact: str
    han: bool
    country: str | None
    plain: tuple[str, ...]
    """The words as written; the same tuple as ``words`` when they are equal."""
    plain_compact: str
    pinyin: tuple[str, ...] = ()
    initials: _Initials | None = None
    """Its abbreviations and initials (:meth:`PartyResolver._initials_of`), once asked."""
    owns: tuple[Own, Own] | None = None
    """:meth:`Scorer.own` of its words and of its words as written, once asked."""


_Initials = tuple[tuple[str, ...], str, tuple[str, ...], str]
"""A name's words that may be abbreviations and the first letters of all its words: of the
words as written, then of the words beside its kind."""


def _split(words: Iterable[str]) -> tuple[str, ...]:
    """The words as the scorer reads them back from their joined form (joined with spaces,
    split at each space), so a name compares exactly as it did when stored as text; each
    word interned (names share most of theirs)."""
    return tuple(map(sys.intern, " ".join(words).split(" ")))


def _firsts(words: Iterable[str]) -> str:
    return sys.intern("".join(w[:1] for w in words))


BOUND_MARGIN = 1e-9
"""Added to a candidate's score bound against rounding (the bound and the score sum the
same weights in different orders)."""


@dataclass
class PartyRegistry:
    """Registered parties: their names in comparable form, identifiers, and merges.

    Plain data changed only through :meth:`apply` (``seen`` is a cache of resolutions), so
    replaying the event log rebuilds it; applying an event twice changes nothing more.
    """

    names: list[_Name] = field(default_factory=list)
    keys: dict[str, list[int]] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    splits: dict[str, str] = field(default_factory=dict)
    party_names: dict[str, list[str]] = field(default_factory=dict)
    party_identifiers: dict[str, list[str]] = field(default_factory=dict)
    seen: dict[tuple[str, str, tuple[str | None, ...]], str] = field(default_factory=dict)
    merge_events: int = 0
    """Merges and splits applied: what an id stands for may have changed when it moves."""

    def root(self, party: str) -> str:
        """The party a (possibly merged) id now stands for."""
        seen = 0
        while party in self.merged and seen < 64:
            party = self.merged[party]
            seen += 1
        return party

    def kept_apart(self, a: str, b: str) -> bool:
        """An analyst split ``a`` from ``b`` (or back): never merged again automatically."""
        return self.splits.get(a) == b or self.splits.get(b) == a

    def display_name(self, party: str) -> str | None:
        """The first spelling registered under the party (ClickHouse shows the most
        frequent one)."""
        spellings = self.party_names.get(party)
        return spellings[0] if spellings else None

    def apply(
        self, event: RegistryEvent, normalise: NameNormaliser, form: NameForm | None = None
    ) -> None:
        """Fold one event in; ``form``: the name's form when the caller has it already."""
        if event.kind == "name" and event.name is not None:
            self._add_name(event.party, event.name, event.country, normalise, form)
        elif event.kind == "identifier" and event.identifier is not None:
            self.identifiers.setdefault(event.identifier, event.party)
            held = self.party_identifiers.setdefault(event.party, [])
            if event.identifier not in held:
                held.append(event.identifier)
        elif event.kind == "merge" and event.to is not None and event.party != event.to:
            self.merge_events += 1
            if self.root(event.to) != event.party:  # never a loop
                self.merged[event.party] = event.to
                if self.splits.get(event.party) == event.to:
                    del self.splits[event.party]
        elif event.kind == "split":
            self.merge_events += 1
            former = self.merged.pop(event.party, None) or event.to
            if former is not None:
                self.splits[event.party] = former
            self.seen.clear()

    def _add_name(
        self,
        party: str,
        name: str,
        country: str | None,
        normalise: NameNormaliser,
        form: NameForm | None = None,
    ) -> None:
        written = written_key(name, country)
        if self.written.get(written) == party:
            return
        self.written[written] = party
        spellings = self.party_names.setdefault(party, [])
        if name not in spellings:
            spellings.append(name)
        form = form or normalise(name)
        if not form.tokens:
            return
        slot_no = len(self.names)
        words = _split(form.words)
        plain = _split(form.plain or form.words)
        if plain == words:
            plain = words
        pinyin = " ".join(form.pinyin)
        plain_compact = "".join(plain)
        if plain_compact == form.compact:
            plain_compact = form.compact
        self.names.append(
            _Name(
                party,
                words,
                form.compact,
                form.han,
                country,
                plain,
                plain_compact,
                tuple(pinyin.split(" ")) if pinyin else (),
            )
        )
        # a name in pinyin is also found by the syllable pairs of its characters
        for key in form.keys | initials_keys(form, normalise) | set(form.pinyin):
            self.keys.setdefault(key, []).append(slot_no)


ACRONYM_KEY_MAX = 8
RUN_MEMO_SIZE = 200_000
"""Remembered (abbreviation, initials) answers of ``PartyResolver._run``."""
RUN_TABLE_MEMO_SIZE = 50_000
"""Remembered initials with their runs of words (``PartyResolver._run_table``)."""


def initials_keys(form: NameForm, normalise: NameNormaliser) -> frozenset[str]:
    """Blocking keys that let an abbreviation find its full name and back: the initials of
    all words, and each short word as if it were initials ("^stc" for both "STTs" and
    "Spetsialnyi Tekhnologicheskii Tsentr")."""
    words = form.plain or form.words
    if form.han or not words:
        return frozenset()
    keys = {"^" + normalise.fold("".join(w[0] for w in words))} if len(words) > 1 else set()
    keys.update("^" + normalise.fold(w) for w in words if 2 <= len(w) <= ACRONYM_KEY_MAX)
    return frozenset(keys)


def written_key(name: str, country: str | None) -> str:
    return f"{' '.join(name.split()).casefold()}\x00{(country or '').upper()}"


def party_id(anchor: str) -> str:
    """A stable id from what first anchored a party (``P`` and 16 hex digits)."""
    return "P" + hashlib.blake2b(anchor.encode(), digest_size=8).hexdigest()


class _QueryInitials:
    """A new name's abbreviations and initials in one pass of
    :meth:`PartyResolver._initials_score`, with the answers for its candidates remembered
    while it is resolved (they share initials and abbreviations)."""

    __slots__ = ("_in_firsts", "_run", "_spelling", "firsts", "shorts", "words")

    def __init__(self, resolver: PartyResolver, words: tuple[str, ...]) -> None:
        self.words = words
        self.shorts = resolver.shorts(words)
        self.firsts = _firsts(words)
        self._run = resolver._run_in
        self._in_firsts: dict[str, tuple[str, ...]] = {}
        self._spelling: dict[str, bool] = {}

    def reads(self, words: tuple[str, ...], shorts: tuple[str, ...], firsts: str) -> bool:
        """Would :meth:`PartyResolver._initials` replace a run of words on either side: an
        abbreviation of this name missing from a candidate's ``words`` spelling a run of
        them (whose initials are ``firsts``), or one of the candidate's ``shorts`` missing
        here spelling a run of this name's words?"""
        # a run is at least two words
        if self.shorts and len(firsts) > 1:
            spellers = self._in_firsts.get(firsts)
            if spellers is None:
                spellers = tuple(w for w in self.shorts if self._run(w, firsts) is not None)
                self._in_firsts[firsts] = spellers
            if spellers and any(w not in words for w in spellers):
                return True
        if len(self.firsts) < 2:
            return False
        for word in shorts:
            if word not in self.words:
                found = self._spelling.get(word)
                if found is None:
                    found = self._spelling[word] = self._run(word, self.firsts) is not None
                if found:
                    return True
        return False


class PartyResolver:
    """Resolves written parties against a :class:`PartyRegistry` (the state passed in)."""

    def __init__(self, rules: PartyRules, normalise: NameNormaliser, scorer: Scorer) -> None:
        self.rules = rules
        self.normalise = normalise
        self.scorer = scorer
        self.identifiers = IdentifierReader(rules)
        self._max_postings = scorer.rules.max_key_postings
        self._max_pool = rules.max_pool
        self._runs: dict[tuple[str, str], tuple[int, int] | None] = {}
        self._run_tables: dict[str, dict[str, list[tuple[int, int]]]] = {}
        self._acronym_max = rules.acronym_max_length
        self._forms: dict[str, NameForm] = {}

    def _best_by_name(
        self, registry: PartyRegistry, form: NameForm, country: str | None
    ) -> tuple[str | None, float, str]:
        keys = form.keys | initials_keys(form, self.normalise) | set(form.pinyin)
        postings = registry.keys
        found = sorted((len(postings[k]), k) for k in keys if k in postings)
        pool: dict[int, None] = {}
        for length, key in found:
            if pool and (length > self._max_postings or len(pool) + length > self._max_pool):
                break
            pool.update(dict.fromkeys(postings[key][: self._max_pool]))
        best: tuple[str | None, float, str] = (None, 0.0, "")
        wanted = (country or "").upper() or None
        threshold = self.rules.threshold
        floor = threshold - 1e-9  # what resolve() merges at: a lower best is not used
        penalty = self.rules.country_mismatch_penalty
        compare, bound, slots = self.scorer.compare_split, self.scorer.compare_bound, registry.names
        plain = form.plain or form.words
        written = NameForm(form.tokens, plain, form.keys, "".join(plain), False)
        # the query's abbreviations and initials, as written and beside its kind
        in_plain = _QueryInitials(self, plain)
        initials = (in_plain, in_plain if plain == form.words else _QueryInitials(self, form.words))
        owns = (self.scorer.own(form.words), self.scorer.own(plain))
        for slot_no in pool:
            slot = slots[slot_no]
            mismatch = bool(wanted and slot.country and slot.country != wanted)
            # a candidate whose score cannot reach the threshold nor pass the best so far is
            # not scored: a bound of each score below (the words, then as written), and
            # whether initials can be read at all
            margin = BOUND_MARGIN - (penalty if mismatch else 0.0)
            own = slot.owns
            if own is None:
                own = slot.owns = self._owns_of(slot)
            most = margin + bound(
                form, slot.words, slot.compact, slot.han, slot.pinyin, owns[0], own[0]
            )
            if most < floor or most <= best[1]:
                if form.han or slot.han:
                    continue
                if plain != form.words or slot.plain != slot.words:
                    plainly = bound(
                        written, slot.plain, slot.plain_compact, False, (), owns[1], own[1]
                    )
                    most = max(most, plainly + margin)
                if (most < floor or most <= best[1]) and not any(
                    self._initials_passes(form, plain, initials, slot)
                ):
                    continue
            score, reached = compare(form, slot.words, slot.compact, slot.han, slot.pinyin)
            how: str | None = None  # worded only for a candidate that becomes the best
            if score < threshold and not (form.han or slot.han):
                # the words as written are scored again only where a distinctive word
                # already paired: a name that shares nothing of its own is not rescued by
                # its kind
                differs = plain != form.words or slot.plain != slot.words
                if score > 0 and differs:
                    as_written, by = compare(written, slot.plain, slot.plain_compact)
                    if as_written > score:
                        score, how = as_written, explain(written, by) + " (words as written)"
                if score < threshold:
                    score, how = self._initials_score(form, plain, initials, slot, score, how)
            if mismatch:
                score -= penalty
            if score > best[1]:
                how = how if how is not None else explain(form, reached)
                if mismatch:
                    how += f"; country {wanted} not {slot.country}"
                best = (slot.party, score, how)
        return best

    def _initials_score(
        self,
        form: NameForm,
        plain: tuple[str, ...],
        initials: tuple[_QueryInitials, _QueryInitials],
        slot: _Name,
        score: float,
        how: str | None,
    ) -> tuple[float, str | None]:
        """The score with abbreviations read as initials, if that is higher: of the words
        as written ("PSZ" for "Pribaltiiskii Sudostroitelnyi Zavod"), then of the company's
        own words beside its kind ("NII SVT" for "Nauchno-Issledovatelskii Institut Sredstv
        Vychislitelnoi Tekhniki")."""
        for read, listed in self._initials_read(form, plain, initials, slot):
            aligned, by = self.scorer.compare_split(read, listed, "".join(listed))
            if aligned > score:
                score, how = aligned, explain(read, by) + " (initials read as words)"
        return score, how

    def _initials_read(
        self,
        form: NameForm,
        plain: tuple[str, ...],
        initials: tuple[_QueryInitials, _QueryInitials],
        slot: _Name,
    ) -> Iterator[tuple[NameForm, list[str]]]:
        """The query (as a form) and the listed words of each pass of
        :meth:`_initials_score` that is scored: with the initials read, and a word other
        than the abbreviations shared."""
        for query_words, listed_words in self._initials_passes(form, plain, initials, slot):
            query, listed, acronyms = self._initials(list(query_words), list(listed_words))
            # an abbreviation alone says too little: another word must be shared
            if query is None or not (set(query) & set(listed)) - acronyms:
                continue
            yield NameForm(form.tokens, tuple(query), form.keys, "".join(query), False), listed

    def _initials_passes(
        self,
        form: NameForm,
        plain: tuple[str, ...],
        initials: tuple[_QueryInitials, _QueryInitials],
        slot: _Name,
    ) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The (query, listed) words of each pass of :meth:`_initials_score` in which an
        abbreviation on one side spells a run of words on the other (:meth:`_initials`
        changes nothing in the others): the words as written, then, where they differ
        from either name's, the words beside the kind."""
        mine = slot.initials
        if mine is None:
            mine = slot.initials = self._initials_of(slot)
        if initials[0].reads(slot.plain, mine[0], mine[1]):
            yield plain, slot.plain
        if (plain != form.words or slot.plain != slot.words) and initials[1].reads(
            slot.words, mine[2], mine[3]
        ):
            yield form.words, slot.words

    def _initials_of(self, slot: _Name) -> _Initials:
        shorts, firsts = self.shorts(slot.plain), _firsts(slot.plain)
        if slot.words is slot.plain:
            return shorts, firsts, shorts, firsts
        return shorts, firsts, self.shorts(slot.words), _firsts(slot.words)

    def _owns_of(self, slot: _Name) -> tuple[Own, Own]:
        own = self.scorer.own(slot.words)
        if own[1] == slot.compact:
            own = (own[0], slot.compact)
        if slot.plain is slot.words:
            return own, own
        plain = self.scorer.own(slot.plain)
        if plain[1] == slot.plain_compact:
            plain = (plain[0], slot.plain_compact)
        return own, plain

    def shorts(self, words: Iterable[str]) -> tuple[str, ...]:
        """The words that qualify as abbreviations (:meth:`_initials`), in order."""
        most = self._acronym_max
        return tuple(w for w in words if 2 <= len(w) <= most and w.isalpha())

    def _initials(
        self, query: list[str], listed: list[str]
    ) -> tuple[list[str] | None, list[str], set[str]]:
        """Both word lists with every run of words that an abbreviation on the other side
        spells by its initials replaced by that abbreviation ("GNPP" for "Gosudarstvennoe
        Nauchno Proizvodstvennoe Predpriiatie", "TD" for "Torgovyi Dom"), and the
        abbreviations used; None for the query when none."""
        used: set[str] = set()
        for short_side, long_side in ((query, listed), (listed, query)):
            # an abbreviation is letters only: "00012" or "3d" spell no initials (_has_short)
            for word in [w for w in short_side if 2 <= len(w) <= self._acronym_max and w.isalpha()]:
                if word in long_side:
                    continue
                run = self._run(word, long_side)
                if run is not None:
                    start, end = run
                    long_side[start:end] = [word]
                    used.add(word)
        return (query if used else None), listed, used

    def _run(self, acronym: str, words: list[str]) -> tuple[int, int] | None:
        return self._run_in(acronym, "".join(w[0] for w in words))

    def _run_in(self, acronym: str, firsts: str) -> tuple[int, int] | None:
        # the answer depends on the first letters alone: remembered per (acronym, letters)
        key = (acronym, firsts)
        if key in self._runs:
            return self._runs[key]
        fold = self.normalise.fold
        target = fold(acronym)
        found: tuple[int, int] | None = None
        if len(acronym) <= self._acronym_max:
            # the first run (by start, then length) of at most len(acronym) + 1 words
            for start, end in self._run_table(firsts).get(target, ()):
                if end - start <= len(acronym):
                    found = (start, end + 1)
                    break
        else:
            for start in range(len(firsts)):
                for end in range(start + 1, min(len(firsts), start + len(acronym) + 1)):
                    if fold(firsts[start : end + 1]) == target:
                        found = (start, end + 1)
                        break
                if found is not None:
                    break
        if len(self._runs) < RUN_MEMO_SIZE:
            self._runs[key] = found
        return found

    def _run_table(self, firsts: str) -> dict[str, list[tuple[int, int]]]:
        """Every run of two or more words (up to one more than an abbreviation can have
        letters) by its folded initials, as (first, last word), in the order
        :meth:`_run_in` tries them: folded once per run for all abbreviations."""
        table = self._run_tables.get(firsts)
        if table is None:
            fold, most = self.normalise.fold, self._acronym_max
            table = {}
            for start in range(len(firsts)):
                for end in range(start + 1, min(len(firsts), start + most + 1)):
                    table.setdefault(fold(firsts[start : end + 1]), []).append((start, end))
            if len(self._run_tables) < RUN_TABLE_MEMO_SIZE:
                self._run_tables[firsts] = table
        return table

    def base_id(
        self, name: str | None, country: str | None, keys: list[tuple[str, bool]]
    ) -> str | None:
        """The id a written party stands for before any merge: from its normalised name and
        country (``ООО «ВЕКТОР-СНАБ»``, ``OOO Vektor-Snab`` and ``Vektor Snab OOO`` of RU are
        one), else from its first linking identifier. A pure function of the line, so the id
        stored on a line never depends on the registry or on the order lines came in."""
        if name is not None:
            form = self._form(name)
            return party_id(f"name:{form.compact or name.casefold()}:{country or ''}")
        linking = [k for k, link in keys if link]
        return party_id("id:" + linking[0]) if linking else None

    def _form(self, name: str) -> NameForm:
        form = self._forms.get(name)
        if form is None:
            form = self.normalise(name)
            if len(self._forms) < self.rules.cache_size:
                self._forms[name] = form
        return form

    def resolve(
        self,
        registry: PartyRegistry,
        name: str | None,
        country: str | None = None,
        identifiers: Iterable[str | None] = (),
    ) -> Resolution:
        """The party of one written party; registers what is new and returns the events.

        ``base`` is the written party's own id (:meth:`base_id`); ``party_id`` is what it
        stands for now, through the merges: a name scoring the threshold against a
        registered name, or an identifier already registered to another party, merges
        (``merge`` event from the base, or its group, to that party)."""
        country = (country or "").strip().upper() or None
        identifiers = tuple(identifiers)
        name = (name or "").strip() or None
        seen_key = (name or "", country or "", identifiers)
        known = registry.seen.get(seen_key)
        if known is not None:
            return Resolution(registry.root(known), "seen before", base=known)
        keys: list[tuple[str, bool]] = []
        for value in identifiers:
            keys.extend(self.identifiers.keys(value, country))
        base = self.base_id(name, country, keys)
        if base is None:
            return Resolution(None, "no name or identifier")
        events: list[RegistryEvent] = []

        def emit(event: RegistryEvent) -> None:
            known = self._forms.get(event.name) if event.name is not None else None
            registry.apply(event, self.normalise, known)
            events.append(event)

        def merge(source: str, target: str, reason: str) -> None:
            source, target = registry.root(source), registry.root(target)
            if source != target and not registry.kept_apart(source, target):
                emit(RegistryEvent("merge", source, to=target, reason=reason))

        how = "new"
        written = written_key(name, country) if name is not None else None
        if name is not None and written is not None and written not in registry.written:
            target: tuple[str | None, float, str] = (None, 0.0, "")
            if base not in registry.party_names:
                form = self._form(name)
                if form.tokens:
                    target = self._best_by_name(registry, form, country)
            emit(RegistryEvent("name", base, name=name, country=country))
            party, score, why = target
            if party is not None and score >= self.rules.threshold - 1e-9:
                merge(base, party, f"name {score:.2f}: {why}")
                how = f"name {score:.2f}: {why}"
        elif base in registry.party_names:
            how = "written before"
        for key, link in keys:
            holder = registry.identifiers.get(key)
            if holder is None:
                emit(RegistryEvent("identifier", base, identifier=key))
            elif link and registry.root(holder) != registry.root(base):
                merge(base, holder, f"identifier {key} seen with both names")
                how = "identifier"
        if len(registry.seen) < self.rules.cache_size:
            registry.seen[seen_key] = base
        return Resolution(registry.root(base), how, tuple(events), base=base)

    def merge(
        self, registry: PartyRegistry, source: str, target: str, reason: str
    ) -> RegistryEvent:
        """An analyst's merge: ``source`` (its group) becomes part of ``target``'s."""
        event = RegistryEvent(
            "merge", registry.root(source), to=registry.root(target), reason=reason
        )
        registry.apply(event, self.normalise)
        return event

    def split(self, registry: PartyRegistry, party: str, reason: str) -> RegistryEvent:
        """An analyst's split: ``party`` stops standing for the party it was merged into
        (the parties merged into ``party`` stay with it) and is never merged back into it
        automatically."""
        event = RegistryEvent("split", party, to=registry.merged.get(party), reason=reason)
        registry.apply(event, self.normalise)
        return event


PARTY_ROLES = (
    ("importer", "importer_name", "importer_country", "importer_id"),
    ("exporter", "exporter_name", "exporter_country", "exporter_id"),
    ("notify", "notify_name", "notify_country", "notify_id"),
    ("declarant", "declarant_name", "declarant_country", "declarant_id"),
    ("manufacturer", "manufacturer", None, None),
)
"""Each party role of a line: its name, country and identifier fields."""


Answer = tuple[str | None, str | None, str | None]
"""(the written party's own id, the party it stands for now, its display name)."""


class PartyBook:
    """A resolver with the registry it resolves against, shared by a worker's stages and
    the reader that folds in what other workers registered (a lock, no I/O).

    What this book registers is kept in ``pending`` until the owner publishes it
    (:meth:`take_pending`); ``keep_pending=False`` (offline classify) keeps nothing."""

    def __init__(
        self,
        resolver: PartyResolver,
        registry: PartyRegistry | None = None,
        keep_pending: bool = True,
    ) -> None:
        self.resolver = resolver
        self.registry = registry or PartyRegistry()
        self.keep_pending = keep_pending
        self.pending: list[RegistryEvent] = []
        self._lock = threading.Lock()
        # (name, country, identifier) -> (own id, party now, display name), valid until a
        # merge or split changes what ids stand for
        self._answers: dict[tuple[str | None, str | None, str | None], Answer] = {}
        self._merges_seen = 0

    def lookup(self, name: str | None, country: str | None, identifier: str | None) -> Answer:
        """The written party's own id, the party it stands for now and that party's display
        name; remembered per distinct written party until the merges change."""
        key = (name, country, identifier)
        known = self._answers.get(key)
        if known is not None and self._merges_seen == self.registry.merge_events:
            return known
        with self._lock:
            if self._merges_seen != self.registry.merge_events:
                self._answers.clear()
                self._merges_seen = self.registry.merge_events
            found = self.resolver.resolve(
                self.registry, name, country, (identifier,) if identifier else ()
            )
            if found.events and self.keep_pending:
                self.pending.extend(found.events)
            if found.party_id is None:
                answer: Answer = (None, None, None)
            else:
                display = self.registry.display_name(found.party_id) or name
                answer = (found.base, found.party_id, display)
            if self._merges_seen == self.registry.merge_events:
                if len(self._answers) >= self.resolver.rules.cache_size:
                    self._answers.clear()
                self._answers[key] = answer
            return answer

    def resolve(
        self, name: str | None, country: str | None, identifiers: Iterable[str | None] = ()
    ) -> Resolution:
        with self._lock:
            found = self.resolver.resolve(self.registry, name, country, identifiers)
            if found.events and self.keep_pending:
                self.pending.extend(found.events)
            return found

    def display_name(self, party: str) -> str | None:
        with self._lock:
            return self.registry.display_name(party)

    def root(self, party: str) -> str:
        with self._lock:
            return self.registry.root(party)

    def apply(self, events: Iterable[RegistryEvent]) -> None:
        with self._lock:
            for event in events:
                self.registry.apply(event, self.resolver.normalise)

    def take_pending(self) -> list[RegistryEvent]:
        """What to publish; a merge an analyst has split apart since it was made is
        dropped, so it cannot land after the split and undo it."""
        with self._lock:
            taken, self.pending = self.pending, []
            return [
                e
                for e in taken
                if not (e.kind == "merge" and e.to and self.registry.kept_apart(e.party, e.to))
            ]

    def give_back(self, events: list[RegistryEvent]) -> None:
        """Events whose publication failed, to be tried again first."""
        with self._lock:
            self.pending[:0] = events
