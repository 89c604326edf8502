"""A figure as a reader writes it: "7 days", "220,000 market entities", "90 percent or more",
"1st"; in Chinese "7 天", "22万 家", "90%以上", "第1名".

The data names units by their singular (``skos:prefLabel "day"@en``), as vocabularies do; the
plural is made here, for English only (Chinese has none). A rank is an ordinal. A qualifier
(``gov:valueQualifier``, "or more" / "以上") follows the unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from govkg.web.cube_view import UNIT_MEASURE
from govkg.web.i18n import format_number

#: Unit names that are the same in the plural.
_INVARIANT = frozenset({"percent", "per cent", "%", "yuan", "renminbi", "RMB"})


def english_plural(noun: str) -> str:
    """The plural of an English unit name (its last word), by the regular rules.

    >>> [english_plural(n) for n in ["day", "market entity", "matter", "box", "percent", "month"]]
    ['days', 'market entities', 'matters', 'boxes', 'percent', 'months']
    """
    if noun in _INVARIANT or not noun or not noun[-1].isalpha():
        return noun
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def ordinal(number: int | float, language: str) -> str:
    """A rank as a reader writes it.

    >>> [ordinal(n, "en") for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st']
    >>> ordinal(4, "zh")
    '第4名'
    """
    whole = int(number)
    if language == "zh":
        return f"第{whole}名"
    suffix = "th" if 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{whole}{suffix}"


@dataclass(frozen=True)
class Quantity:
    """A figure ready to show: the number as written, and the words after it (unit, qualifier)."""

    number: str
    unit: str


def quantity(
    value: int | float,
    unit: str | None,
    qualifier: str | None,
    rank: bool,
    language: str,
) -> Quantity:
    """The figure ``value`` with its unit and qualifier, for a reader of ``language``.

    >>> quantity(7, "day", None, False, "en"), quantity(1, "day", None, False, "en")
    (Quantity(number='7', unit='days'), Quantity(number='1', unit='day'))
    >>> quantity(90, "percent", "or more", False, "en"), quantity(90, "%", "以上", False, "zh")
    (Quantity(number='90', unit='percent or more'), Quantity(number='90%', unit='以上'))
    >>> quantity(220000, "market entity", None, False, "en"), quantity(4, None, None, True, "en")
    (Quantity(number='220,000', unit='market entities'), Quantity(number='4th', unit=''))
    """
    if rank:
        return Quantity(ordinal(value, language), qualifier or "")
    words = unit or ""
    if words and language == "en" and value != 1:
        words = english_plural(words)
    number = format_number(value, language)
    if words.startswith("%"):  # 90%, never 90 %
        number, words = number + "%", words[1:]
    if qualifier:
        separator = "" if language == "zh" else " "
        words = f"{words}{separator}{qualifier}" if words else qualifier
    return Quantity(number, words)


def observation_quantity(
    store: ox.Store,
    observation: ox.NamedNode,
    measure: ox.NamedNode,
    value: int | float,
    label: Callable[[ox.NamedNode], str],
    base_iri: str,
    language: str,
) -> Quantity:
    """The figure of a Data Cube observation: its unit (``sdmx-attribute:unitMeasure``), its
    qualifier (``gov:valueQualifier``), and whether its measure is a rank (``gov:rank``)."""

    def first_label(predicate: ox.NamedNode) -> str | None:
        named = sorted(
            (q.object for q in store.quads_for_pattern(observation, predicate, None, None)),
            key=str,
        )
        named = [node for node in named if isinstance(node, ox.NamedNode)]
        return label(named[0]) if named else None

    gov = base_iri + "ontology#"
    return quantity(
        value,
        first_label(UNIT_MEASURE),
        first_label(ox.NamedNode(gov + "valueQualifier")),
        measure.value == gov + "rank",
        language,
    )
