"""Resource pages over real HTTP: IRI dereferencing, content negotiation, evidence, safety."""

from __future__ import annotations

import html
import http.client
import json
import re
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import rdflib
import requests
from govkg import create_app
from govkg.graph.source_text import article_text
from govkg.rdf.describe import concise_bounded_description
from govkg.store.loaded import LoadedGraph
from govkg.web.i18n import HTML_LANGUAGE
from govkg.web.store import EXTENSION_KEY

from tests.isomorphism import isomorphic

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
OA = "http://www.w3.org/ns/oa#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PLACE = "id/place/zhaoqing"


@pytest.fixture(scope="module")
def loaded(live_server) -> LoadedGraph:  # noqa: ANN001
    """The same knowledge graph the live server loaded (same files, same base IRI)."""
    return create_app({"base_iri": live_server.url}).extensions[EXTENSION_KEY]


def _rdflib_graph(triples: list[ox.Triple]) -> rdflib.Graph:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return rdflib.Graph().parse(data=data, format="nt")


def _by_value(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph with each typed literal in rdflib's lexical form for its value, and
    ``"x"^^xsd:string`` as ``"x"`` (one term in RDF 1.1).

    The Turtle forms come from serialize.py's rdflib writer, which rewrites some lexical
    forms (``"100"^^xsd:decimal`` as ``100.0``; test_dumps pins that down exactly); the
    resource tests check which statements are served, compared by value.
    """
    normal = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype is not None:
            if o.datatype == rdflib.XSD.string:
                o = rdflib.Literal(str(o))
            elif not isinstance(o.toPython(), rdflib.Literal):
                o = rdflib.Literal(o.toPython(), datatype=o.datatype)
        normal.add((s, p, o))
    return normal


def _get(live_server, path: str, **headers: str) -> requests.Response:  # noqa: ANN001
    return requests.get(live_server.url + path, headers=headers, timeout=20)


def _raw_get(live_server, target: str, accept: str = BROWSER_ACCEPT) -> tuple[int, str]:  # noqa: ANN001
    """GET an exact request-target (no client-side normalization of ``..`` or escapes)."""
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        connection.request("GET", target, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


EVIDENCE_QUERY = """
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?fact ?exact WHERE {
  ?annotation oa:hasBody ?fact ; oa:hasTarget/oa:hasSelector/oa:exact ?exact .
  FILTER isIRI(?fact)
} ORDER BY ?fact ?exact
"""


def _fact_with_evidence(loaded: LoadedGraph) -> tuple[ox.NamedNode, str]:
    """A fact that is the body of an annotation whose quote occurs once in the article."""
    text = article_text()
    for row in loaded.store.query(EVIDENCE_QUERY, use_default_graph_as_union=True):
        if text.count(row["exact"].value) == 1:
            return row["fact"], row["exact"].value
    pytest.fail("no annotated fact with a locatable quote in the data")


# --- negotiation --------------------------------------------------------------------------------

NEGOTIATION_TABLE = [
    # (Accept, expected media type, expected Content-Location extension)
    (BROWSER_ACCEPT, "text/html", "html"),
    ("text/turtle", "text/turtle", "ttl"),
    ("application/x-turtle", "text/turtle", "ttl"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "jsonld"),
    ("application/rdf+xml", "application/rdf+xml", "rdf"),
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json", "jsonld"),
    ("application/rdf+xml;q=0.2, text/turtle;q=0.9, */*;q=0.1", "text/turtle", "ttl"),
    ("text/html;q=0, */*", "text/turtle", "ttl"),
    ("text/turtle, */*", "text/turtle", "ttl"),
    ("*/*", "text/html", "html"),
    ("text/*", "text/html", "html"),
    ("application/*", "application/n-triples", "nt"),
]


@pytest.mark.parametrize(("accept", "media_type", "extension"), NEGOTIATION_TABLE)
def test_accept_picks_the_representation(live_server, accept, media_type, extension):
    response = _get(live_server, PLACE, Accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert response.headers["Content-Location"] == f"./zhaoqing.{extension}"
    assert {v.strip() for v in response.headers["Vary"].split(",")} >= {"Accept", "Accept-Language"}


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0", "application/json, text/csv"])
def test_nothing_acceptable_is_406(live_server, accept):
    response = _get(live_server, PLACE, Accept=accept)
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_no_accept_header_gets_html(live_server):
    response = requests.get(live_server.url + PLACE, headers={"Accept": None}, timeout=20)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("extension", "media_type"),
    [
        ("ttl", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
        ("html", "text/html"),
    ],
)
def test_extension_names_the_representation_whatever_accept_says(live_server, extension, media_type):
    response = _get(live_server, f"{PLACE}.{extension}", Accept="image/png")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Content-Location" not in response.headers


@pytest.mark.parametrize("path", [PLACE, "ontology", "graph/facts"])
def test_rdf_forms_are_linked_from_the_page_and_the_headers(live_server, path):
    response = _get(live_server, path, Accept=BROWSER_ACCEPT)
    name = path.rsplit("/", 1)[-1]
    for extension, media_type in [
        ("ttl", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
    ]:
        assert f'<link rel="alternate" type="{media_type}" href="./{name}.{extension}"' in response.text
        assert f'<./{name}.{extension}>; rel="alternate"; type="{media_type}"' in response.headers["Link"]


# --- what the RDF holds --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PLACE, "id/dataset/zhaoqing-rule-of-law"])
def test_rdflib_parses_a_resource_url_into_its_cbd(live_server, loaded, path):
    graph = rdflib.Graph().parse(live_server.url + path)
    expected = concise_bounded_description(loaded.store, ox.NamedNode(live_server.url + path))
    assert len(graph) > 0
    assert isomorphic(_by_value(graph), _by_value(_rdflib_graph(expected)))


@pytest.mark.parametrize("extension", ["ttl", "nt", "jsonld", "rdf"])
def test_every_rdf_form_of_a_fact_holds_its_cbd(live_server, loaded, extension):
    fact, _ = _fact_with_evidence(loaded)
    path = fact.value[len(live_server.url) :]
    response = _get(live_server, f"{path}.{extension}")
    graph = rdflib.Graph().parse(data=response.content, format=rdflib.util.guess_format(f"x.{extension}"))
    expected = _rdflib_graph(concise_bounded_description(loaded.store, fact))
    assert isomorphic(_by_value(graph), _by_value(expected))


def test_the_ontology_and_a_graph_serve_all_their_triples(live_server, loaded):
    for path, slug in [("ontology.ttl", "ontology"), ("graph/facts.nt", "facts")]:
        graph = rdflib.Graph().parse(live_server.url + path)
        triples = [q.triple for q in loaded.store.quads_for_pattern(None, None, None, loaded.graph_iri(slug))]
        assert len(graph) == len(set(triples)) > 0
        assert isomorphic(_by_value(graph), _by_value(_rdflib_graph(triples)))


# --- the HTML page -------------------------------------------------------------------------------


def _labels(loaded: LoadedGraph, iri: str) -> dict[str, str]:
    quads = loaded.store.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(RDFS_LABEL), None, None)
    return {q.object.language: q.object.value for q in quads if q.object.language}


def _h1(page: str) -> str:
    return html.unescape(re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1))


@pytest.mark.parametrize(
    ("accept_language", "query", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "", "zh"),
        ("en-GB,en;q=0.9,zh;q=0.5", "", "en"),
        ("zh;q=0.1, en", "", "en"),
        ("fr", "", "en"),
        ("en", "?lang=zh", "zh"),
        ("zh", "?lang=en", "en"),
    ],
)
def test_labels_follow_the_preferred_language(live_server, loaded, accept_language, query, language):
    labels = _labels(loaded, live_server.url + PLACE)
    assert {"zh", "en"} <= set(labels)
    page = _get(live_server, PLACE + query, Accept=BROWSER_ACCEPT, **{"Accept-Language": accept_language})
    assert _h1(page.text) == labels[language]
    # One language tag for the whole site: zh pages are Simplified Chinese.
    assert f'<html lang="{HTML_LANGUAGE[language]}">' in page.text


def test_a_bad_lang_parameter_is_400(live_server):
    assert _get(live_server, PLACE + "?lang=<script>", Accept=BROWSER_ACCEPT).status_code == 400


def test_the_evidence_quote_is_marked_inside_its_sentence(live_server, loaded):
    fact, exact = _fact_with_evidence(loaded)
    page = _get(live_server, fact.value[len(live_server.url) :], Accept=BROWSER_ACCEPT).text
    # A fact may have several annotations (one page block each): take the one with this quote.
    quotes = [
        tuple(html.unescape(part) for part in match.groups())
        for match in re.finditer(r"<blockquote[^>]*>(.*?)<mark>(.*?)</mark>(.*?)</blockquote>", page, re.S)
    ]
    assert quotes, "no marked quote on the page"
    before, quote, after = next((found for found in quotes if found[1] == exact), quotes[0])
    assert quote == exact
    sentence = before + quote + after
    assert sentence in article_text()
    assert len(sentence) > len(quote) or sentence.endswith(("。", "！", "？", "；"))


@pytest.mark.parametrize(
    ("language", "marker", "note", "value"),
    [
        ("en", "Editorial interpretation", "names no body", "Zhaoqing Municipal Government"),
        ("zh", "编辑推断", "没有指明哪个机构", "肇庆市政府"),
    ],
)
def test_an_inferred_statement_is_marked_on_its_subjects_page(live_server, language, marker, note, value):
    achievement = "id/achievement/province-first-one-day-business-opening"
    page = _get(live_server, f"{achievement}?lang={language}", Accept=BROWSER_ACCEPT).text
    block = re.search(r'<section class="interpretation">(.*?)</section>', page, re.S)
    assert block, "no editorial-interpretation block on the page"
    text = html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
    assert marker in text and note in text and value in text
    assert f'href="/id/interpretation/attribution-{achievement.rsplit("/", 1)[1]}' in block.group(1)
    # The article states everything about the place, so its page has no such block.
    assert '<section class="interpretation">' not in _get(live_server, PLACE, Accept=BROWSER_ACCEPT).text


def test_the_source_text_page_shows_the_article_with_its_quotes_linked(live_server, loaded):
    source = next(
        row["source"]
        for row in loaded.store.query(
            "PREFIX oa: <http://www.w3.org/ns/oa#> "
            "SELECT ?source WHERE { ?annotation oa:hasTarget/oa:hasSource ?source }",
            use_default_graph_as_union=True,
        )
    )
    page = _get(live_server, source.value[len(live_server.url) :], Accept=BROWSER_ACCEPT).text
    article = re.search(r'<div class="article-text" lang="zh">(.*?)</div>', page, re.S).group(1)
    # The article's words, without the lists of facts that words drawn on by several facts open.
    words = re.sub(r'<ul class="fact-list".*?</ul>', "", article, flags=re.S)
    assert html.unescape(re.sub(r"<[^>]+>", "", words)) == article_text()
    marks = re.findall(r'<mark><a href="([^"]+)"[^>]*>(.*?)</a></mark>', article, re.S)
    assert marks and all(html.unescape(quote) in article_text() for _, quote in marks)
    for href, _ in marks[:3]:
        assert _get(live_server, href.lstrip("/"), Accept="text/turtle").status_code == 200


def test_blank_node_values_are_nested_and_properties_linked(live_server, loaded):
    fact, _ = _fact_with_evidence(loaded)
    annotation = next(loaded.store.quads_for_pattern(None, ox.NamedNode(OA + "hasBody"), fact, None)).subject
    page = _get(live_server, annotation.value[len(live_server.url) :], Accept=BROWSER_ACCEPT).text
    # The target and its selectors are blank nodes: shown as tables inside the value cell.
    assert page.count('<table class="nested">') >= 2
    assert 'href="http://www.w3.org/ns/oa#hasSelector"' in page
    # Incoming links: the fact page lists the annotation that points at it.
    fact_page = _get(live_server, fact.value[len(live_server.url) :], Accept=BROWSER_ACCEPT).text
    assert f'href="/{annotation.value[len(live_server.url) :]}"' in fact_page


def test_pages_carry_a_content_security_policy(live_server):
    for path in (PLACE, "ontology", "graph/facts", "id/no/such-thing"):
        response = _get(live_server, path, Accept=BROWSER_ACCEPT)
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_conditional_get_and_head(live_server):
    first = _get(live_server, PLACE, Accept="text/turtle")
    again = _get(live_server, PLACE, Accept="text/turtle", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = _get(live_server, PLACE, Accept="application/ld+json", **{"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200
    head = requests.head(live_server.url + PLACE, headers={"Accept": "text/turtle"}, timeout=20)
    assert head.status_code == 200 and head.content == b""


# --- the ontology ---------------------------------------------------------------------------------


def test_every_ontology_term_has_its_anchor(live_server, loaded):
    namespace = live_server.url + "ontology#"
    terms = {
        quad.subject.value[len(namespace) :]
        for quad in loaded.store.quads_for_pattern(None, None, None, loaded.graph_iri("ontology"))
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(namespace)
    } - {""}
    response = _get(live_server, "ontology", Accept=BROWSER_ACCEPT)
    assert response.status_code == 200
    anchors = set(re.findall(r'\sid="([^"]+)"', response.text))
    assert terms and terms <= anchors
    assert "<script" not in response.text.lower()
    assert "style-src 'self' 'sha256-" in response.headers["Content-Security-Policy"]


def test_the_ontology_page_strips_markup_from_descriptions():
    from govkg.web.ontology_doc import pylode_html, sanitize_html

    hostile = ox.parse(
        b"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <http://x/o> a owl:Ontology ; rdfs:label "o" ; rdfs:comment "a <script>alert(1)</script> b" .
        <http://x/o#C> a owl:Class ; rdfs:label "C" ;
            rdfs:comment "<img src=x onerror=alert(2)> [x](javascript:alert(3))" .
        """,
        format=ox.RdfFormat.TURTLE,
    )
    generated = pylode_html(list(hostile))
    assert "<script>alert(1)" in generated  # pyLODE passes it through ...
    page, _ = sanitize_html(generated)
    assert "<script" not in page.lower() and "onerror" not in page and "javascript:" not in page.lower()


# --- not found, bad paths, hostile data -----------------------------------------------------------


def test_an_unknown_iri_is_a_helpful_404(live_server):
    page = _get(live_server, "id/place/atlantis", Accept=BROWSER_ACCEPT)
    assert page.status_code == 404
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="/{PLACE}"' in page.text  # resources of the same kind are suggested
    data = _get(live_server, "id/place/atlantis", Accept="text/turtle")
    assert data.status_code == 404 and data.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "target",
    [
        "/id/%00",
        "/id/a%00b",
        "/id/../../etc/passwd",
        "/id/..%2f..%2fetc/passwd",
        "/id/%2e%2e/%2e%2e/etc/passwd",
        "/id/place/zhaoqing%2F..%2F..",
        "/id/x%3Cscript%3Ealert(1)%3C/script%3E",
        "/id/a%20b",
        "/id/%22onmouseover=%22x",
        "/id/%7Bx%7D%7C%5E%60",
        "/id/%5C..%5Cx",
        "/eli/%ff%fe",
        "/id/x%23fragment",
        "/id/" + "a" * 3000,
        "/graph/..%2Fx",
        "/graph/%00",
        "/ontology.exe",
        "/id/%E8%82%87%E5%BA%86",
        "/id/place/zhaoqing.exe",
    ],
)
def test_bad_paths_are_400_or_404_never_500(live_server, target):
    status, body = _raw_get(live_server, target)
    assert status in (400, 404), body
    assert "<script" not in body.lower()


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):  # noqa: ANN001, ANN201
    """The app over the real data plus a file of hostile literals and IRIs."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.ttl"
    path.write_text(
        """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/govkg/id/test/xss> rdfs:label "<script>alert(1)</script>"@en ,
        "\\"><img src=x onerror=alert(2)>"@zh ;
    rdfs:comment "</td></tr></table><script>alert(3)</script>" ;
    rdfs:seeAlso <javascript:alert(4)> , <http://example.org/x'onmouseover='alert(5)> , <data:text/html,x> ;
    <http://example.org/p'onclick='alert(6)> "x" .
<http://example.org/x'onmouseover='alert(5)> rdfs:label "</a><script>alert(7)</script>" .
<https://w3id.org/govkg/id/test/many> rdfs:seeAlso """
        + ", ".join(f"<http://example.org/value/{n}>" for n in range(120))
        + " .\n",
        encoding="utf-8",
    )
    app = create_app({"base_iri": "http://127.0.0.1:5000/", "data": str(path)})
    return app.test_client()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_hostile_literals_and_iris_are_escaped(hostile_client, language):
    response = hostile_client.get(f"/id/test/xss?lang={language}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The page's own data island (the diagram's JSON, never run) is the one script element: the
    # data inside it cannot close it, as "<" is written \u003c, and no link in it is javascript:.
    island = re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>', page, re.S)
    assert island is not None and "<" not in island.group(1)
    diagram = json.loads(island.group(1))
    assert r"\u003cscript\u003e" in island.group(1)
    assert any("<script>" in node["label"] for node in diagram["nodes"])
    assert all(n["href"] is None or n["href"].startswith("http") for n in diagram["nodes"])
    page = page.replace(island.group(0), "")
    # Besides it, only the site's own drawing script: nothing from the data.
    scripts = re.findall(r"<script\b[^>]*>", page, re.I)
    assert len(scripts) == 1
    assert re.fullmatch(r'<script src="/static/visuals\.[0-9a-f]{12}\.js" defer>', scripts[0])
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""href\s*=\s*["']?\s*(javascript|data):""", page, re.I)
    # IRIs with quotes stay inside their attribute: the quote is escaped.
    assert "onmouseover='alert" not in page and "onclick='alert" not in page
    assert "&#39;onmouseover=&#39;alert(5)" in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_long_value_lists_are_capped_on_the_page_not_in_the_rdf(hostile_client):
    from govkg.web.resources import MAX_VALUES_PER_PROPERTY

    page = hostile_client.get("/id/test/many?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    # The diagram (and its list form on phones) shows a few of them; the table is capped.
    page = re.sub(r'<section class="diagram-section.*?</section>', "", page, flags=re.S)
    assert page.count('href="http://example.org/value/') == MAX_VALUES_PER_PROPERTY
    assert f"… {120 - MAX_VALUES_PER_PROPERTY} more values not shown" in page
    turtle = hostile_client.get("/id/test/many.nt").get_data(as_text=True)
    assert turtle.count("<http://example.org/value/") == 120


def test_hostile_data_in_the_rdf_forms_is_never_served_as_html(hostile_client):
    response = hostile_client.get("/id/test/xss.ttl")
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
