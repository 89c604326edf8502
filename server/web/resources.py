"""Resource pages: every IRI under the base dereferences, as HTML for people and RDF for programs.

URL space (``{base}`` is the ``base_iri`` setting; the server answers for it)::

    /id/<path>        things: places, organisations, reforms, annotations, the dataset ...
    /eli/<path>       legislation, by its ELI
    /graph/<slug>     the named graphs (ontology, facts, links, metadata): their triples
    /ontology         the gov: ontology; every ``{base}ontology#Term`` resolves here

Each of them also answers with an extension naming one representation:
``.ttl``, ``.nt``, ``.jsonld``, ``.rdf`` (the triple formats of :mod:`govkg.rdf.formats`)
and ``.html``.

**Dereferencing policy: 200 with Content-Location.** A request for the IRI of a
thing is answered directly, with status 200, in the representation that
:func:`govkg.web.negotiation.negotiate` picks from ``Accept``; the ``Content-Location``
header names the document actually sent (``./zhaoqing.ttl``), and ``Vary: Accept,
Accept-Language`` keeps caches honest. We chose this over the 303 redirect of the
2008 "Cool URIs" note because it costs one round trip instead of two for every
client (a browser following links, ``rdflib.Graph().parse(url)``, a crawler), it
works with clients that drop the ``Accept`` header on redirect, and the W3C TAG's
2012 resolution on httpRange-14 accepts it: a 200 response to a thing's IRI is its
description, and ``Content-Location`` identifies the description document. The
identifier stays the IRI without extension — link to that one.

What a page shows is the resource's Concise Bounded Description
(:func:`govkg.rdf.describe.concise_bounded_description`, the same code as SPARQL
DESCRIBE), its incoming links, and — for a fact — the evidence: the sentence of the
article that states it, with the quoted words marked. Terms are looked up through
the pyoxigraph API with ``NamedNode`` objects built from a validated path, never by
pasting request text into a query.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, request
from govkg.errors import ClientError
from govkg.graph.interpretation import interpretations_about
from govkg.graph.source_text import article_text
from govkg.rdf.formats import RDF_FORMATS, RdfFormat, content_type
from govkg.rdf.serialize import project_prefixes, serialize_triples
from govkg.store.loaded import LoadedGraph
from govkg.web import cube_view
from govkg.web.i18n import HTML_LANGUAGE, lang_url, messages, page_language
from govkg.web.i18n import PAGE_LANGUAGES as I18N_LANGUAGES
from govkg.web.negotiation import negotiate
from govkg.web.responses import (
    app_cache,
    conditional,
    html_page,
    install_cache,
    link_header,
    security_headers,
    vary,
)
from govkg.web.store import loaded_graph
from govkg.web.term_labels import term_label
from werkzeug.exceptions import NotAcceptable, NotFound

blueprint = Blueprint("resources", __name__)


@blueprint.record_once
def _install(state) -> None:  # noqa: ANN001
    install_cache(state.app, "resources")


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = ox.NamedNode(RDF + "type")

#: Properties whose values name a resource, best first.
LABEL_PREDICATES: tuple[ox.NamedNode, ...] = tuple(
    ox.NamedNode(iri)
    for iri in (
        SKOS + "prefLabel",
        RDFS + "label",
        "http://schema.org/name",
        "http://purl.org/dc/terms/title",
        "http://xmlns.com/foaf/0.1/name",
        "http://www.w3.org/2006/vcard/ns#fn",
    )
)

#: Languages of the pages' own words; labels in any language are shown.
PAGE_LANGUAGES: tuple[str, ...] = I18N_LANGUAGES
HTML = "text/html"
#: A resource's description is one graph, so the formats that carry named graphs are not offered.
TRIPLE_FORMATS: tuple[RdfFormat, ...] = tuple(fmt for fmt in RDF_FORMATS if not fmt.carries_graphs)
#: The article's own graphs (small in any store).
ARTICLE_GRAPHS: tuple[str, ...] = ("ontology", "facts", "links", "metadata")
#: Most values of one property listed on a page; the RDF forms always have them all.
MAX_VALUES_PER_PROPERTY = 50
#: Most incoming links listed on a page.
MAX_INCOMING_LINKS = 200
#: Blank nodes nested deeper than this are not expanded on the page.
MAX_NESTING = 6
MAX_IRI_PATH_LENGTH = 1024
#: Most neighbours drawn in a resource's diagram (a legible picture; the tables list them all).
MAX_DIAGRAM_NEIGHBOURS = 30

# RFC 3987 ``ipchar`` plus "/": iunreserved, sub-delims, ":", "@", "%" (checked below) and ucschar.
_IRI_PATH_CHARACTER = re.compile(
    "[A-Za-z0-9\\-._~!$&'()*+,;=:@/%"
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd]"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# --- IRIs and paths -------------------------------------------------------------------------


def iri_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be the path of an IRI under the base, or ``None`` if it can.

    >>> iri_path_problem("place/zhaoqing") is None
    True
    >>> iri_path_problem("place/肇庆") is None
    True
    >>> iri_path_problem("a/../b")
    "the path segment '..' is not allowed"
    >>> iri_path_problem("x<script>")
    "the character '<' is not allowed in an IRI path"
    >>> iri_path_problem("nul\\x00")
    "the character '\\\\x00' is not allowed in an IRI path"
    >>> iri_path_problem("100%")
    "'%' must start a percent-encoded octet"
    """
    if len(path) > MAX_IRI_PATH_LENGTH:
        return f"the path is longer than {MAX_IRI_PATH_LENGTH} characters"
    for character in path:
        if not _IRI_PATH_CHARACTER.fullmatch(character):
            return f"the character {character!r} is not allowed in an IRI path"
    if _BAD_PERCENT.search(path):
        return "'%' must start a percent-encoded octet"
    for segment in path.split("/"):
        if segment in (".", ".."):
            return f"the path segment {segment!r} is not allowed"
    return None


def document_name(local_path: str, extension: str) -> str:
    """The relative reference of one representation of a resource: ``./<last segment>.<ext>``.

    Relative, so it is right whatever host or proxy serves the page; ``./`` keeps a
    segment containing ``:`` from reading as a scheme.

    >>> document_name("id/place/zhaoqing", "ttl")
    './zhaoqing.ttl'
    >>> document_name("id/place/肇庆", "html")
    './%E8%82%87%E5%BA%86.html'
    """
    last = local_path.rsplit("/", 1)[-1]
    return "./" + quote(f"{last}.{extension}", safe="!$&'()*+,;=:@-._~%")


def _node(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError:
        raise ClientError("The path is not a valid IRI path.", 400) from None


def _has_triples(store: ox.Store, node: ox.NamedNode) -> bool:
    return (
        next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None
        or next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None
    )


def _split_extension(local_path: str) -> tuple[str, str | None]:
    """``("id/x", "ttl")`` for ``id/x.ttl`` when ``ttl`` names a page format; else ``(path, None)``.

    >>> _split_extension("id/place/zhaoqing.jsonld")
    ('id/place/zhaoqing', 'jsonld')
    >>> _split_extension("id/place/zhaoqing")
    ('id/place/zhaoqing', None)
    """
    stem, dot, extension = local_path.rpartition(".")
    if dot and "/" not in extension and extension in _EXTENSIONS:
        return stem, extension
    return local_path, None


_EXTENSIONS = {fmt.extension: fmt for fmt in TRIPLE_FORMATS} | {"html": None}


# --- negotiation ------------------------------------------------------------------------------


def _offered_media_types() -> list[str]:
    """HTML first (what a bare ``*/*`` gets), then each triple format and its aliases."""
    offered = [HTML]
    for fmt in TRIPLE_FORMATS:
        offered.append(fmt.media_type)
    for fmt in TRIPLE_FORMATS:
        offered.extend(fmt.aliases)
    return offered


def choose_representation(extension: str | None) -> RdfFormat | None:
    """The RDF format to send (``None`` for HTML): the extension's, else the ``Accept`` header's.

    Raises 406 when the client accepts none of them.
    """
    if extension is not None:
        return _EXTENSIONS[extension]
    chosen = negotiate(request.headers.get("Accept"), _offered_media_types())
    if chosen is None:
        available = ", ".join(_offered_media_types()[: 1 + len(TRIPLE_FORMATS)])
        raise NotAcceptable(f"This resource is available as {available}.")
    if chosen == HTML:
        return None
    return next(fmt for fmt in TRIPLE_FORMATS if chosen in (fmt.media_type, *fmt.aliases))


# --- labels and terms as the page shows them ------------------------------------------------


@dataclass
class TermView:
    """One RDF term ready for the template: what to show, where it links, and its details."""

    kind: str  # "iri", "bnode" or "literal"
    text: str
    lang: str | None = None
    href: str | None = None
    iri: str | None = None
    note: str | None = None  # a CURIE, a datatype or a language tag, shown small
    rows: list[PropertyRow] = field(default_factory=list)  # a blank node's own properties


@dataclass
class PropertyRow:
    """One property of a resource and its values (at most :data:`MAX_VALUES_PER_PROPERTY`)."""

    predicate: TermView
    values: list[TermView]
    omitted: int = 0


def pick_literal(literals: Sequence[ox.Literal], language: str) -> ox.Literal | None:
    """The literal best suited to a reader of ``language``.

    In order: that language (or a sub-tag of it), the other page languages, a literal
    without language, anything; ties go to the smallest value, so pages are stable.

    >>> labels = [ox.Literal("Zhaoqing", language="en"), ox.Literal("肇庆", language="zh")]
    >>> pick_literal(labels, "zh").value, pick_literal(labels, "en").value, pick_literal(labels, "fr").value
    ('肇庆', 'Zhaoqing', 'Zhaoqing')
    >>> pick_literal([ox.Literal("肇庆", language="zh-Hans")], "zh").value
    '肇庆'
    >>> pick_literal([], "en") is None
    True
    """
    preference = [language, *(lang for lang in PAGE_LANGUAGES if lang != language)]

    def rank(literal: ox.Literal) -> tuple[int, str]:
        tag = (literal.language or "").lower()
        for position, wanted in enumerate(preference):
            if tag == wanted or tag.startswith(wanted + "-"):
                return position, literal.value
        return (len(preference) if not tag else len(preference) + 1), literal.value

    return min(literals, key=rank, default=None)


def curie(iri: str, prefixes: dict[str, str]) -> str | None:
    """The compact name of ``iri`` under the longest matching prefix, if any.

    >>> curie("http://www.w3.org/2000/01/rdf-schema#label", {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"})
    'rdfs:label'
    >>> curie("http://example.org/x", {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}) is None
    True
    """
    best = max(
        ((prefix, ns) for prefix, ns in prefixes.items() if iri.startswith(ns) and len(iri) > len(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return None if best is None else f"{best[0]}:{iri[len(best[1]) :]}"


def safe_href(iri: str, base_iri: str, script_root: str) -> str | None:
    """Where a link to ``iri`` should point: this server for IRIs under the base, the IRI
    itself for other http(s) IRIs, and nowhere for any other scheme (``javascript:``, ``data:``).

    >>> safe_href("https://w3id.org/govkg/id/place/zhaoqing", "https://w3id.org/govkg/", "")
    '/id/place/zhaoqing'
    >>> safe_href("https://sws.geonames.org/1784853/", "https://w3id.org/govkg/", "")
    'https://sws.geonames.org/1784853/'
    >>> safe_href("javascript:alert(1)", "https://w3id.org/govkg/", "") is None
    True
    """
    if iri.startswith(base_iri):
        return f"{script_root}/{iri[len(base_iri) :]}"
    if iri.lower().startswith(("http://", "https://")):
        return iri
    return None


class PageBuilder:
    """Turns triples into :class:`TermView` / :class:`PropertyRow` for one request."""

    def __init__(self, loaded: LoadedGraph, language: str) -> None:
        self.store = loaded.store
        self.base_iri = loaded.base_iri
        self.language = language
        self.prefixes = project_prefixes(loaded.base_iri)
        self.script_root = request.script_root
        self._labels: dict[ox.NamedNode, ox.Literal | None] = {}

    def label(self, node: ox.NamedNode) -> ox.Literal | None:
        """The best label of ``node`` for this page's language, or ``None``."""
        if node not in self._labels:
            for predicate in LABEL_PREDICATES:
                literals = [
                    quad.object
                    for quad in self.store.quads_for_pattern(node, predicate, None, None)
                    if isinstance(quad.object, ox.Literal)
                ]
                if literals:
                    self._labels[node] = pick_literal(literals, self.language)
                    break
            else:
                # Standard-vocabulary terms are not in the graph: the label table names them.
                known = term_label(node.value, self.language)
                language = HTML_LANGUAGE[self.language] if known else None
                self._labels[node] = ox.Literal(known, language=language) if known else None
        return self._labels[node]

    def all_labels(self, node: ox.NamedNode) -> list[ox.Literal]:
        """Every label of ``node`` (all label properties, all languages), sorted."""
        literals = {
            quad.object
            for predicate in LABEL_PREDICATES
            for quad in self.store.quads_for_pattern(node, predicate, None, None)
            if isinstance(quad.object, ox.Literal)
        }
        return sorted(literals, key=lambda lit: (lit.language or "", lit.value))

    def iri_view(self, node: ox.NamedNode) -> TermView:
        """An IRI shown by its label (else its CURIE, else itself), linked if safe."""
        short = curie(node.value, self.prefixes)
        label = self.label(node)
        href = safe_href(node.value, self.base_iri, self.script_root)
        if href is not None and node.value.startswith(self.base_iri):
            href = lang_url(href)  # a reader's chosen language stays with them
        if label is not None:
            return TermView("iri", label.value, label.language, href, node.value, short or node.value)
        return TermView("iri", short or node.value, None, href, node.value, None)

    def literal_view(self, literal: ox.Literal) -> TermView:
        """A literal with its language tag or (non-string) datatype as a note."""
        if literal.language:
            return TermView("literal", literal.value, literal.language, note="@" + literal.language)
        datatype = literal.datatype.value
        note = None
        if datatype != "http://www.w3.org/2001/XMLSchema#string":
            note = curie(datatype, self.prefixes) or datatype
        return TermView("literal", literal.value, note=note)

    def view(self, term: ox.NamedNode | ox.BlankNode | ox.Literal, by_subject, depth: int, seen) -> TermView:  # noqa: ANN001
        """Any term; a blank node is expanded into its own rows from ``by_subject``."""
        if isinstance(term, ox.NamedNode):
            return self.iri_view(term)
        if isinstance(term, ox.Literal):
            return self.literal_view(term)
        if isinstance(term, ox.BlankNode) and term not in seen and depth < MAX_NESTING:
            rows = self.rows(by_subject.get(term, []), by_subject, depth + 1, seen | {term})
            return TermView("bnode", "", rows=rows)
        return TermView("bnode", "…")

    def rows(
        self, triples: Sequence[ox.Triple], by_subject, depth: int = 0, seen=frozenset()
    ) -> list[PropertyRow]:  # noqa: ANN001
        """One :class:`PropertyRow` per predicate; ``rdf:type`` first, then labels, then by label."""
        by_predicate: dict[ox.NamedNode, list] = {}
        for triple in triples:
            by_predicate.setdefault(triple.predicate, []).append(triple.object)
        rows = []
        for predicate, objects in by_predicate.items():
            objects = sorted(set(objects), key=_term_sort_key)
            shown = objects[:MAX_VALUES_PER_PROPERTY]
            values = [self.view(obj, by_subject, depth, seen) for obj in shown]
            rows.append(PropertyRow(self.iri_view(predicate), values, len(objects) - len(shown)))
        return sorted(rows, key=lambda row: (_predicate_rank(row.predicate.iri), row.predicate.text.lower()))


def _predicate_rank(iri: str | None) -> int:
    if iri == RDF_TYPE.value:
        return 0
    if iri in {predicate.value for predicate in LABEL_PREDICATES}:
        return 1
    return 2


def _term_sort_key(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[int, str, str]:
    if isinstance(term, ox.Literal):
        return 0, term.language or "", term.value
    if isinstance(term, ox.NamedNode):
        return 1, "", term.value
    return 2, "", str(term)


# --- evidence ---------------------------------------------------------------------------------

#: Characters that end a sentence in the article (closing quotation marks stay with it).
SENTENCE_ENDS = "。！？；!?\n"
CLOSING_MARKS = "”’」』）)"


def sentence_around(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The sentence holding ``text[start:end]``, as (before the quote, the quote, after it).

    >>> sentence_around("第一句。全国率先推出。第三句。", 6, 8)
    ('全国', '率先', '推出。')
    >>> sentence_around("他说：“像网购一样方便。”首创", 5, 7)
    ('他说：“像', '网购', '一样方便。”')
    """
    sentence_start = start
    while sentence_start > 0 and text[sentence_start - 1] not in SENTENCE_ENDS:
        sentence_start -= 1
    while sentence_start < start and text[sentence_start] in CLOSING_MARKS + "\n ":
        sentence_start += 1
    sentence_end = end
    while sentence_end < len(text) and text[sentence_end - 1] not in SENTENCE_ENDS:
        sentence_end += 1
    while sentence_end < len(text) and text[sentence_end] in CLOSING_MARKS:
        sentence_end += 1
    after = text[end:sentence_end].rstrip("\n")
    return text[sentence_start:start], text[start:end], after


@dataclass
class Evidence:
    """One quotation that supports a fact, located in the article if possible."""

    annotation: TermView
    source: TermView | None
    before: str
    quote: str
    after: str
    located: bool


def _objects(store: ox.Store, subject, predicate: str) -> list:  # noqa: ANN001
    return [quad.object for quad in store.quads_for_pattern(subject, ox.NamedNode(predicate), None, None)]


def _int_value(term) -> int | None:  # noqa: ANN001
    try:
        return int(term.value) if isinstance(term, ox.Literal) else None
    except ValueError:
        return None


def evidence_for(builder: PageBuilder, resource: ox.NamedNode) -> list[Evidence]:
    """The evidence of a fact: the annotations whose ``oa:hasBody`` is ``resource`` (or the
    resource itself, if it is an annotation), each quote shown inside its sentence."""
    store = builder.store
    annotations = {
        quad.subject for quad in store.quads_for_pattern(None, ox.NamedNode(OA + "hasBody"), resource, None)
    }
    if any(True for _ in store.quads_for_pattern(resource, RDF_TYPE, ox.NamedNode(OA + "Annotation"), None)):
        annotations.add(resource)
    text = article_text()
    found: list[Evidence] = []
    for annotation in sorted(annotations, key=str):
        for target in _objects(store, annotation, OA + "hasTarget"):
            sources = _objects(store, target, OA + "hasSource")
            exact, span = _selected_span(store, target, text)
            source = builder.view(sources[0], {}, MAX_NESTING, frozenset()) if sources else None
            annotation_view = builder.view(annotation, {}, MAX_NESTING, frozenset())
            if span is not None:
                before, quote, after = sentence_around(text, *span)
                found.append(Evidence(annotation_view, source, before, quote, after, True))
            elif exact:
                found.append(Evidence(annotation_view, source, "", exact, "", False))
    return found


def _selected_span(store: ox.Store, target, text: str) -> tuple[str | None, tuple[int, int] | None]:  # noqa: ANN001
    """A Web Annotation target's quote (``oa:exact``) and the span its selectors pick in ``text``."""
    exact, start, end = None, None, None
    for selector in _objects(store, target, OA + "hasSelector"):
        for value in _objects(store, selector, OA + "exact"):
            exact = value.value if isinstance(value, ox.Literal) else exact
        for value in _objects(store, selector, OA + "start"):
            start = _int_value(value)
        for value in _objects(store, selector, OA + "end"):
            end = _int_value(value)
    return exact, _locate(text, exact, start, end)


def _locate(text: str, exact: str | None, start: int | None, end: int | None) -> tuple[int, int] | None:
    """The span of the quote: its positions if they select it, else its only occurrence.

    >>> _locate("abcabd", "bd", 4, 6), _locate("abcabd", "bd", 0, 2), _locate("abcabd", "ab", None, None)
    ((4, 6), (4, 6), None)
    """
    if start is not None and end is not None and 0 <= start < end <= len(text):
        if exact is None or text[start:end] == exact:
            return start, end
    if exact and text.count(exact) == 1:
        position = text.index(exact)
        return position, position + len(exact)
    return None


@dataclass
class ArticleSegment:
    """A run of the article: plain text, or a quote that links to the fact it supports."""

    text: str
    fact: TermView | None = None


def article_segments(builder: PageBuilder, resource: ox.NamedNode) -> list[ArticleSegment]:
    """The article as segments, every quote whose target's ``oa:hasSource`` is ``resource``
    marked and linked to its fact; empty if ``resource`` is no annotation's source.

    Quotes that overlap one already marked are left unmarked (the first, longest wins).
    """
    store = builder.store
    text = article_text()
    spans: list[tuple[int, int, ox.NamedNode | ox.BlankNode | ox.Literal]] = []
    for quad in store.quads_for_pattern(None, ox.NamedNode(OA + "hasSource"), resource, None):
        target = quad.subject
        _, span = _selected_span(store, target, text)
        for annotation in store.quads_for_pattern(None, ox.NamedNode(OA + "hasTarget"), target, None):
            for body in _objects(store, annotation.subject, OA + "hasBody"):
                if span is not None:
                    spans.append((span[0], span[1], body))
    if not spans:
        return []
    segments: list[ArticleSegment] = []
    position = 0
    for start, end, body in sorted(spans, key=lambda s: (s[0], -s[1], str(s[2]))):
        if start < position:
            continue
        segments.append(ArticleSegment(text[position:start]))
        segments.append(ArticleSegment(text[start:end], builder.view(body, {}, MAX_NESTING, frozenset())))
        position = end
    segments.append(ArticleSegment(text[position:]))
    return [segment for segment in segments if segment.text]


# --- responses --------------------------------------------------------------------------------


# --- editorial interpretation -------------------------------------------------------------------


@dataclass
class InterpretationView:
    """One inferred statement about the resource, as shown in the page's own block."""

    mark: TermView
    predicate: TermView
    value: TermView
    note: TermView | None


def interpretation_views(builder: PageBuilder, resource: ox.NamedNode) -> list[InterpretationView]:
    """What the graph infers about ``resource`` beyond the article, with the note in the page's language."""
    views = []
    for item in interpretations_about(builder.store, resource, builder.base_iri):
        note = pick_literal(list(item.notes), builder.language)
        views.append(
            InterpretationView(
                builder.iri_view(item.mark),
                builder.iri_view(item.predicate),
                builder.view(item.value, {}, MAX_NESTING, frozenset()),
                builder.literal_view(note) if note is not None else None,
            )
        )
    return views


def _alternates(local_path: str) -> list[tuple[str, str, str]]:
    """``(href, label, media type)`` of every RDF form of the resource at ``local_path``."""
    return [(document_name(local_path, fmt.extension), fmt.label, fmt.media_type) for fmt in TRIPLE_FORMATS]


def _rdf_response(
    triples: Iterable[ox.Triple] | Callable[[], Iterable[ox.Triple]],
    fmt: RdfFormat,
    loaded: LoadedGraph,
    local_path: str,
    negotiated: bool,
) -> Response:
    """The triples in ``fmt``. Given a function instead (whole graphs: the ontology, a named
    graph), it is called and its serialization kept, once per dataset version."""
    if callable(triples):
        build = triples
        data = app_cache("resources").get(
            loaded.dataset_version,
            ("rdf", local_path, fmt.name),
            lambda: serialize_triples(build(), fmt, loaded.base_iri),
        )
    else:
        data = serialize_triples(triples, fmt, loaded.base_iri)
    response = Response(data, headers={"Content-Type": fmt.content_type})
    return representation_headers(response, loaded, local_path, fmt.extension, negotiated, fmt.name)


def representation_headers(
    response: Response, loaded: LoadedGraph, local_path: str, extension: str, negotiated: bool, variant: str
) -> Response:
    """Headers of one representation of the resource at ``{base}{local_path}``.

    ``Content-Location`` (when the representation was negotiated), ``Link`` to the
    alternates, ``Vary``, the security headers, and a strong ETag for conditional GET.
    """
    if negotiated:
        response.headers["Content-Location"] = document_name(local_path, extension)
    response.headers["Link"] = link_header(
        [(href, "alternate", media_type) for href, _, media_type in _alternates(local_path)]
        + [(document_name(local_path, "html"), "alternate", HTML)]
    )
    vary(response, "Accept", "Accept-Language")
    security_headers(response)
    # The path may hold any IRI character; an ETag must be ASCII, so it carries a digest.
    path_digest = hashlib.sha256(local_path.encode("utf-8")).hexdigest()[:16]
    return conditional(response, loaded, f"{path_digest}-{variant}")


def _not_found(local_path: str, representation_is_html: bool, builder: PageBuilder | None) -> Response:
    if not representation_is_html or builder is None:
        raise NotFound(f"No resource <{loaded_graph().base_iri}{local_path}> in this dataset.")
    loaded = loaded_graph()
    kind = local_path.rsplit("/", 1)[0] + "/" if "/" in local_path else ""
    known = [iri for iri in _local_subjects(loaded) if kind and iri.startswith(loaded.base_iri + kind)]
    suggestions = [builder.iri_view(ox.NamedNode(iri)) for iri in known[:30]]
    response = html_page(
        "resource_not_found.html",
        status=404,
        iri=loaded.base_iri + local_path,
        suggestions=suggestions,
        more_suggestions=max(0, len(known) - len(suggestions)),
        page_language=builder.language,
        ui=messages(builder.language),
    )
    return vary(response, "Accept", "Accept-Language")


def _local_subjects(loaded: LoadedGraph) -> list[str]:
    """Every IRI under the base that is the subject of a triple, sorted (once per version)."""

    # A large store's data is not scanned: suggestions come from the article's graphs.
    graphs = [loaded.graph_iri(slug) for slug in ARTICLE_GRAPHS] if loaded.backend.large else [None]

    def build() -> list[str]:
        return sorted(
            {
                quad.subject.value
                for graph in graphs
                for quad in loaded.store.quads_for_pattern(None, None, None, graph)
                if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(loaded.base_iri)
            }
        )

    return app_cache("resources").get(loaded.dataset_version, "local-subjects", build)


def describe_resource(local_path: str) -> Response:
    """Answer for the IRI ``{base}{local_path}`` (an extension may name the representation)."""
    problem = iri_path_problem(local_path)
    if problem:
        raise ClientError(f"Not a resource IRI: {problem}.", 400)
    loaded = loaded_graph()
    store = loaded.store
    node = _node(loaded.base_iri + local_path)
    extension = None
    if not _has_triples(store, node):
        stem, extension = _split_extension(local_path)
        if extension is not None:
            local_path, node = stem, _node(loaded.base_iri + stem)
        if extension is None or not _has_triples(store, node):
            wants_html = extension == "html" or (
                extension is None and negotiate(request.headers.get("Accept"), _offered_media_types()) == HTML
            )
            builder = PageBuilder(loaded, page_language()) if wants_html else None
            return _not_found(local_path, wants_html, builder)
    fmt = choose_representation(extension)
    triples = loaded.backend.describe(node)
    if fmt is not None:
        return _rdf_response(triples, fmt, loaded, local_path, extension is None)

    language = page_language()
    builder = PageBuilder(loaded, language)
    by_subject: dict = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
    rows = builder.rows(by_subject.get(node, []), by_subject, 0, frozenset())
    types = next((row.values for row in rows if row.predicate.iri == RDF_TYPE.value), [])
    rows = [row for row in rows if row.predicate.iri != RDF_TYPE.value]
    incoming = loaded.backend.incoming(node, MAX_INCOMING_LINKS + 1)
    incoming_rows = _incoming_rows(builder, incoming[:MAX_INCOMING_LINKS])
    key_value, key_predicate = _key_value(builder, node)
    if key_predicate is not None:
        rows = [row for row in rows if row.predicate.iri != key_predicate]
    title = builder.label(node)
    response = html_page(
        "resource.html",
        iri=node.value,
        title=title.value if title else (curie(node.value, builder.prefixes) or node.value),
        title_lang=title.language if title else None,
        other_labels=[label for label in builder.all_labels(node) if label != title],
        types=types,
        key_value=key_value,
        chart=_chart(builder, node),
        diagram=neighbourhood(builder, node, rows, incoming[:MAX_INCOMING_LINKS]),
        rows=rows,
        incoming_rows=incoming_rows,
        incoming_truncated=len(incoming) > MAX_INCOMING_LINKS,
        evidence=evidence_for(builder, node),
        interpretations=interpretation_views(builder, node),
        article=article_segments(builder, node),
        alternates=_alternates(local_path),
        language_links=_language_links(local_path),
        page_language=language,
        ui=messages(language),
        more_text=messages(language)["more"],
    )
    return representation_headers(response, loaded, local_path, "html", extension is None, f"html-{language}")


@dataclass
class KeyValue:
    """What an observation is about, shown first: its measure, value, unit and period."""

    measure: TermView
    value: str
    number: int | float | None
    unit: TermView | None
    period: TermView | None


def _key_value(builder: PageBuilder, node: ox.NamedNode) -> tuple[KeyValue | None, str | None]:
    """The key value of an observation (the object of its measure property), and that property."""
    found = cube_view.measure_of(builder.store, node)
    if found is None:
        return None, None
    measure, value = found
    units = _objects(builder.store, node, cube_view.UNIT_MEASURE.value)
    periods = _objects(builder.store, node, cube_view.REF_PERIOD.value)
    if isinstance(value, ox.Literal):
        text, number = value.value, cube_view.numeric_value(value)
    else:
        text, number = builder.iri_view(value).text, None
    key = KeyValue(
        measure=builder.iri_view(measure),
        value=text,
        number=number,
        unit=builder.iri_view(units[0]) if units and isinstance(units[0], ox.NamedNode) else None,
        period=builder.iri_view(periods[0]) if periods and isinstance(periods[0], ox.NamedNode) else None,
    )
    return key, measure.value


@dataclass
class Chart:
    """A dataset's series, drawn on its page and on each of its observations' pages."""

    heading: str  # a key of the message catalogue
    dataset: TermView
    series: cube_view.Series
    data: dict
    current: str | None


def _chart(builder: PageBuilder, node: ox.NamedNode) -> Chart | None:
    """The chart of ``node``'s series: its own if it is a dataset, its dataset's if an observation."""
    store = builder.store
    if any(True for _ in store.quads_for_pattern(node, RDF_TYPE, cube_view.QB_DATASET_CLASS, None)):
        dataset, heading, current = node, "series", None
    else:
        dataset, heading, current = cube_view.dataset_of(store, node), "series_of", node.value
    if dataset is None:
        return None

    def label(term: ox.NamedNode) -> str:
        return builder.iri_view(term).text

    def href(iri: str) -> str | None:
        return builder.iri_view(ox.NamedNode(iri)).href

    series = cube_view.dataset_series(store, dataset, label, href)
    if not series.numeric:
        return None
    data = series.chart_data(current)
    data["language"] = builder.language
    return Chart(heading, builder.iri_view(dataset), series, data, current)


def neighbourhood(
    builder: PageBuilder, node: ox.NamedNode, rows: Sequence[PropertyRow], incoming: Sequence[ox.Triple]
) -> dict | None:
    """The data of a resource's neighbourhood diagram, or ``None`` if it links to nothing.

    Built from what the page already shows, so the diagram and the tables agree: the
    resources its properties name (``rows``, without its types, which the page shows as
    badges) and the resources that link to it, a blank node replaced by the named resource it
    belongs to, as in the incoming table (nested blank-node values are left out). Embedded in
    the page as JSON rather than fetched from a route: the page has computed it anyway, and
    it is then cached, conditional and language-specific with the page at no extra request.
    """
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str, str], dict] = {}
    left_out: set[str] = set()

    def add(term: ox.NamedNode, role: str) -> str | None:
        if term == node:
            return None  # a link to itself says nothing in a picture of its links
        if term.value not in nodes:
            if len(nodes) >= MAX_DIAGRAM_NEIGHBOURS:
                left_out.add(term.value)
                return None
            view = builder.iri_view(term)
            nodes[term.value] = {"id": term.value, "label": view.text, "href": view.href, "role": role}
        elif nodes[term.value]["role"] != role:
            nodes[term.value]["role"] = "both"
        return term.value

    for row in rows:
        for value in row.values:
            if value.kind == "iri" and value.iri is not None:
                target = add(ox.NamedNode(value.iri), "out")
                if target is not None:
                    edges[(node.value, row.predicate.iri or "", target)] = {
                        "source": node.value,
                        "target": target,
                        "label": row.predicate.text,
                    }
    for triple in incoming:
        subject = triple.subject
        if isinstance(subject, ox.BlankNode):
            subject = _named_referrer(builder.store, subject)
        if not isinstance(subject, ox.NamedNode):
            continue
        source = add(subject, "in")
        if source is not None:
            edges[(source, triple.predicate.value, node.value)] = {
                "source": source,
                "target": node.value,
                "label": builder.iri_view(triple.predicate).text,
            }
    if not nodes:
        return None
    title = builder.label(node)
    own = builder.iri_view(node)
    centre = {"id": node.value, "label": title.value if title else own.text, "href": None, "role": "self"}
    return {
        "nodes": [centre, *nodes.values()],
        "edges": list(edges.values()),
        "left_out": len(left_out),
        "language": builder.language,
    }


def _named_referrer(store: ox.Store, term: ox.BlankNode, depth: int = 3) -> ox.NamedNode | None:
    """The named resource a blank node belongs to (an annotation for its target), if any."""
    for quad in store.quads_for_pattern(None, None, term, None):
        if isinstance(quad.subject, ox.NamedNode):
            return quad.subject
        if isinstance(quad.subject, ox.BlankNode) and depth > 0:
            found = _named_referrer(store, quad.subject, depth - 1)
            if found is not None:
                return found
    return None


def _incoming_rows(builder: PageBuilder, triples: Sequence[ox.Triple]) -> list[PropertyRow]:
    """The links to a resource, grouped by the type of the resource they come from.

    A link from a blank node (an annotation's target, say) is shown as a link from the named
    resource that blank node belongs to; the row heading is the type's label, and its note
    names the linking properties.
    """
    by_type: dict[ox.NamedNode | None, tuple[set, set]] = {}
    for triple in triples:
        subject = triple.subject
        if isinstance(subject, ox.BlankNode):
            subject = _named_referrer(builder.store, subject)
            if subject is None:
                continue
        types = sorted(
            (
                q.object
                for q in builder.store.quads_for_pattern(subject, RDF_TYPE, None, None)
                if isinstance(q.object, ox.NamedNode)
            ),
            key=lambda node: node.value,
        )
        subjects, predicates = by_type.setdefault(types[0] if types else None, (set(), set()))
        subjects.add(subject)
        predicates.add(triple.predicate)
    rows = []
    for cls, (subjects, predicates) in by_type.items():
        ordered = sorted(subjects, key=_term_sort_key)
        shown = ordered[:MAX_VALUES_PER_PROPERTY]
        values = [builder.iri_view(subject) for subject in shown]
        heading = builder.iri_view(cls) if cls is not None else TermView("literal", "—")
        heading.note = " · ".join(sorted(builder.iri_view(p).text for p in predicates))
        heading.text = f"{heading.text} ({len(ordered)})"
        rows.append(PropertyRow(heading, values, len(ordered) - len(shown)))
    return sorted(rows, key=lambda row: row.predicate.text.lower())


def _language_links(local_path: str) -> list[tuple[str, str]]:
    name = document_name(local_path, "html")
    return [(f"{name}?lang={lang}", {"en": "English", "zh": "中文"}[lang]) for lang in PAGE_LANGUAGES]


# --- routes -----------------------------------------------------------------------------------


_RESOURCE_PREFIXES = ("/id/", "/eli/", "/graph/", "/ontology")


@blueprint.before_app_request
def _refuse_control_characters() -> None:
    # The routes' path converter stops at a line break, so such a path would be a bare 404:
    # in a resource IRI a control character (%0D%0A …) is a malformed path, 400 as for the
    # other characters an IRI path cannot hold. (Elsewhere a bad path is just not found.)
    if request.path.startswith(_RESOURCE_PREFIXES) and any(
        ord(character) < 0x20 or ord(character) == 0x7F for character in request.path
    ):
        raise ClientError("Not a valid path: control characters are not allowed in an IRI path.", 400)


@blueprint.get("/id/<path:path>")
def thing(path: str) -> Response:
    """A thing of the article: place, organisation, reform, annotation, dataset ..."""
    return describe_resource("id/" + path)


@blueprint.get("/eli/<path:path>")
def legislation(path: str) -> Response:
    """A piece of legislation, by its European Legislation Identifier."""
    return describe_resource("eli/" + path)


@blueprint.get("/graph/<path:path>")
def named_graph(path: str) -> Response:
    """A named graph: as RDF, all of its triples (as in the Graph Store Protocol); as HTML, a summary."""
    problem = iri_path_problem(path)
    if problem:
        raise ClientError(f"Not a graph IRI: {problem}.", 400)
    loaded = loaded_graph()
    slug, extension = path, None
    graphs = {graph.value for graph in loaded.store.named_graphs()}
    if loaded.base_iri + "graph/" + slug not in graphs:
        slug, extension = _split_extension(path)
        if extension is None or loaded.base_iri + "graph/" + slug not in graphs:
            raise NotFound(f"No named graph <{loaded.base_iri}graph/{path}> in this dataset.")
    local_path = "graph/" + slug
    graph = ox.NamedNode(loaded.base_iri + local_path)
    if loaded.backend.large and slug not in ARTICLE_GRAPHS:
        # A graph of a large store is no one document: its triples are in the dumps.
        return redirect(request.script_root + "/dumps/", 303)
    fmt = choose_representation(extension)
    if fmt is not None:

        def graph_triples() -> list[ox.Triple]:
            return [quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)]

        return _rdf_response(graph_triples, fmt, loaded, local_path, extension is None)
    language = page_language()
    builder = PageBuilder(loaded, language)
    quads = list(loaded.store.quads_for_pattern(None, None, None, graph))
    typed: dict[ox.NamedNode, set] = {}
    for quad in quads:
        if quad.predicate == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            typed.setdefault(quad.object, set()).add(quad.subject)
    classes = []
    for cls in sorted(typed, key=lambda c: c.value):
        members = sorted((m for m in typed[cls] if isinstance(m, ox.NamedNode)), key=lambda m: m.value)
        shown = [builder.iri_view(member) for member in members[:MAX_VALUES_PER_PROPERTY]]
        classes.append(PropertyRow(builder.iri_view(cls), shown, len(members) - len(shown)))
    own = loaded.backend.describe(graph)
    by_subject: dict = {}
    for triple in own:
        by_subject.setdefault(triple.subject, []).append(triple)
    response = html_page(
        "graph.html",
        iri=graph.value,
        slug=slug,
        triple_count=len(quads),
        subject_count=len({quad.subject for quad in quads}),
        rows=builder.rows(by_subject.get(graph, []), by_subject),
        classes=classes,
        alternates=_alternates(local_path),
        language_links=_language_links(local_path),
        page_language=language,
        ui=messages(language),
        more_text=messages(language)["more"],
    )
    return representation_headers(response, loaded, local_path, "html", extension is None, f"html-{language}")


@blueprint.get("/ontology")
@blueprint.get("/ontology.<extension>")
def ontology(extension: str | None = None) -> Response:
    """The gov: ontology: its documentation (HTML) or all of its triples (RDF).

    Every term ``{base}ontology#Term`` resolves here: the fragment never reaches the
    server, and the HTML page has an anchor for each term.
    """
    if extension is not None and extension not in _EXTENSIONS:
        raise NotFound("The ontology is available as " + ", ".join(f".{ext}" for ext in _EXTENSIONS) + ".")
    loaded = loaded_graph()
    fmt = choose_representation(extension)
    graph = loaded.graph_iri("ontology")
    if fmt is not None:

        def ontology_triples() -> list[ox.Triple]:
            return [quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)]

        return _rdf_response(ontology_triples, fmt, loaded, "ontology", extension is None)
    from govkg.web.ontology_doc import ontology_page

    language = page_language()
    page = ontology_page(loaded, language)
    response = Response(page.html, headers={"Content-Type": content_type(HTML)})
    response = representation_headers(
        response, loaded, "ontology", "html", extension is None, f"html-{language}"
    )
    return security_headers(response, page.content_security_policy)
