"""Evidence spans: find a quotation in the article text and check the graph's text selectors.

Every fact of the graph is the body of a Web Annotation whose target selects the
sentence it came from twice over: an ``oa:TextQuoteSelector`` (the exact words,
with a little ``oa:prefix``/``oa:suffix`` context where the words occur more than
once) and an ``oa:TextPositionSelector`` (``oa:start``/``oa:end``). Positions are
Unicode code-point offsets into the clean article text, that is Python ``str``
indices, and ``oa:end`` is exclusive.

:func:`locate` turns a quote into positions; :func:`check_annotations` checks that
every selector of a graph (an rdflib ``Graph``/``Dataset`` or a pyoxigraph
``Store``) still points at the words it quotes. From the command line::

    python -m govkg.graph.evidence "660项实现“只跑一次”"
    python -m govkg.graph.evidence --prefix "西江日报记者 " "肖桂芳"
    python -m govkg.graph.evidence --check     # check the committed data files

prints the start and end offsets of the quote, or the problems found.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from govkg.rdf.namespaces import OA

TEXT_QUOTE_SELECTOR = OA + "TextQuoteSelector"
TEXT_POSITION_SELECTOR = OA + "TextPositionSelector"

SELECTORS_QUERY = f"""
PREFIX oa: <{OA}>
SELECT ?target ?source ?selector ?type ?exact ?prefix ?suffix ?start ?end WHERE {{
  ?target oa:hasSelector ?selector .
  ?selector a ?type .
  FILTER (?type IN (oa:TextQuoteSelector, oa:TextPositionSelector))
  OPTIONAL {{ ?target oa:hasSource ?source }}
  OPTIONAL {{ ?selector oa:exact ?exact }}
  OPTIONAL {{ ?selector oa:prefix ?prefix }}
  OPTIONAL {{ ?selector oa:suffix ?suffix }}
  OPTIONAL {{ ?selector oa:start ?start }}
  OPTIONAL {{ ?selector oa:end ?end }}
}}
"""


class QuoteNotFound(ValueError):
    """The quote, with its prefix and suffix, does not occur in the text."""


class AmbiguousQuote(ValueError):
    """The quote, with its prefix and suffix, occurs more than once in the text."""


def occurrences(text: str, exact: str, prefix: str = "", suffix: str = "") -> list[int]:
    """Every start offset of ``exact`` in ``text`` that is preceded by ``prefix`` and followed by ``suffix``.

    >>> occurrences("a-b a-c a-b", "a", suffix="-b")
    [0, 8]
    >>> occurrences("a-b a-c a-b", "b", prefix="a-")
    [2, 10]
    """
    if not exact:
        raise ValueError("the exact quote must not be empty")
    found = []
    start = text.find(exact)
    while start != -1:
        end = start + len(exact)
        if text.startswith(suffix, end) and text[:start].endswith(prefix):
            found.append(start)
        start = text.find(exact, start + 1)
    return found


def locate(text: str, exact: str, prefix: str = "", suffix: str = "") -> tuple[int, int]:
    """The ``(start, end)`` code-point offsets of the one occurrence of a quote; ``end`` is exclusive.

    Raises :class:`QuoteNotFound` if the quote (with its prefix and suffix) is not in
    ``text`` and :class:`AmbiguousQuote` if it occurs more than once.

    >>> text = "全省率先上线，全国率先推出"
    >>> locate(text, "全国率先")
    (7, 11)
    >>> text[7:11]
    '全国率先'
    >>> locate(text, "率先", prefix="全国")
    (9, 11)
    >>> locate(text, "率先")
    Traceback (most recent call last):
    ...
    govkg.graph.evidence.AmbiguousQuote: '率先' occurs 2 times (at 2, 9); add a prefix or suffix
    >>> locate(text, "首创")
    Traceback (most recent call last):
    ...
    govkg.graph.evidence.QuoteNotFound: '首创' does not occur in the text
    """
    found = occurrences(text, exact, prefix, suffix)
    context = f" with prefix {prefix!r}" * bool(prefix) + f" with suffix {suffix!r}" * bool(suffix)
    if not found:
        raise QuoteNotFound(f"{exact!r}{context} does not occur in the text")
    if len(found) > 1:
        where = ", ".join(map(str, found))
        raise AmbiguousQuote(
            f"{exact!r}{context} occurs {len(found)} times (at {where}); add a prefix or suffix"
        )
    return found[0], found[0] + len(exact)


@dataclass
class _Target:
    """The selectors of one ``oa:SpecificResource`` (a target), collected from query rows."""

    sources: set[str] = field(default_factory=set)
    quotes: dict[str, dict[str, str]] = field(default_factory=dict)
    positions: dict[str, dict[str, str]] = field(default_factory=dict)


def _term_value(term: Any) -> str | None:
    """The lexical value of an rdflib or pyoxigraph term (``None`` stays ``None``)."""
    if term is None:
        return None
    value = getattr(term, "value", None)  # pyoxigraph terms
    return str(term) if value is None else str(value)


def _term_key(term: Any) -> str:
    """A key that tells nodes apart across both libraries: blank nodes and IRIs differ."""
    kind = type(term).__name__
    return f"{kind}:{_term_value(term)}"


def selector_rows(graph_or_store: Any) -> Iterable[dict[str, Any]]:
    """The rows of :data:`SELECTORS_QUERY` over an rdflib graph or a pyoxigraph store.

    Values are the terms of the library that answered; read them with ``_term_value``.
    """
    names = ("target", "source", "selector", "type", "exact", "prefix", "suffix", "start", "end")
    if hasattr(graph_or_store, "quads_for_pattern"):  # pyoxigraph.Store
        # Ask over the union of the named graphs: a Store's default graph is not that union.
        for solution in graph_or_store.query(SELECTORS_QUERY, use_default_graph_as_union=True):
            yield {name: solution[name] for name in names}
    else:
        for row in graph_or_store.query(SELECTORS_QUERY):
            yield {name: getattr(row, name) for name in names}


def check_annotations(graph_or_store: Any, text: str, source: str | None = None) -> list[str]:
    """Check every text selector in a graph against the article text; return the problems found.

    For each target (``oa:SpecificResource`` with ``oa:hasSelector``), optionally only
    those whose ``oa:hasSource`` is ``source``:

    * each ``oa:TextQuoteSelector`` has an ``oa:exact`` that, with its ``oa:prefix``
      and ``oa:suffix``, occurs exactly once in ``text``;
    * each ``oa:TextPositionSelector`` has integer ``oa:start`` < ``oa:end`` within the
      text and selects exactly the span that the target's quote selector locates;
    * the target has both kinds of selector.

    An empty list means every selector is an exact span of ``text``.

    >>> import rdflib
    >>> turtle = '''
    ... @prefix oa: <http://www.w3.org/ns/oa#> .
    ... <http://example.org/t> oa:hasSource <http://example.org/text> ;
    ...   oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "率先" ; oa:prefix "全国" ] ,
    ...                  [ a oa:TextPositionSelector ; oa:start 9 ; oa:end 11 ] .
    ... '''
    >>> graph = rdflib.Graph().parse(data=turtle, format="turtle")
    >>> check_annotations(graph, "全省率先上线，全国率先推出")
    []
    >>> check_annotations(graph, "全国率先")
    ['<http://example.org/t>: position 9..11 is not a span of the text (0..4)']
    """
    targets: dict[str, _Target] = {}
    for row in selector_rows(graph_or_store):
        key = _term_key(row["target"])
        target = targets.setdefault(key, _Target())
        if row["source"] is not None:
            target.sources.add(_term_value(row["source"]) or "")
        fields = {
            name: _term_value(row[name])
            for name in ("exact", "prefix", "suffix", "start", "end")
            if row[name] is not None
        }
        selector_key = _term_key(row["selector"])
        kind = _term_value(row["type"])
        if kind == TEXT_QUOTE_SELECTOR:
            target.quotes.setdefault(selector_key, {}).update(fields)
        elif kind == TEXT_POSITION_SELECTOR:
            target.positions.setdefault(selector_key, {}).update(fields)

    problems: list[str] = []
    for key, target in sorted(targets.items()):
        if source is not None and source not in target.sources:
            continue
        name = _display(key)
        problems.extend(_check_target(name, target, text))
    return problems


def _display(key: str) -> str:
    kind, _, value = key.partition(":")
    return f"<{value}>" if kind in ("URIRef", "NamedNode") else f"_:{value}"


def _check_target(name: str, target: _Target, text: str) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[int, int]] = []
    if not target.quotes:
        problems.append(f"{name}: no TextQuoteSelector")
    if not target.positions:
        problems.append(f"{name}: no TextPositionSelector")
    for quote in target.quotes.values():
        exact = quote.get("exact")
        if not exact:
            problems.append(f"{name}: a TextQuoteSelector has no oa:exact")
            continue
        try:
            spans.append(locate(text, exact, quote.get("prefix", ""), quote.get("suffix", "")))
        except ValueError as error:
            problems.append(f"{name}: {error}")
    for position in target.positions.values():
        try:
            start, end = int(position["start"]), int(position["end"])
        except (KeyError, ValueError):
            problems.append(f"{name}: a TextPositionSelector lacks an integer oa:start or oa:end")
            continue
        if not 0 <= start < end <= len(text):
            problems.append(f"{name}: position {start}..{end} is not a span of the text (0..{len(text)})")
            continue
        for quote_start, quote_end in spans:
            if (start, end) != (quote_start, quote_end):
                problems.append(
                    f"{name}: position {start}..{end} selects {text[start:end]!r}, "
                    f"but the quote is at {quote_start}..{quote_end} {text[quote_start:quote_end]!r}"
                )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Print the offsets of a quote in the clean article text, or check the committed data."""
    parser = argparse.ArgumentParser(
        prog="python -m govkg.graph.evidence",
        description="Print the code-point offsets (start, exclusive end) of a quote in the clean article "
        "text, or --check every text selector of the data files.",
    )
    parser.add_argument("exact", nargs="?", help="the exact words to find")
    parser.add_argument("--prefix", default="", help="text that must come straight before the quote")
    parser.add_argument("--suffix", default="", help="text that must come straight after the quote")
    parser.add_argument("--check", action="store_true", help="check every selector of the loaded data")
    args = parser.parse_args(argv)

    from govkg.graph.source_text import article_text

    text = article_text()
    if args.check:
        from govkg.graph.knowledge_graph import load_store

        problems = check_annotations(load_store(), text)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    if not args.exact:
        parser.error("give a quote, or --check")
    try:
        start, end = locate(text, args.exact, args.prefix, args.suffix)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    # Plain xsd:integer: the store keeps it as written (it would rewrite xsd:nonNegativeInteger).
    print(f"oa:start {start} ; oa:end {end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
