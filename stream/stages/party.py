"""Party resolution: which written names and identifiers on lines are one company.

A pure function over a registry state passed in (:class:`PartyRegistry`). Identifiers
decide first (checked with python-stdnum where it knows the scheme: an INN with wrong check
digits links nothing); then the name, normalised and scored exactly as screening does
(:mod:`stream.screening.names`, :class:`stream.screening.matcher.Scorer`), against the
names already registered; a name scoring ``parties.yaml``'s threshold joins that party,
otherwise a new party is registered.

Every change to the registry is an :class:`RegistryEvent`; :meth:`PartyRegistry.apply`
replays them, so a worker that reads the events of the registry topic from the start holds
the same registry, and resolving the same lines in the same order gives the same ids. A
party id is derived from what first anchored it (a linking identifier, else the normalised
name and country), never from a counter or a clock.

When an identifier already belongs to one party and the name to another (the same INN
written under two names that did not match), the name's party is merged into the
identifier's: a ``merge`` event, never a rewrite of past lines.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from stdnum.exceptions import InvalidChecksum, ValidationError

from schemas.rule_data import PartyRules
from stream.screening.matcher import Scorer
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
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryEvent:
        return cls(**{k: data.get(k) for k in cls.__slots__})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Resolution:
    """The party of one written name, how it was found, and the registry changes made."""

    party_id: str | None
    how: str
    events: tuple[RegistryEvent, ...] = ()


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
    party: str
    words: str
    compact: str
    han: bool
    country: str | None


@dataclass
class PartyRegistry:
    """Registered parties: their names in comparable form, identifiers, and merges.

    Plain data changed only through :meth:`apply`, so replaying the event log rebuilds it.
    """

    names: list[_Name] = field(default_factory=list)
    keys: dict[str, list[int]] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    party_names: dict[str, list[str]] = field(default_factory=dict)
    party_identifiers: dict[str, list[str]] = field(default_factory=dict)
    forms: dict[str, NameForm] = field(default_factory=dict)

    def root(self, party: str) -> str:
        """The party a (possibly merged) id now stands for."""
        seen = 0
        while party in self.merged and seen < 64:
            party = self.merged[party]
            seen += 1
        return party

    def apply(self, event: RegistryEvent, normalise: NameNormaliser) -> None:
        if event.kind == "name" and event.name is not None:
            self._add_name(event.party, event.name, event.country, normalise)
        elif event.kind == "identifier" and event.identifier is not None:
            self.identifiers.setdefault(event.identifier, event.party)
            self.party_identifiers.setdefault(event.party, []).append(event.identifier)
        elif event.kind == "merge" and event.to is not None and event.party != event.to:
            if self.root(event.to) != event.party:  # never a loop
                self.merged[event.party] = event.to
        elif event.kind == "split" and event.name is not None and event.to is not None:
            # the written name leaves its party for a party of its own (``to``)
            self.merged.pop(event.to, None)
            self._add_name(event.to, event.name, event.country, normalise, split=True)

    def _add_name(
        self,
        party: str,
        name: str,
        country: str | None,
        normalise: NameNormaliser,
        split: bool = False,
    ) -> None:
        written = written_key(name, country)
        self.written[written] = party
        spellings = self.party_names.setdefault(party, [])
        if name not in spellings:
            spellings.append(name)
        form = self.forms.get(name) or normalise(name)
        if not form.tokens:
            return
        if split:
            for slot in self.names:
                if slot.compact == form.compact and slot.country == country:
                    slot.party = party
            return
        slot_no = len(self.names)
        self.names.append(_Name(party, " ".join(form.words), form.compact, form.han, country))
        for key in form.keys | initials_keys(form, normalise):
            self.keys.setdefault(key, []).append(slot_no)


ACRONYM_KEY_MAX = 8


def initials_keys(form: NameForm, normalise: NameNormaliser) -> frozenset[str]:
    """Blocking keys that let an abbreviation find its full name and back: the initials of
    all words, and each short word as if it were initials ("^stc" for both "STTs" and
    "Spetsialnyi Tekhnologicheskii Tsentr")."""
    if form.han or not form.words:
        return frozenset()
    keys = (
        {"^" + normalise.fold("".join(w[0] for w in form.words))} if len(form.words) > 1 else set()
    )
    keys.update("^" + normalise.fold(w) for w in form.words if 2 <= len(w) <= ACRONYM_KEY_MAX)
    return frozenset(keys)


def written_key(name: str, country: str | None) -> str:
    return f"{' '.join(name.split()).casefold()}\x00{(country or '').upper()}"


def party_id(anchor: str) -> str:
    """A stable id from what first anchored a party (``P`` and 16 hex digits)."""
    return "P" + hashlib.blake2b(anchor.encode(), digest_size=8).hexdigest()


class PartyResolver:
    """Resolves written parties against a :class:`PartyRegistry` (the state passed in)."""

    def __init__(self, rules: PartyRules, normalise: NameNormaliser, scorer: Scorer) -> None:
        self.rules = rules
        self.normalise = normalise
        self.scorer = scorer
        self.identifiers = IdentifierReader(rules)
        self._max_postings = scorer.rules.max_key_postings
        self._max_pool = scorer.rules.max_pool * 4
        self._acronym_max = rules.acronym_max_length

    def _best_by_name(
        self, registry: PartyRegistry, form: NameForm, country: str | None
    ) -> tuple[str | None, float, str]:
        keys = form.keys | initials_keys(form, self.normalise)
        found = sorted((len(registry.keys[k]), k) for k in keys if k in registry.keys)
        pool: dict[int, None] = {}
        for length, key in found:
            if pool and (length > self._max_postings or len(pool) + length > self._max_pool):
                break
            pool.update(dict.fromkeys(registry.keys[key][: self._max_pool]))
        best: tuple[str | None, float, str] = (None, 0.0, "")
        wanted = (country or "").upper() or None
        for slot_no in pool:
            slot = registry.names[slot_no]
            score, how = self.scorer.names(form, slot.words, slot.compact, slot.han)
            if score < self.rules.threshold and not (form.han or slot.han):
                query, listed, acronyms = self._initials(list(form.words), slot.words.split(" "))
                # an abbreviation alone says too little: another word must be shared
                if query is not None and (set(query) & set(listed)) - acronyms:
                    aligned, why = self.scorer.names(
                        NameForm(form.tokens, tuple(query), form.keys, "".join(query), False),
                        " ".join(listed),
                        "".join(listed),
                    )
                    if aligned > score:
                        score, how = aligned, why + " (initials read as words)"
            if wanted and slot.country and slot.country != wanted:
                score -= self.rules.country_mismatch_penalty
                how += f"; country {wanted} not {slot.country}"
            if score > best[1]:
                best = (slot.party, score, how)
        return best

    def _initials(
        self, query: list[str], listed: list[str]
    ) -> tuple[list[str] | None, list[str], set[str]]:
        """Both word lists with every run of words that an abbreviation on the other side
        spells by its initials replaced by that abbreviation ("GNPP" for "Gosudarstvennoe
        Nauchno Proizvodstvennoe Predpriiatie", "TD" for "Torgovyi Dom"), and the
        abbreviations used; None for the query when none."""
        used: set[str] = set()
        for short_side, long_side in ((query, listed), (listed, query)):
            for word in [w for w in short_side if 2 <= len(w) <= self._acronym_max]:
                if word in long_side:
                    continue
                run = self._run(word, long_side)
                if run is not None:
                    start, end = run
                    long_side[start:end] = [word]
                    used.add(word)
        return (query if used else None), listed, used

    def _run(self, acronym: str, words: list[str]) -> tuple[int, int] | None:
        target = self.normalise.fold(acronym)
        for start in range(len(words)):
            initials = ""
            for end in range(start, min(len(words), start + len(acronym) + 1)):
                initials += words[end][0]
                if end > start and self.normalise.fold(initials) == target:
                    return start, end + 1
        return None

    def resolve(
        self,
        registry: PartyRegistry,
        name: str | None,
        country: str | None = None,
        identifiers: Iterable[str | None] = (),
    ) -> Resolution:
        """The party of one written party; registers what is new and returns the events."""
        country = (country or "").strip().upper() or None
        keys: list[tuple[str, bool]] = []
        for value in identifiers:
            keys.extend(self.identifiers.keys(value, country))
        name = (name or "").strip() or None
        events: list[RegistryEvent] = []

        def emit(event: RegistryEvent) -> None:
            registry.apply(event, self.normalise)
            events.append(event)

        by_identifier = next(
            (
                registry.root(registry.identifiers[k])
                for k, link in keys
                if link and k in registry.identifiers
            ),
            None,
        )
        by_name: str | None = None
        how = ""
        written = written_key(name, country) if name else None
        if written is not None:
            cached = registry.written.get(written)
            if cached is not None:
                by_name, how = registry.root(cached), "written before"
            else:
                form = registry.forms.get(name) if name else None
                if form is None and name is not None:
                    form = self.normalise(name)
                    if len(registry.forms) < self.rules.cache_size:
                        registry.forms[name] = form
                if form is not None and form.tokens:
                    party, score, why = self._best_by_name(registry, form, country)
                    if party is not None and score >= self.rules.threshold - 1e-9:
                        by_name, how = registry.root(party), f"name {score:.2f}: {why}"
        if by_identifier is not None:
            party = by_identifier
            if by_name is not None and by_name != by_identifier:
                emit(
                    RegistryEvent(
                        "merge",
                        by_name,
                        to=by_identifier,
                        reason=f"identifier {keys[0][0]} seen with both names",
                    )
                )
            how = "identifier" if by_name is None else how
        elif by_name is not None:
            party = by_name
        else:
            linking = [k for k, link in keys if link]
            if linking:
                anchor = "id:" + linking[0]
            elif name is not None:
                form = registry.forms.get(name) or self.normalise(name)
                anchor = f"name:{form.compact or name.casefold()}:{country or ''}"
            else:
                return Resolution(None, "no name or identifier")
            party = party_id(anchor)
            while party in registry.party_names or party in registry.merged:
                anchor += "+"
                party = party_id(anchor)
            how = "new"
        if name is not None and written is not None and written not in registry.written:
            emit(RegistryEvent("name", party, name=name, country=country))
        for key, _ in keys:
            if key not in registry.identifiers:
                emit(RegistryEvent("identifier", party, identifier=key))
        return Resolution(registry.root(party), how, tuple(events))

    def merge(
        self, registry: PartyRegistry, source: str, target: str, reason: str
    ) -> RegistryEvent:
        """An analyst's merge: ``source`` becomes part of ``target``."""
        event = RegistryEvent(
            "merge", registry.root(source), to=registry.root(target), reason=reason
        )
        registry.apply(event, self.normalise)
        return event

    def split(
        self, registry: PartyRegistry, name: str, country: str | None, reason: str
    ) -> RegistryEvent:
        """An analyst's split: the written name gets a party of its own."""
        country = (country or "").strip().upper() or None
        new = party_id(f"split:{written_key(name, country)}")
        event = RegistryEvent(
            "split",
            registry.root(registry.written.get(written_key(name, country), new)),
            name=name,
            country=country,
            to=new,
            reason=reason,
        )
        registry.apply(event, self.normalise)
        return event
