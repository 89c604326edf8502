"""The page model: RDF terms and triples turned into what the HTML pages show.

A :class:`PageBuilder` is made for one request (a language, the loaded graph) and turns terms
into :class:`TermView` and a resource's triples into :class:`PropertyRow`; the resource page's
parts built on it (its key value, its chart, its neighbourhood diagram, its incoming links) are
here too. The resource, graph, ontology, home and metadata pages all build on this module; it
knows nothing of routes or representations (:mod:`govkg.web.representations`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import request
from govkg.rdf.namespaces import OA, RDF, RDFS, SKOS
from govkg.rdf.serialize import project_prefixes
from govkg.store.loaded import LoadedGraph
from govkg.web import cube_view
from govkg.web.i18n import HTML_LANGUAGE, lang_url, messages
from govkg.web.i18n import PAGE_LANGUAGES as I18N_LANGUAGES
from govkg.web.quantities import Quantity, english_plural, observation_quantity, quantity
from govkg.web.term_labels import term_label

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
#: Most values of one property listed on a page; the RDF forms always have them all.
MAX_VALUES_PER_PROPERTY = 50
#: Most incoming links listed on a page.
MAX_INCOMING_LINKS = 200
#: Blank nodes nested deeper than this are not expanded on the page.
MAX_NESTING = 6
#: Most neighbours drawn in a resource's diagram (a legible picture; the tables list them all).
MAX_DIAGRAM_NEIGHBOURS = 30


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
    count: int | None = None  # a group heading's size, shown after its name ("(6)")


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

    A path that would start with two slashes (``//evil.example/``: another host, to a browser)
    stays an absolute link to this server's IRI:

    >>> safe_href("https://w3id.org/govkg//evil.example/phish", "https://w3id.org/govkg/", "")
    'https://w3id.org/govkg//evil.example/phish'
    """
    if iri.startswith(base_iri):
        local = iri[len(base_iri) :]
        # Browsers read "/\\" as "//" and drop tabs and line breaks before reading either.
        if not local.lstrip("\t\n\r").startswith(("/", "\\")):
            return f"{script_root}/{local}"
        return iri
    if iri.lower().startswith(("http://", "https://")):
        return iri
    return None


class PageBuilder:
    """Turns triples into :class:`TermView` / :class:`PropertyRow` for one request."""

    def __init__(self, loaded: LoadedGraph, language: str) -> None:
        self.store = loaded.store
        self.backend = loaded.backend
        self.base_iri = loaded.base_iri
        self.language = language
        self.prefixes = project_prefixes(loaded.base_iri)
        self.script_root = request.script_root
        self._labels: dict[ox.NamedNode, ox.Literal | None] = {}

    def prefetch(self, terms: Iterable[ox.NamedNode | ox.BlankNode | ox.Literal | None]) -> None:
        """The page is about to look ``terms`` up: let the backend fetch the IRIs among them
        together (a remote store, in a few queries rather than one each)."""
        self.backend.prefetch(terms)

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
        ordered = {
            predicate: sorted(set(objects), key=_term_sort_key) for predicate, objects in by_predicate.items()
        }
        self.prefetch(
            [*ordered, *(obj for objects in ordered.values() for obj in objects[:MAX_VALUES_PER_PROPERTY])]
        )
        rows = []
        for predicate, objects in ordered.items():
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


def objects_of(store: ox.Store, subject, predicate: str) -> list:  # noqa: ANN001
    return [quad.object for quad in store.quads_for_pattern(subject, ox.NamedNode(predicate), None, None)]


def has_type(store: ox.Store, node, cls: ox.NamedNode) -> bool:  # noqa: ANN001
    """Whether ``node`` is stated to be of type ``cls`` (``rdf:type``)."""
    return any(True for _ in store.quads_for_pattern(node, RDF_TYPE, cls, None))


def int_value(term) -> int | None:  # noqa: ANN001
    try:
        return int(term.value) if isinstance(term, ox.Literal) else None
    except ValueError:
        return None


@dataclass
class KeyValue:
    """What an observation is about, shown first: its measure, value, unit and period."""

    measure: TermView
    value: str
    number: int | float | None
    unit: TermView | None
    period: TermView | None
    shown: Quantity | None  # the number as the reader writes it, with its unit ("7 days", "1st")


def key_value_of(builder: PageBuilder, node: ox.NamedNode) -> tuple[KeyValue | None, str | None]:
    """The key value of an observation (the object of its measure property), and that property."""
    found = cube_view.measure_of(builder.store, node)
    if found is None:
        return None, None
    measure, value = found
    units = objects_of(builder.store, node, cube_view.UNIT_MEASURE.value)
    periods = objects_of(builder.store, node, cube_view.REF_PERIOD.value)
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
        shown=None
        if number is None
        else observation_quantity(
            builder.store,
            node,
            measure,
            number,
            lambda term: builder.iri_view(term).text,
            builder.base_iri,
            builder.language,
        ),
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
    parts: list[ChartPart] = field(default_factory=list)
    shown: dict[str, Quantity] = field(default_factory=dict)  # each point's value as the table writes it


@dataclass
class ChartPart:
    """One drawn chart of a series: the points of one unit, with the value axis's title."""

    data: dict
    size: str  # the box's size class, reserved by CSS before the chart is drawn


def axis_title(measure: str, unit: str | None, language: str) -> str:
    """The value axis's title: the measure and its unit.

    >>> axis_title("processing time", "day", "en"), axis_title("办理时限", "天", "zh")
    ('processing time (days)', '办理时限（天）')
    >>> axis_title("rank", None, "en")
    'rank'
    """
    if not unit:
        return measure
    if language == "zh":
        return f"{measure}（{unit}）"
    return f"{measure} ({english_plural(unit)})"


def chart_of(builder: PageBuilder, node: ox.NamedNode) -> Chart | None:
    """The chart of ``node``'s series: its own if it is a dataset, its dataset's if an observation."""
    store = builder.store
    if has_type(store, node, cube_view.QB_DATASET_CLASS):
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
    shown = {
        point.iri: quantity(point.value, point.unit, None, False, builder.language)
        for point in series.points
        if point.value is not None
    }
    parts = chart_parts(series, current, builder.language)
    return Chart(heading, builder.iri_view(dataset), series, data, current, parts, shown)


def chart_parts(series: cube_view.Series, current: str | None, language: str) -> list[ChartPart]:
    """The charts of ``series``: one per unit, each titled with its measure and unit."""
    whole = series.chart_data(current)
    parts = []
    for points in series.by_unit():
        iris = {point.iri for point in points}
        drawn = [
            point
            for point, source in zip(
                whole["points"], [p for p in series.points if p.value is not None], strict=True
            )
            if source.iri in iris
        ]
        unit = points[0].unit
        data = {
            "title": series.title,
            "measure": series.measure,
            "axis": axis_title(series.measure, unit, language),
            "unit": unit or "",
            "language": language,
            "points": drawn,
        }
        size = "few" if len(points) <= 8 else "many" if len(points) <= 16 else "lots"
        parts.append(ChartPart(data, size))
    return parts


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
            nodes[term.value] = {
                "id": term.value,
                "label": view.text,
                "href": view.href,
                "role": role,
                **list_name(builder, term, view),
            }
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
    shorten_quotes(builder, list(nodes.values()))
    title = builder.label(node)
    own = builder.iri_view(node)
    centre = {"id": node.value, "label": title.value if title else own.text, "href": None, "role": "self"}
    return {
        "nodes": [centre, *nodes.values()],
        "edges": list(edges.values()),
        "left_out": len(left_out),
        "language": builder.language,
    }


#: The language of the article the annotations quote (the Xijiang Daily report is in Chinese).
ARTICLE_LANGUAGE = "zh"
#: How many characters of an annotation's quote name it in the phone's link list.
QUOTE_NAME_LENGTH = 24
#: How many characters past the first one that differs show where two quotes start alike.
QUOTE_NAME_TAIL = 6
#: How many characters of the words before a quote tell it from the same words quoted elsewhere.
QUOTE_CONTEXT_LENGTH = 8


def list_name(builder: PageBuilder, term: ox.NamedNode, view: TermView) -> dict:
    """How the phone's link list names ``term`` (shown as ``view``): by its label, in its language;
    on a page in the article's language, an annotation without one by its kind and the words it
    quotes from the article (whole: :func:`shorten_quotes` cuts them once the list is known); else
    by its compact name or IRI, marked as an identifier (data, not an interface word in the page's
    language; an English reader reads its English path words).
    """
    if view.note is not None:  # a label, its CURIE as the note
        return {"lang": view.lang}
    annotation = ox.NamedNode(OA + "Annotation")
    if builder.language == ARTICLE_LANGUAGE and has_type(builder.store, term, annotation):
        quotes = [  # each quote, with the words before it (its selector's oa:prefix)
            (value.value, "".join(text.value for text in objects_of(builder.store, selector, OA + "prefix")))
            for target in objects_of(builder.store, term, OA + "hasTarget")
            for selector in objects_of(builder.store, target, OA + "hasSelector")
            for value in objects_of(builder.store, selector, OA + "exact")
            if isinstance(value, ox.Literal)
        ]
        if quotes:
            kind = term_label(annotation.value, builder.language) or ""
            quote, before = min(quotes)
            language = HTML_LANGUAGE[ARTICLE_LANGUAGE]
            return {"kind": kind, "quote": quote, "before": before, "quote_lang": language}
    return {"identifier": True}


def shorten_quotes(builder: PageBuilder, nodes: Sequence[dict]) -> None:
    """Cut the whole quotes :func:`list_name` gave ``nodes`` to :data:`QUOTE_NAME_LENGTH`
    characters, or as many more as it takes to tell two of them apart: where two quotes start
    alike, each is shown past the first character where they differ. Two annotations of the same
    words are told apart by the words before them in the article (``after``: the same words
    quoted in two places), else by what each is about (``about``: its first body's label).
    """
    quoted = [node for node in nodes if node.get("quote")]
    whole = {node["id"]: (node["quote"], node.pop("before", "")) for node in quoted}
    for node in quoted:
        quote, before = whole[node["id"]]
        others = [whole[other["id"]] for other in quoted if other is not node]
        shown = QUOTE_NAME_LENGTH
        for other, _ in others:
            alike = len(os.path.commonprefix([quote, other]))
            if alike >= QUOTE_NAME_LENGTH or alike == len(quote) == len(other):
                shown = max(shown, alike + QUOTE_NAME_TAIL)
        node["quote"] = quote if len(quote) <= shown else quote[:shown] + "…"
        same = [other_before for other, other_before in others if other == quote]
        if same and before.strip() and before not in same:
            words = before.strip()[-QUOTE_CONTEXT_LENGTH:]
            node["after"] = messages(builder.language)["quote_after"].format(words=words)
        elif same:
            node["about"] = _first_body_label(builder, ox.NamedNode(node["id"]))


def _first_body_label(builder: PageBuilder, annotation: ox.NamedNode) -> str | None:
    """The label (or short name) of the first of ``annotation``'s bodies, in IRI order."""
    bodies = objects_of(builder.store, annotation, OA + "hasBody")
    bodies = sorted((body for body in bodies if isinstance(body, ox.NamedNode)), key=lambda body: body.value)
    if not bodies:
        return None
    label = builder.iri_view(bodies[0]).text
    return label if len(label) <= QUOTE_NAME_LENGTH else label[:QUOTE_NAME_LENGTH] + "…"


@dataclass
class LinkGroup:
    """The diagram's edges of one property and direction, as the narrow screen lists them."""

    label: str
    outgoing: bool
    nodes: list[dict]


def neighbourhood_list(diagram: dict | None) -> list[LinkGroup]:
    """The neighbourhood diagram as a list (what a phone shows instead of the drawing): its
    edges grouped by property, the resource's own links first.

    >>> data = {"nodes": [{"id": "a", "label": "A"}, {"id": "b", "label": "B", "href": "/b"}],
    ...         "edges": [{"source": "a", "target": "b", "label": "in region"}]}
    >>> [(g.label, g.outgoing, [n["label"] for n in g.nodes]) for g in neighbourhood_list(data)]
    [('in region', True, ['B'])]
    """
    if not diagram:
        return []
    nodes = {node["id"]: node for node in diagram["nodes"]}
    centre = diagram["nodes"][0]["id"]
    groups: dict[tuple[bool, str], LinkGroup] = {}
    for edge in diagram["edges"]:
        outgoing = edge["source"] == centre
        other = nodes[edge["target"] if outgoing else edge["source"]]
        group = groups.setdefault((not outgoing, edge["label"]), LinkGroup(edge["label"], outgoing, []))
        if other not in group.nodes:
            group.nodes.append(other)
    return [groups[key] for key in sorted(groups, key=lambda key: (key[0], key[1].lower()))]


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


def incoming_link_rows(builder: PageBuilder, triples: Sequence[ox.Triple]) -> list[PropertyRow]:
    """The links to a resource, grouped by the type of the resource they come from.

    A link from a blank node (an annotation's target, say) is shown as a link from the named
    resource that blank node belongs to; the row heading is the type's label, and its note
    names the linking properties, its count the resources of that type (a table filter says how
    many of them it shows: static/tables.js).
    """
    by_type: dict[ox.NamedNode | None, tuple[set, set]] = {}
    builder.prefetch([term for triple in triples for term in (triple.subject, triple.predicate)])
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
    builder.prefetch(by_type)
    rows = []
    for cls, (subjects, predicates) in by_type.items():
        ordered = sorted(subjects, key=_term_sort_key)
        shown = ordered[:MAX_VALUES_PER_PROPERTY]
        values = [builder.iri_view(subject) for subject in shown]
        heading = builder.iri_view(cls) if cls is not None else TermView("literal", "—")
        heading.note = " · ".join(sorted(builder.iri_view(p).text for p in predicates))
        heading.count = len(ordered)
        rows.append(PropertyRow(heading, values, len(ordered) - len(shown)))
    return sorted(rows, key=lambda row: row.predicate.text.lower())
