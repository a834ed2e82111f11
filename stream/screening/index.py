"""An in-memory index of watchlist names, built once per list version.

Names are stored column-wise (plain lists, and the posting lists of all keys end to end in
one typed array) so a list of a million names stays within a few hundred megabytes.
Candidates for a query come from its blocking keys (words, whole compact name, first and
last letters of long words), rarest key first; the whole list is never scanned.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

import numpy as np
from rapidfuzz import fuzz, process
from rigour.addresses import normalize_address

from schemas.rule_data import ScreeningRules
from schemas.watchlist import WatchlistEntry
from stream.screening.names import NameForm, NameNormaliser

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
MIN_ADDRESS_LENGTH = 12
COMMON_POOLS_KEPT = 128
"""Pools of names sharing only common keys remembered per index (up to max_key_postings
names each, about 24 KB with their texts' references): the oldest goes first."""


def _sorted(spaced: str) -> str:
    words = spaced.split(" ")
    ordered = sorted(words)
    return spaced if ordered == words else " ".join(ordered)


def address_key(address: str, noise: frozenset[str] = frozenset()) -> str | None:
    """rigour's normalised, latinised form without street-type words, its words sorted
    ("ул. Вымышленная, д. 12" = "12 Vymyshlennaya St"). An address too short to name one
    building, or without a number, gives None."""
    normal = normalize_address(address, latinize=True)
    if not normal:
        return None
    words = sorted(w for w in normal.split() if w not in noise)
    key = " ".join(words)
    has_number = any(c.isdigit() for c in key)
    return key if has_number and len(key) >= MIN_ADDRESS_LENGTH else None


def identifier_key(value: str) -> str:
    """Identifiers compare without spaces, dashes or case: ``77-01 234567`` = ``7701234567``."""
    return _NOT_ALNUM.sub("", value.upper())


@dataclass(frozen=True, slots=True)
class ListedEntity:
    """What a hit needs to say about the entity behind a matched name."""

    id: str
    dataset: str
    schema: str
    caption: str
    countries: frozenset[str]
    incorporated: date | None = None


class WatchlistIndex:
    """Entities, their names in comparable form, and the posting lists to find them."""

    def __init__(self, rules: ScreeningRules, normaliser: NameNormaliser | None = None) -> None:
        self.rules = rules
        self.normalise = normaliser or NameNormaliser(rules)
        self.entities: list[ListedEntity] = []
        # One slot per listed name, column-wise (no object per name): the entity it belongs
        # to, the name as listed, and its normalised tokens joined by spaces.
        self.name_entity: array[int] = array("i")
        self.name_text: list[str] = []
        self.name_spaced: list[str] = []
        # the same words sorted (the very same string when already in order), for the prefilter
        self._sorted_words: list[str] = []
        # Chinese names compare as syllable pairs, so their compact form is kept aside.
        self.han_compact: dict[int, str] = {}
        self.identifiers: dict[str, list[tuple[int, str]]] = {}
        self.addresses: dict[str, list[int]] = {}
        self.datasets: Counter[str] = Counter()
        self._key_slot: dict[str, int] = {}
        # posting lists of every key, end to end: key slot -> offsets[slot]:offsets[slot + 1]
        self._offsets: array[int] = array("q", [0])
        self._postings: array[int] = array("i")
        self._common_pools: dict[tuple[tuple[int, int], ...], tuple[array[int], tuple[str, ...]]]
        self._common_pools = {}

    @classmethod
    def build(
        cls,
        entries: Iterable[WatchlistEntry],
        rules: ScreeningRules,
        normaliser: NameNormaliser | None = None,
    ) -> WatchlistIndex:
        index = cls(rules, normaliser)
        pending: dict[str, list[int]] = {}
        name_entity = array("i")
        countries_seen: dict[frozenset[str], frozenset[str]] = {}
        for entry in entries:
            entity = len(index.entities)
            index.entities.append(
                ListedEntity(
                    id=entry.id,
                    dataset=entry.dataset,
                    schema=entry.schema_,
                    caption=entry.name,
                    countries=countries_seen.setdefault(
                        frozenset(entry.countries), frozenset(entry.countries)
                    ),
                    incorporated=entry.incorporated,
                )
            )
            index.datasets[entry.dataset] += 1
            forms: set[tuple[str, ...]] = set()
            for text in entry.all_names():
                form = index.normalise(text)
                if not form.tokens or form.tokens in forms:
                    continue
                forms.add(form.tokens)
                name_no = len(index.name_text)
                name_entity.append(entity)
                index.name_text.append(text)
                index.name_spaced.append(" ".join(form.words))
                if form.han:
                    index.han_compact[name_no] = form.compact
                for key in form.keys:
                    pending.setdefault(key, []).append(name_no)
            for address in entry.addresses:
                place = address_key(address, rules.address_noise)
                if place:
                    index.addresses.setdefault(place, []).append(entity)
            for identifier in entry.identifiers:
                key = identifier_key(identifier.value)
                if len(key) >= rules.identifier_min_length:
                    index.identifiers.setdefault(key, []).append(
                        (entity, identifier.scheme or "identifier")
                    )
        index.name_entity = name_entity
        index._sorted_words = [_sorted(s) for s in index.name_spaced]
        index._freeze(pending)
        return index

    def _freeze(self, pending: dict[str, list[int]]) -> None:
        offsets = array("q", [0])
        postings = array("i")
        for slot, (key, names) in enumerate(pending.items()):
            self._key_slot[key] = slot
            postings.extend(names)
            offsets.append(len(postings))
        self._offsets, self._postings = offsets, postings

    def __len__(self) -> int:
        return len(self.entities)

    @property
    def name_count(self) -> int:
        return len(self.name_text)

    def postings(self, key: str) -> array[int] | None:
        slot = self._key_slot.get(key)
        if slot is None:
            return None
        return self._postings[self._offsets[slot] : self._offsets[slot + 1]]

    def candidates(self, form: NameForm) -> list[int]:
        """Names worth scoring for ``form``: at most ``max_candidates``, best first.

        Keys are taken rarest first while the pool stays within ``max_pool`` names; a key
        naming more than ``max_key_postings`` names is used only when nothing rarer matched,
        and then intersected with the next key. The pool is ranked in C by rapidfuzz's
        ratio over sorted words (so word order does not lower it), dropping names below
        ``prefilter_cutoff`` that could not reach the threshold anyway.
        """
        slot_of = self._key_slot
        offsets = self._offsets
        found = sorted(
            (offsets[slot + 1] - offsets[slot], offsets[slot])
            for slot in map(slot_of.get, form.keys)
            if slot is not None
        )
        if not found:
            return []
        rules = self.rules
        postings = self._postings
        pool: set[int] = set()
        size = 0
        for length, start in found:
            if length > rules.max_key_postings or (size and size + length > rules.max_pool):
                break
            pool.update(postings[start : start + length])
            size += length
        if pool:
            ids: Sequence[int] = list(pool)
            texts = self._texts(ids)
        else:  # when every key is common: the names having the two rarest
            ids, texts = self._common_pool(found[:2])
            if not ids:
                return []
        best = process.extract(
            " ".join(sorted(form.words)),
            texts,
            scorer=fuzz.ratio,
            score_cutoff=rules.prefilter_cutoff,
            limit=rules.max_candidates,
        )
        return [ids[position] for _, _, position in best]

    def _texts(self, ids: Sequence[int]) -> tuple[str, ...]:
        """The sorted-word texts of these names, picked in C (itemgetter of several indexes
        gives a tuple; of one, the item itself)."""
        ordered = self._sorted_words
        return itemgetter(*ids)(ordered) if len(ids) > 1 else tuple(ordered[i] for i in ids)

    def _common_pool(self, keys: list[tuple[int, int]]) -> tuple[array[int], tuple[str, ...]]:
        """The first ``max_key_postings`` names (in list order) that every key names, with
        their texts. Remembered per keys: names that share only common words ("trading",
        "group") with a large list meet the same few keys again and again, and picking
        their texts cost more than ranking them."""
        remembered = self._common_pools.get(tuple(keys))
        if remembered is not None:
            return remembered
        limit = self.rules.max_key_postings
        if len(keys) == 1:  # a slice of the posting list: no copy of all of it
            length, start = keys[0]
            ids = self._postings[start : start + min(length, limit)]
        else:
            lists = [
                np.frombuffer(self._postings, dtype=np.int32, count=length, offset=start * 4)
                for length, start in keys
            ]
            common = lists[0]
            for other in lists[1:]:
                common = np.intersect1d(common, other, assume_unique=True)
            ids = array("i", common[:limit].tobytes())
        texts = self._texts(ids)
        if len(self._common_pools) >= COMMON_POOLS_KEPT:
            del self._common_pools[next(iter(self._common_pools))]
        self._common_pools[tuple(keys)] = (ids, texts)
        return ids, texts

    def memory_bytes(self) -> int:
        """Size of the posting arrays (the Python objects are measured by the bench)."""
        return self._offsets.itemsize * len(self._offsets) + self._postings.itemsize * len(
            self._postings
        )
