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

The page model is :mod:`govkg.web.page_model` (and :mod:`govkg.web.evidence`); the
representations, their negotiation and headers are :mod:`govkg.web.representations`.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, request
from govkg.errors import ClientError
from govkg.rdf.formats import content_type
from govkg.rdf.routes import DUMPS, rule
from govkg.store.loaded import LoadedGraph
from govkg.web.evidence import article_segments, evidence_for, interpretation_views
from govkg.web.i18n import messages, page_language
from govkg.web.negotiation import negotiate
from govkg.web.ontology_doc import ontology_page
from govkg.web.page_model import (
    MAX_INCOMING_LINKS,
    MAX_VALUES_PER_PROPERTY,
    RDF_TYPE,
    PageBuilder,
    PropertyRow,
    chart_of,
    curie,
    incoming_link_rows,
    key_value_of,
    neighbourhood,
    neighbourhood_list,
)
from govkg.web.representations import (
    EXTENSIONS,
    HTML,
    alternates,
    choose_representation,
    iri_path_problem,
    language_links,
    offered_media_types,
    rdf_response,
    representation_headers,
    split_extension,
)
from govkg.web.responses import app_cache, html_page, install_cache, security_headers, vary
from govkg.web.store import loaded_graph
from govkg.web.table_export import table_exports
from werkzeug.exceptions import NotFound

blueprint = Blueprint("resources", __name__)


@blueprint.record_once
def _install(state) -> None:  # noqa: ANN001
    install_cache(state.app, "resources")


#: The article's own graphs (small in any store).
ARTICLE_GRAPHS: tuple[str, ...] = ("ontology", "facts", "links", "metadata")


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
        stem, extension = split_extension(local_path)
        if extension is not None:
            local_path, node = stem, _node(loaded.base_iri + stem)
        if extension is None or not _has_triples(store, node):
            wants_html = extension == "html" or (
                extension is None and negotiate(request.headers.get("Accept"), offered_media_types()) == HTML
            )
            builder = PageBuilder(loaded, page_language()) if wants_html else None
            return _not_found(local_path, wants_html, builder)
    fmt = choose_representation(extension)
    triples = loaded.backend.describe(node)
    if fmt is not None:
        return rdf_response(triples, fmt, loaded, local_path, extension is None)

    language = page_language()
    builder = PageBuilder(loaded, language)
    by_subject: dict = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
    rows = builder.rows(by_subject.get(node, []), by_subject, 0, frozenset())
    types = next((row.values for row in rows if row.predicate.iri == RDF_TYPE.value), [])
    rows = [row for row in rows if row.predicate.iri != RDF_TYPE.value]
    incoming = loaded.backend.incoming(node, MAX_INCOMING_LINKS + 1)
    incoming_rows = incoming_link_rows(builder, incoming[:MAX_INCOMING_LINKS])
    key_value, key_predicate = key_value_of(builder, node)
    if key_predicate is not None:
        rows = [row for row in rows if row.predicate.iri != key_predicate]
    title = builder.label(node)
    diagram = neighbourhood(builder, node, rows, incoming[:MAX_INCOMING_LINKS])
    response = html_page(
        "resource.html",
        iri=node.value,
        title=title.value if title else (curie(node.value, builder.prefixes) or node.value),
        title_lang=title.language if title else None,
        other_labels=[label for label in builder.all_labels(node) if label != title],
        types=types,
        key_value=key_value,
        chart=chart_of(builder, node),
        exports=table_exports(store, node, language),
        diagram=diagram,
        diagram_list=neighbourhood_list(diagram),
        rows=rows,
        incoming_rows=incoming_rows,
        incoming_truncated=len(incoming) > MAX_INCOMING_LINKS,
        evidence=evidence_for(builder, node),
        interpretations=interpretation_views(builder, node),
        article=article_segments(builder, node),
        alternates=alternates(local_path),
        language_links=language_links(local_path),
        page_language=language,
        ui=messages(language),
        more_text=messages(language)["more"],
    )
    return representation_headers(response, loaded, local_path, "html", extension is None, f"html-{language}")


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
        slug, extension = split_extension(path)
        if extension is None or loaded.base_iri + "graph/" + slug not in graphs:
            raise NotFound(f"No named graph <{loaded.base_iri}graph/{path}> in this dataset.")
    local_path = "graph/" + slug
    graph = ox.NamedNode(loaded.base_iri + local_path)
    if loaded.backend.large and slug not in ARTICLE_GRAPHS:
        # A graph of a large store is no one document: its triples are in the dumps.
        return redirect(request.script_root + rule(DUMPS), 303)
    fmt = choose_representation(extension)
    if fmt is not None:

        def graph_triples() -> list[ox.Triple]:
            return [quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)]

        return rdf_response(graph_triples, fmt, loaded, local_path, extension is None)
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
        alternates=alternates(local_path),
        language_links=language_links(local_path),
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
    if extension is not None and extension not in EXTENSIONS:
        raise NotFound("The ontology is available as " + ", ".join(f".{ext}" for ext in EXTENSIONS) + ".")
    loaded = loaded_graph()
    fmt = choose_representation(extension)
    graph = loaded.graph_iri("ontology")
    if fmt is not None:

        def ontology_triples() -> list[ox.Triple]:
            return [quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)]

        return rdf_response(ontology_triples, fmt, loaded, "ontology", extension is None)
    language = page_language()
    page = ontology_page(loaded, language)
    response = Response(page.html, headers={"Content-Type": content_type(HTML)})
    response = representation_headers(
        response, loaded, "ontology", "html", extension is None, f"html-{language}"
    )
    return security_headers(response, page.content_security_policy)
