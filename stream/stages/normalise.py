"""Stage ``normalise``: HS codes, countries, units and money, as plain functions.

- HS codes: ``'6211.33.00.00'``, ``'6211 33'``, ``'8542 31 900 0'`` → digits and HS2/4/6, read
  by :class:`stream.stages.hs_reading.HsReader` (status, HS vintage, correlation), with a
  flag when a 6+ digit code's HS6 is not in the HS 2022 nomenclature.
- Countries: ISO 3166-1 alpha-2 from alpha-2/alpha-3/numeric codes (pycountry) and from names
  in English, Russian, Ukrainian and Chinese (Unicode CLDR via Babel, plus
  ``country_aliases.yaml`` for КНР, ОАЭ, 香港 and the like). An unresolved value is kept as
  declared and flagged.
- Units: declared unit → UN/ECE Rec. 20 code (``units.yaml``).
- Money: value and currency kept as declared, plus USD when a rate table is configured.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Context, Decimal, localcontext

import pycountry
from babel import Locale

from schemas.enriched import DECIMAL_38_2_LIMIT, HsCode
from schemas.rule_data import FxTable, RuleSet
from stream.stages.hs_reading import HsReader, hs_levels
from stream.stages.text import normalise_text

CACHE_SIZE = 10_000
USD_PRECISION = 80
"""Significant digits for money arithmetic: a Decimal(38, 4) value times a rate, with cents."""
_NOT_DIGIT = re.compile(r"\D+")
_PUNCTUATION = re.compile(r"[\s.,'\"()\-_/]+")


def normalise_hs(declared: str) -> HsCode:
    """Digits and HS levels of a declared code; levels the code is too short for are ''."""
    return hs_levels(declared, _NOT_DIGIT.sub("", declared))


def _key(text: str) -> str:
    return _PUNCTUATION.sub("", normalise_text(text))


class CountryResolver:
    """Maps codes and names in several languages to ISO 3166-1 alpha-2."""

    LOCALES = ("en", "ru", "uk", "zh", "zh_Hant")

    def __init__(self, aliases: dict[str, list[str]]) -> None:
        self.known: set[str] = set()
        names: dict[str, str] = {}
        for country in pycountry.countries:
            alpha2 = country.alpha_2
            self.known.add(alpha2)
            names[country.alpha_3.casefold()] = alpha2
            names[str(int(country.numeric))] = alpha2
            names[country.numeric] = alpha2
            for attribute in ("name", "official_name", "common_name"):
                value = getattr(country, attribute, None)
                if value:
                    names[_key(value)] = alpha2
        for locale in self.LOCALES:
            for code, name in Locale.parse(locale).territories.items():
                if len(code) == 2 and code.isalpha():
                    names.setdefault(_key(name), code)
        for alpha2, values in aliases.items():
            self.known.add(alpha2)
            for value in values:
                names[_key(str(value))] = alpha2
        self.names = names
        self._cache: dict[str, tuple[str | None, bool]] = {}

    def __call__(self, value: str | None) -> tuple[str | None, bool]:
        """``(alpha-2 or the declared text, resolved?)``; ``(None, True)`` for blank."""
        if value is None:
            return None, True
        cached = self._cache.get(value)
        if cached is None:
            cached = self._resolve(value)
            if len(self._cache) < CACHE_SIZE:  # feeds repeat a few hundred spellings
                self._cache[value] = cached
        return cached

    def _resolve(self, value: str) -> tuple[str | None, bool]:
        if not value.strip():
            return None, True
        text = value.strip()
        if len(text) == 2 and text.isalpha() and text.upper() in self.known:
            return text.upper(), True
        resolved = self.names.get(text.casefold()) or self.names.get(_key(text))
        if resolved is not None:
            return resolved, True
        return text, False


class UnitResolver:
    def __init__(self, units: dict[str, list[str]]) -> None:
        self.codes = {code.casefold(): code for code in units}
        for code, spellings in units.items():
            for spelling in spellings:
                self.codes[_unit_key(str(spelling))] = code
        self._cache: dict[str, str | None] = {}

    def __call__(self, unit: str | None) -> str | None:
        if unit is None:
            return None
        if unit in self._cache:
            return self._cache[unit]
        code = self.codes.get(_unit_key(unit)) if unit.strip() else None
        if len(self._cache) < CACHE_SIZE:
            self._cache[unit] = code
        return code


def _unit_key(unit: str) -> str:
    return normalise_text(unit).replace(".", "").strip()


_CENT = Decimal("0.01")
_MONEY = Context(prec=USD_PRECISION)
"""The default context with room for every value: what ``localcontext`` with that
precision gives, built once (entering a local context costs more than the rounding)."""


def _cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to cents, refused when ``value_usd Decimal(38, 2)`` cannot hold it.
    The default decimal context (28 digits) cannot even round 1e26 to cents, so the
    arithmetic runs with room for every value the model lets through."""
    cents = amount.quantize(_CENT, context=_MONEY)
    if abs(cents) >= DECIMAL_38_2_LIMIT:
        raise ValueError(f"value_usd {cents:.2E} exceeds what Decimal(38, 2) holds")
    return cents


def usd_value(
    value: Decimal | None, currency: str | None, on: date, table: FxTable | None
) -> Decimal | None:
    """The declared value in US dollars at the table's rate for the declaration's year.

    A value declared in US dollars needs no table."""
    if value is None or currency is None:
        return None
    if currency.strip().upper() in {"USD", "US$", "840"}:
        return _cents(value)
    if table is None:
        return None
    rate = table.usd_rate(table.currency_code(currency), on)
    if rate is None:
        return None
    with localcontext() as context:
        context.prec = USD_PRECISION
        return _cents(value * rate)


class Normaliser:
    """Resolvers built once from the rule set (and an optional rate table)."""

    def __init__(self, rules: RuleSet, fx: FxTable | None = None) -> None:
        self.hs2022 = rules.hs2022
        self.read_hs = HsReader(rules.hs2022, rules.hs_correlation)
        self.country = CountryResolver(rules.country_aliases)
        self.unit = UnitResolver(rules.units)
        self.fx = fx

    def hs(self, declared: str) -> tuple[HsCode, bool]:
        """The code as read and whether its HS6 exists in HS 2022 (False also when shorter)."""
        code = self.read_hs(declared)
        return code, code.hs6 in self.hs2022
