"""``/search?q=…``: full-text search over labels, descriptions and evidence quotes, as HTML or JSON.

The index is built when the graph is opened (:mod:`govkg.store.search_index`); this
blueprint only asks it and shows the answer. The page is a plain GET form (the box in
every page's header submits to it), so search works without JavaScript. The format is
negotiated from ``Accept`` (``text/html``, ``application/json``), or chosen with
``?format=html|json``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request
from govkg.errors import ClientError
from govkg.store.search_index import CJK_CHARACTERS, Hit, Literal
from govkg.web.i18n import page_language
from govkg.web.negotiation import negotiate
from govkg.web.responses import conditional, html_page, security_headers, vary
from govkg.web.store import loaded_graph, search_index
from werkzeug.exceptions import NotAcceptable

blueprint = Blueprint("search", __name__)

_OFFERED = ("text/html", "application/json")
_FORMATS = {"html": "text/html", "json": "application/json"}
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERY_LENGTH = 200
_WORD = re.compile(f"[{CJK_CHARACTERS}]+|[^\\W_{CJK_CHARACTERS}]+")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@dataclass
class Result:
    """One found resource as the page shows it."""

    iri: str
    label: str
    label_lang: str | None
    label_is_name: bool  # no label: the label is the IRI's prefixed name (or the IRI)
    href: str | None
    types: list[str]
    match: Literal | None
    segments: list[tuple[str, bool]]
    matched_all: bool
    score: float


def highlighted(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, is_a_query_word)`` runs, matching case-insensitively.

    >>> highlighted("Business opening time", ["opening"])
    [('Business ', False), ('opening', True), (' time', False)]
    """
    if not words:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.I)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for found in pattern.finditer(text):
        if found.start() > position:
            pieces.append((text[position : found.start()], False))
        pieces.append((found.group(), True))
        position = found.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def best_match(literals: list[Literal], words: list[str], language: str) -> Literal | None:
    """The literal that shows best why a resource was found: the most query words, then the
    reader's language, then labels before descriptions before quotes, then the shortest."""
    if not literals:
        return None
    kinds = {"label": 0, "description": 1, "quote": 2}

    def key(literal: Literal) -> tuple[int, int, int, int]:
        folded = literal.text.casefold()
        found = sum(word.casefold() in folded for word in words)
        return (-found, literal.lang.split("-")[0] != language, kinds.get(literal.kind, 3), len(literal.text))

    return min(literals, key=key)


def _results(hits: list[Hit], words: list[str], language: str) -> list[Result]:
    from govkg.web.resources import PageBuilder  # the pages' own labels and links

    builder = PageBuilder(loaded_graph(), language)
    results = []
    for hit in hits:
        node = ox.NamedNode(hit.iri)
        view = builder.iri_view(node)
        types = [
            builder.iri_view(quad.object).text
            for quad in builder.store.quads_for_pattern(node, RDF_TYPE, None, None)
            if isinstance(quad.object, ox.NamedNode)
        ]
        match = best_match(hit.literals, words, language)
        segments = highlighted(match.text, words) if match is not None else []
        results.append(
            Result(
                hit.iri,
                view.text,
                view.lang,
                view.note is None,
                view.href,
                sorted(set(types))[:3],
                match,
                segments,
                hit.matched_all,
                hit.score,
            )
        )
    return results


@blueprint.get("/search")
def search() -> Response:
    """The resources whose labels, descriptions or quotes hold the words of ``q``, best first."""
    requested = request.args.get("format")
    if requested is not None:
        if requested not in _FORMATS:
            raise ClientError("format must be html or json.")
        chosen = _FORMATS[requested]
    else:
        chosen = negotiate(request.headers.get("Accept"), _OFFERED)
        if chosen is None:
            raise NotAcceptable("Search results are available as text/html and application/json.")
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise ClientError(f"q is limited to {MAX_QUERY_LENGTH} characters.")
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise ClientError("limit must be a whole number.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ClientError(f"limit must be between 1 and {MAX_LIMIT}.")
    language = page_language()
    words = _WORD.findall(query)
    results = _results(search_index().search(query, limit), words, language)
    loaded = loaded_graph()
    if chosen == "application/json":
        response = jsonify(
            query=query,
            count=len(results),
            results=[
                {
                    "iri": result.iri,
                    "label": result.label,
                    "label_lang": result.label_lang,
                    "page": urljoin(request.host_url, result.href) if result.href else None,
                    "types": result.types,
                    "matched_all_words": result.matched_all,
                    "score": round(-result.score, 4),
                    "match": (
                        {
                            "kind": result.match.kind,
                            "lang": result.match.lang or None,
                            "text": result.match.text,
                        }
                        if result.match
                        else None
                    ),
                }
                for result in results
            ],
        )
        security_headers(response)
    else:
        response = html_page("search.html", query=query, results=results, limit=limit)
    vary(response, "Accept", "Accept-Language")
    variant = hashlib.sha256(request.query_string).hexdigest()[:16]
    return conditional(response, loaded, f"search-{chosen}-{language}-{variant}")
