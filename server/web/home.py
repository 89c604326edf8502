"""The home page at ``/``, for people who do not write SPARQL.

It says what the dataset is and where it comes from, links the article (its text with
every quoted passage marked), lists the figures and the firsts the article states and
the statistical datasets drawn as charts, all read from the graph (nothing on the page
is written into the template but the site's own words), and links the city, the
stored questions, the dumps and the query editor.

``/?query=…`` is the old address of the query editor: it is redirected (303) to
``/query`` with the same parameters, so shared links keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, request, url_for
from govkg.graph.stored_queries import load_stored_queries
from govkg.rdf.namespaces import SCHEMA
from govkg.store.loaded import LoadedGraph
from govkg.web import cube_view
from govkg.web.i18n import lang_url, page_language
from govkg.web.page_model import PageBuilder, chart_parts
from govkg.web.quantities import Quantity, observation_quantity
from govkg.web.responses import app_cache, conditional, html_page, install_cache, vary
from govkg.web.store import loaded_graph

blueprint = Blueprint("home", __name__)

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SKOS_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
DCTERMS_HAS_FORMAT = ox.NamedNode("http://purl.org/dc/terms/hasFormat")


@blueprint.record_once
def _install(state) -> None:  # noqa: ANN001
    install_cache(state.app, "home")


@dataclass
class Link:
    """A resource as the page links it."""

    text: str
    lang: str | None
    href: str | None


@dataclass
class Figure:
    """One number of the article: its value, unit and what it counts."""

    value: str
    number: float | int | None
    shown: Quantity  # as the reader writes it: "7 days", "1st", "90 percent or more"
    label: Link
    period: str | None


@dataclass
class First:
    """One first-mover achievement and its scope."""

    label: Link
    scope: str | None


@blueprint.get("/")
def home() -> Response:
    """The home page; ``/?query=…`` (the editor's old address) goes on to ``/query``."""
    if "query" in request.args:
        target = url_for("query_page.query_page") + "?" + urlencode(list(request.args.items(multi=True)))
        return redirect(target, code=303)
    loaded = loaded_graph()
    language = page_language()
    content = app_cache("home").get(
        loaded.dataset_version,
        ("home", language, request.script_root, request.args.get("lang")),
        lambda: home_content(loaded, language),
    )
    response = html_page("home.html", **content, question_count=len(load_stored_queries()))
    vary(response, "Accept-Language")
    return conditional(response, loaded, f"home-{language}-{request.args.get('lang', '')}")


def home_content(loaded: LoadedGraph, language: str) -> dict:
    """What the home page shows, read from the graph."""
    builder = PageBuilder(loaded, language)
    store = loaded.store

    def link(node: ox.NamedNode) -> Link:
        view = builder.iri_view(node)
        return Link(view.text, view.lang, view.href)

    def label(node: ox.NamedNode) -> str:
        return builder.iri_view(node).text

    articles = sorted(
        (
            q.subject
            for q in store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(SCHEMA + "NewsArticle"), None)
            if isinstance(q.subject, ox.NamedNode)
        ),
        key=lambda node: node.value,
    )
    article = articles[0] if articles else None
    article_text = None
    about: list[Link] = []
    publisher: list[Link] = []
    authors: list[Link] = []
    if article is not None:
        texts = [q.object for q in store.quads_for_pattern(article, DCTERMS_HAS_FORMAT, None, None)]
        article_text = next((link(node) for node in texts if isinstance(node, ox.NamedNode)), None)

        def linked(predicate: str) -> list[Link]:
            return [
                link(q.object)
                for q in store.quads_for_pattern(article, ox.NamedNode(SCHEMA + predicate), None, None)
                if isinstance(q.object, ox.NamedNode)
            ]

        about, publisher, authors = (
            linked("about"),
            linked("publisher"),
            linked("author") + linked("contributor"),
        )

    observations = sorted(
        {
            q.subject
            for q in store.quads_for_pattern(None, cube_view.QB_DATASET, None, None)
            if isinstance(q.subject, ox.NamedNode)
        },
        key=lambda node: node.value,
    )
    positioned = sorted(
        ((cube_view.evidence_position(store, node), node) for node in observations),
        key=lambda item: (item[0] if item[0] is not None else 1 << 30, item[1].value),
    )
    figures = []
    for _, observation in positioned:
        found = cube_view.measure_of(store, observation)
        if found is None or not isinstance(found[1], ox.Literal):
            continue
        number = cube_view.numeric_value(found[1])
        if number is None:
            continue
        shown = observation_quantity(store, observation, found[0], number, label, loaded.base_iri, language)
        periods = [q.object for q in store.quads_for_pattern(observation, cube_view.REF_PERIOD, None, None)]
        figures.append(
            Figure(
                value=found[1].value,
                number=number,
                shown=shown,
                label=link(observation),
                period=label(periods[0]) if periods and isinstance(periods[0], ox.NamedNode) else None,
            )
        )

    gov = f"{loaded.base_iri}ontology#"
    achievements = {
        q.subject
        for q in store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(gov + "FirstMoverAchievement"), None)
        if isinstance(q.subject, ox.NamedNode)
    }
    firsts = []
    for node in sorted(
        achievements, key=lambda n: (cube_view.evidence_position(store, n) or 1 << 30, n.value)
    ):
        scopes = [q.object for q in store.quads_for_pattern(node, ox.NamedNode(gov + "scope"), None, None)]
        scope = label(scopes[0]) if scopes and isinstance(scopes[0], ox.NamedNode) else None
        firsts.append(First(link(node), scope))

    charts = []
    for dataset in cube_view.datasets(store):
        series = cube_view.dataset_series(
            store, dataset, label, lambda iri: builder.iri_view(ox.NamedNode(iri)).href
        )
        if series.numeric:
            charts.append((link(dataset), len(series.points), chart_parts(series, None, language)))

    city = ox.NamedNode(f"{loaded.base_iri}id/place/zhaoqing")
    return {
        "article": link(article) if article is not None else None,
        "article_text": article_text,
        "about": about,
        "publisher": publisher,
        "authors": authors,
        "figures": figures,
        "firsts": firsts,
        "charts": charts,
        "city": link(city) if any(True for _ in store.quads_for_pattern(city, None, None, None)) else None,
        "queries_href": lang_url(url_for("stored_query_api.list_queries")),
    }
