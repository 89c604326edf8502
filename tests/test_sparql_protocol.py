"""The SPARQL 1.1 Protocol at /sparql, over real HTTP: SPARQLWrapper, rdflib, raw requests.

Expected answers are computed in-process from the same data files with pyoxigraph (the
default graph being the union of the named graphs) and govkg.rdf.describe, and compared by
meaning: bindings as sets, graphs by isomorphism.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import xml.dom.minidom
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
import requests
from flask import Response
from govkg.rdf.describe import concise_bounded_description
from govkg.rdf.formats import RDF_FORMATS, rdf_format, results_format
from govkg.store.loaded import LoadedGraph
from govkg.store.opening import open_knowledge_graph
from govkg.web.sparql_protocol import answer_query
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SELECT_LABELS = f"SELECT ?s ?label WHERE {{ ?s <{RDFS_LABEL}> ?label FILTER isIRI(?s) }}"
ASK_LABELS = f"ASK {{ ?s <{RDFS_LABEL}> ?label }}"
CONSTRUCT_LABELS = f"CONSTRUCT {{ ?s <{RDFS_LABEL}> ?label }} WHERE {{ ?s <{RDFS_LABEL}> ?label }}"
TIMEOUT = 10


@pytest.fixture(scope="module")
def expected(live_server) -> LoadedGraph:
    """The server's data, loaded in-process under the server's base IRI."""
    loaded = open_knowledge_graph(live_server.url)
    served = requests.get(live_server.url + "readyz", timeout=TIMEOUT).json()["dataset_version"]
    if served != loaded.dataset_version:
        pytest.fail("the data files changed after the test server started; run the tests again")
    return loaded


@pytest.fixture(scope="module")
def described_iri(expected: LoadedGraph) -> str:
    """A resource whose CBD reaches a blank node, if there is one (the interesting case)."""
    rows = list(
        expected.store.query(
            "SELECT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && isBlank(?o)) } ORDER BY ?s LIMIT 1",
            use_default_graph_as_union=True,
        )
    )
    if not rows:
        rows = list(expected.store.query("SELECT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) } ORDER BY ?s LIMIT 1"))
    return rows[0]["s"].value


def _rows(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def _union_query(loaded: LoadedGraph, query: str):  # noqa: ANN202
    return loaded.store.query(query, use_default_graph_as_union=True, base_iri=loaded.base_iri + "sparql")


def _rdflib_graph(triples: Iterator[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    return graph


def _label_rows(loaded: LoadedGraph) -> set[tuple[str, str]]:
    return {(row["s"].value, row["label"].value) for row in _union_query(loaded, SELECT_LABELS)}


# --- SPARQLWrapper: every query form, every format it supports, GET / POST / POST directly ------

METHODS = {
    "GET": (GET, URLENCODED),
    "POST-form": (POST, URLENCODED),
    "POST-direct": (POST, POSTDIRECTLY),
}


def _wrapper(url: str, query: str, return_format: str, method: str) -> SPARQLWrapper:
    wrapper = SPARQLWrapper(url)
    wrapper.setQuery(query)
    wrapper.setReturnFormat(return_format)
    http_method, request_method = METHODS[method]
    wrapper.setMethod(http_method)
    wrapper.setRequestMethod(request_method)
    wrapper.setTimeout(TIMEOUT)
    return wrapper


def _rows_from(return_format: str, converted) -> set[tuple[str, str]]:  # noqa: ANN001
    if return_format == JSON:
        bindings = converted["results"]["bindings"]
        return {(b["s"]["value"], b["label"]["value"]) for b in bindings}
    if return_format == XML:
        rows = set()
        for result in converted.getElementsByTagName("result"):
            values = {}
            for binding in result.getElementsByTagName("binding"):
                node = next(n for n in binding.childNodes if n.nodeType == n.ELEMENT_NODE)
                values[binding.getAttribute("name")] = node.firstChild.data if node.firstChild else ""
            rows.add((values["s"], values["label"]))
        return rows
    if return_format == CSV:
        reader = csv.DictReader(io.StringIO(converted.decode("utf-8")))
        return {(row["s"], row["label"]) for row in reader}
    # TSV: terms in Turtle syntax; the parser of pyoxigraph reads them back.
    solutions = ox.parse_query_results(converted, ox.QueryResultsFormat.TSV)
    return {(solution["s"].value, solution["label"].value) for solution in solutions}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select(live_server, expected, return_format, method):
    result = _wrapper(live_server.sparql_url, SELECT_LABELS, return_format, method).query()
    media_type = {JSON: "json", XML: "xml", CSV: "csv", TSV: "tsv"}[return_format]
    assert result.info()["content-type"] == results_format(media_type).content_type
    rows = _rows_from(return_format, result.convert())
    assert rows == _label_rows(expected)
    assert rows  # the data has labels: a comparison of two empty sets would prove nothing


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_ask(live_server, return_format, method):
    for query, truth in ((ASK_LABELS, True), ("ASK { <urn:x:nothing> ?p ?o }", False)):
        converted = _wrapper(live_server.sparql_url, query, return_format, method).query().convert()
        if return_format == JSON:
            assert converted["boolean"] is truth
        elif return_format == XML:
            assert converted.getElementsByTagName("boolean")[0].firstChild.data == str(truth).lower()
        else:
            assert converted.strip() == str(truth).lower().encode()


GRAPH_FORMATS = {
    # SPARQLWrapper format: (expected registry format, how to read the converted answer)
    TURTLE: ("ttl", "bytes"),
    XML: ("rdfxml", "graph"),
    RDFXML: ("rdfxml", "graph"),
    JSONLD: ("jsonld", "graph"),
    N3: ("nt", "bytes"),  # with Accept: application/n-triples, see below
}


def _graph_answer(url: str, query: str, return_format: str, method: str) -> rdflib.Graph:
    wrapper = _wrapper(url, query, return_format, method)
    if return_format == N3:
        # SPARQLWrapper has no N-Triples format: ask for it by Accept. It still sends
        # format=n3, which must not override the Accept header (the server has no N3).
        wrapper.addCustomHttpHeader("Accept", "application/n-triples")
    result = wrapper.query()
    registry_name, kind = GRAPH_FORMATS[return_format]
    fmt = rdf_format(registry_name)
    assert result.info()["content-type"] == fmt.content_type
    converted = result.convert()
    if kind == "graph":
        assert isinstance(converted, rdflib.Graph)
        return converted
    graph = rdflib.Graph()
    graph.parse(data=converted.decode("utf-8"), format=fmt.rdflib_name)
    return graph


# SPARQLWrapper reads RDF/XML and JSON-LD answers into an rdflib ConjunctiveGraph (deprecated in rdflib 7.6).
SPARQLWRAPPER_RDFLIB_DEPRECATION = "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"


@pytest.mark.filterwarnings(SPARQLWRAPPER_RDFLIB_DEPRECATION)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("return_format", list(GRAPH_FORMATS))
def test_sparqlwrapper_construct(live_server, expected, return_format, method):
    graph = _graph_answer(live_server.sparql_url, CONSTRUCT_LABELS, return_format, method)
    wanted = _rdflib_graph(_union_query(expected, CONSTRUCT_LABELS))
    assert len(wanted) > 0
    assert rdflib.compare.isomorphic(graph, wanted)


@pytest.mark.filterwarnings(SPARQLWRAPPER_RDFLIB_DEPRECATION)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("return_format", list(GRAPH_FORMATS))
def test_sparqlwrapper_describe_is_the_cbd(live_server, expected, described_iri, return_format, method):
    graph = _graph_answer(live_server.sparql_url, f"DESCRIBE <{described_iri}>", return_format, method)
    cbd = _rdflib_graph(concise_bounded_description(expected.store, ox.NamedNode(described_iri)))
    assert len(cbd) > 0
    assert rdflib.compare.isomorphic(graph, cbd)


def test_describe_with_where_is_the_union_of_cbds(live_server, expected):
    query = f"DESCRIBE ?s WHERE {{ ?s <{RDFS_LABEL}> ?label }}"
    headers = {"Accept": "application/n-triples"}
    response = requests.get(live_server.sparql_url, params={"query": query}, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.text, format="nt")
    subjects = {row["s"] for row in _union_query(expected, f"SELECT DISTINCT ?s {{ ?s <{RDFS_LABEL}> ?l }}")}
    wanted = _rdflib_graph(t for s in subjects for t in concise_bounded_description(expected.store, s))
    assert rdflib.compare.isomorphic(graph, wanted)


# rdflib 7.6's own Dataset.parse calls its deprecated default_context.
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_rdflib_reads_construct_answers_in_every_rdf_format(live_server, expected):
    wanted = _rdflib_graph(_union_query(expected, CONSTRUCT_LABELS))
    for fmt in RDF_FORMATS:
        response = requests.post(
            live_server.sparql_url,
            data=CONSTRUCT_LABELS.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": fmt.media_type},
            timeout=TIMEOUT,
        )
        assert response.headers["Content-Type"] == fmt.content_type
        if fmt.carries_graphs:
            dataset = rdflib.Dataset()
            dataset.parse(data=response.content, format=fmt.rdflib_name)
            graph = rdflib.Graph()
            for s, p, o, _ in dataset.quads((None, None, None, None)):
                graph.add((s, p, o))
        else:
            graph = rdflib.Graph().parse(data=response.content, format=fmt.rdflib_name)
        assert rdflib.compare.isomorphic(graph, wanted), fmt.name


# --- content negotiation ------------------------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NEGOTIATION = [
    # (query form, Accept, expected registry format name, or None for 406)
    ("SELECT", None, "json"),
    ("SELECT", "*/*", "json"),
    ("SELECT", "application/sparql-results+xml", "xml"),
    ("SELECT", "application/sparql-results+json;q=0.5, application/sparql-results+xml", "xml"),
    ("SELECT", "text/*", "csv"),
    ("SELECT", "text/tab-separated-values, text/csv;q=0.9", "tsv"),
    ("SELECT", "TEXT/CSV", "csv"),
    ("SELECT", "application/sparql-results+json; charset=utf-8", "json"),
    ("SELECT", "application/json", "json"),
    ("SELECT", "application/xml", "xml"),
    ("SELECT", "text/csv;q=0, text/*", "tsv"),
    ("SELECT", "*/*;q=0.1, text/csv;q=0", "json"),
    ("SELECT", "application/sparql-results+json;q=0, */*", "xml"),
    ("SELECT", BROWSER, "xml"),
    ("SELECT", "application/sparql-results+json,application/json,text/javascript", "json"),
    ("SELECT", "text/html", None),
    ("SELECT", "text/turtle", None),
    ("SELECT", "application/sparql-results+json;q=0", None),
    ("ASK", "text/csv", "csv"),
    ("ASK", "application/sparql-results+xml, */*;q=0.1", "xml"),
    ("ASK", "application/rdf+xml", None),
    ("CONSTRUCT", None, "ttl"),
    ("CONSTRUCT", "*/*", "ttl"),
    ("CONSTRUCT", "text/*", "ttl"),
    ("CONSTRUCT", "application/n-triples", "nt"),
    ("CONSTRUCT", "text/plain", "nt"),
    ("CONSTRUCT", "application/ld+json", "jsonld"),
    ("CONSTRUCT", "application/rdf+xml", "rdfxml"),
    ("CONSTRUCT", "application/n-quads", "nq"),
    ("CONSTRUCT", "application/trig", "trig"),
    ("CONSTRUCT", "text/turtle;q=0, */*", "nt"),
    ("CONSTRUCT", "application/sparql-results+xml,application/rdf+xml,*/*", "rdfxml"),
    ("CONSTRUCT", "text/turtle,*/*;q=0.9", "ttl"),
    ("CONSTRUCT", "application/x-turtle", "ttl"),
    ("CONSTRUCT", "application/sparql-results+json", None),
    ("CONSTRUCT", "*/*;q=0", None),
    ("DESCRIBE", "application/ld+json;q=0.9, application/rdf+xml;q=0.8", "jsonld"),
    ("DESCRIBE", "image/png", None),
]
QUERIES = {
    "SELECT": "SELECT * WHERE { ?s ?p ?o } LIMIT 2",
    "ASK": "ASK {}",
    "CONSTRUCT": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
    "DESCRIBE": "DESCRIBE ?s WHERE { ?s ?p ?o } LIMIT 1",
}


@pytest.mark.parametrize(("form", "accept", "format_name"), NEGOTIATION)
def test_content_negotiation(live_server, form, accept, format_name):
    headers = {"Accept": accept} if accept is not None else {}
    session = requests.Session()
    if accept is None:
        session.headers.pop("Accept")  # requests sends */* unless told otherwise
    params = {"query": QUERIES[form]}
    response = session.get(live_server.sparql_url, params=params, headers=headers, timeout=TIMEOUT)
    assert {"Accept", "Origin"} <= set(response.headers["Vary"].replace(" ", "").split(","))
    if format_name is None:
        assert response.status_code == 406
        listed = RDF_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else None
        if listed:
            assert all(fmt.media_type in response.text for fmt in listed)
        else:
            assert "application/sparql-results+json" in response.text and "text/csv" in response.text
        return
    assert response.status_code == 200, response.text
    fmt = rdf_format(format_name) if form in ("CONSTRUCT", "DESCRIBE") else results_format(format_name)
    assert response.headers["Content-Type"] == fmt.content_type


@pytest.mark.parametrize(
    ("form", "parameters", "accept", "format_name"),
    [
        ("SELECT", {"format": "csv"}, "text/html", "csv"),
        ("SELECT", {"output": "application/sparql-results+xml"}, None, "xml"),
        ("SELECT", {"format": ["tsv", "text/tab-separated-values"]}, "text/tab-separated-values", "tsv"),
        ("SELECT", {"format": "turtle"}, "text/csv", "csv"),  # not a results format: Accept decides
        ("CONSTRUCT", {"format": "json-ld"}, "application/ld+json", "jsonld"),
        ("CONSTRUCT", {"format": "xml"}, "application/rdf+xml", "rdfxml"),
        ("CONSTRUCT", {"format": "n3"}, "application/n-triples", "nt"),  # we have no N3: Accept decides
        ("CONSTRUCT", {"output": "nt"}, "text/turtle", "nt"),
        ("DESCRIBE", {"format": "rdfxml"}, BROWSER, "rdfxml"),
    ],
)
def test_format_parameter_overrides_accept_when_it_fits(live_server, form, parameters, accept, format_name):
    headers = {"Accept": accept} if accept else {}
    params = {"query": QUERIES[form], **parameters}
    response = requests.get(live_server.sparql_url, params=params, headers=headers, timeout=TIMEOUT)
    fmt = rdf_format(format_name) if form in ("CONSTRUCT", "DESCRIBE") else results_format(format_name)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type


# --- protocol edge cases ------------------------------------------------------------------------


def _post(url: str, body: str | bytes, content_type: str | None, **kwargs) -> requests.Response:  # noqa: ANN003
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", {}))
    data = body.encode() if isinstance(body, str) else body
    return requests.post(url, data=data, headers=headers, timeout=TIMEOUT, **kwargs)


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/sparql-query", "ASK {}", 200),
        ("application/sparql-query; charset=UTF-8", "ASK {}", 200),
        ("application/sparql-query;charset=utf-8", "ASK {}", 200),
        ("application/x-www-form-urlencoded", "query=ASK%20%7B%7D", 200),
        ("application/x-www-form-urlencoded; charset=UTF-8", "query=ASK%20%7B%7D", 200),
        ("application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16"), 415),
        ("application/sparql-query", b"ASK { FILTER(\xff) }", 400),
        ("text/plain", "ASK {}", 415),
        (None, "query=ASK%20%7B%7D", 415),
    ],
)
def test_post_media_types_and_charsets(live_server, content_type, body, status):
    response = _post(live_server.sparql_url, body, content_type)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == {"head": {}, "boolean": True}


def test_unknown_parameters_are_ignored(live_server):
    params = {"query": "ASK {}", "format": "json", "output": "json", "results": "json", "x": "y"}
    for response in (
        requests.get(live_server.sparql_url, params=params, timeout=TIMEOUT),
        requests.post(live_server.sparql_url, data=params, timeout=TIMEOUT),
    ):
        assert response.status_code == 200
        assert response.json()["boolean"] is True


def test_cors_preflight_and_exposed_headers(live_server):
    preflight = requests.options(
        live_server.sparql_url,
        headers={
            "Origin": "https://yasgui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, accept",
        },
        timeout=TIMEOUT,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    methods = {method.strip() for method in preflight.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST"} <= methods
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    origin = {"Origin": "https://yasgui.example"}
    response = requests.get(live_server.sparql_url, params={"query": "ASK {}"}, headers=origin, timeout=5)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Govkg-Truncated" in response.headers["Access-Control-Expose-Headers"]


def test_vary_and_cors_on_errors_too(live_server):
    for response in (
        requests.get(live_server.sparql_url, params={"query": "ASK {"}, timeout=TIMEOUT),
        requests.get(live_server.sparql_url, params={"query": "ASK {}"}, headers={"Accept": "image/png"}),
    ):
        assert response.status_code in (400, 406)
        assert {"Accept", "Origin"} <= set(response.headers["Vary"].replace(" ", "").split(","))
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_gzip_when_accepted_for_every_format(live_server):
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    for fmt in RDF_FORMATS:
        response = requests.get(
            live_server.sparql_url,
            params={"query": query},
            headers={"Accept": fmt.media_type, "Accept-Encoding": "gzip"},
            stream=True,
            timeout=TIMEOUT,
        )
        raw = response.raw.read(decode_content=False)
        assert response.headers.get("Content-Encoding") == "gzip", fmt.name
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(raw)  # a real gzip body
    plain = requests.get(
        live_server.sparql_url,
        params={"query": query},
        headers={"Accept-Encoding": "gzip;q=0, identity"},
        timeout=TIMEOUT,
    )
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_query_text_over_the_limit_is_413(live_server):
    padding = "#" + "x" * 70000 + "\n"
    response = _post(live_server.sparql_url, padding + "ASK {}", "application/sparql-query")
    assert response.status_code == 413
    assert "65536" in response.text
    huge_body = "query=" + "x" * 500_000
    assert _post(live_server.sparql_url, huge_body, "application/x-www-form-urlencoded").status_code == 413


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "params": [("query", "ASK {}"), ("query", "SELECT * {}")]},
        {"method": "GET", "params": {"query": "SELECT * {} SELECT * {}"}},
        {"method": "GET", "params": {"query": "SELECT * {} ; INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"method": "POST", "data": {"query": "ASK {}", "update": "CLEAR ALL"}},
        {
            "method": "POST",
            "params": {"query": "ASK {}"},
            "data": b"ASK {}",
            "headers": {"Content-Type": "application/sparql-query"},
        },
    ],
    ids=["two-query-parameters", "two-queries-in-text", "query-then-update", "query-and-update", "query-x2"],
)
def test_two_operations_are_400(live_server, request_kwargs):
    response = requests.request(url=live_server.sparql_url, timeout=TIMEOUT, **request_kwargs)
    assert response.status_code == 400, response.text


def test_malformed_query_reports_the_parser_position(live_server):
    query = "SELECT ?x WHERE {\n  ?x ?y \n}"
    response = requests.get(live_server.sparql_url, params={"query": query}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "error at 3:2" in response.text and "line 3, column 2" in response.text
    as_json = requests.get(
        live_server.sparql_url, params={"query": "ASK {"}, headers={"Accept": "application/json"}, timeout=5
    )
    assert as_json.status_code == 400 and "1:6" in as_json.json()["error"]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "params": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"method": "POST", "data": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
        {"method": "GET", "params": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"method": "POST", "data": {"query": "PREFIX x: <urn:x:> LOAD <file:///etc/passwd>"}},
    ],
    ids=["update-get", "update-form", "update-direct", "update-as-query", "load-as-query"],
)
def test_updates_are_refused_as_read_only(live_server, request_kwargs):
    response = requests.request(url=live_server.sparql_url, timeout=TIMEOUT, **request_kwargs)
    assert response.status_code == 403
    assert "read-only" in response.text


def test_other_methods_are_405(live_server):
    response = requests.put(live_server.sparql_url, params={"query": "ASK {}"}, timeout=TIMEOUT)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


# --- dataset --------------------------------------------------------------------------------------


def _count(url: str, query: str, **params) -> int:  # noqa: ANN003
    response = requests.get(url, params={"query": query, **params}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_rdf_merge_of_the_named_graphs(live_server):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    distinct_in_graphs = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }"
    in_graphs = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    # A set: each triple once, however many graphs hold it (the data repeats some).
    assert _count(live_server.sparql_url, count) == _count(live_server.sparql_url, distinct_in_graphs) > 0
    assert _count(live_server.sparql_url, in_graphs) >= _count(live_server.sparql_url, count)


def test_default_graph_uri_and_named_graph_uri(live_server, expected):
    url = live_server.sparql_url
    ontology, facts = expected.graph_iri("ontology"), expected.graph_iri("facts")
    in_ontology = len(list(expected.store.quads_for_pattern(None, None, None, ontology)))
    in_facts = len(list(expected.store.quads_for_pattern(None, None, None, facts)))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert _count(url, count, **{"default-graph-uri": ontology.value}) == in_ontology > 0
    two_graphs = [("default-graph-uri", ontology.value), ("default-graph-uri", facts.value)]
    both = requests.get(url, params=[("query", count), *two_graphs], timeout=TIMEOUT).json()
    assert int(both["results"]["bindings"][0]["n"]["value"]) == in_ontology + in_facts
    in_graphs = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _count(url, in_graphs, **{"named-graph-uri": facts.value}) == in_facts
    # Only named-graph-uri: the default graph is empty; only default-graph-uri: no named graphs.
    assert _count(url, count, **{"named-graph-uri": facts.value}) == 0
    assert _count(url, in_graphs, **{"default-graph-uri": facts.value}) == 0
    # A graph that is not in the store is empty, never fetched.
    assert _count(url, count, **{"default-graph-uri": "http://example.org/no-such-graph"}) == 0
    # The protocol's dataset wins over the query's FROM.
    from_facts = f"SELECT (COUNT(*) AS ?n) FROM <{facts.value}> WHERE {{ ?s ?p ?o }}"
    assert _count(url, from_facts) == in_facts
    assert _count(url, from_facts, **{"default-graph-uri": ontology.value}) == in_ontology
    bad = requests.get(url, params={"query": count, "default-graph-uri": "not an iri"}, timeout=TIMEOUT)
    assert bad.status_code == 400


# --- service description ----------------------------------------------------------------------------

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


def test_service_description_for_rdf_clients(live_server, expected):
    response = requests.get(live_server.sparql_url, headers={"Accept": "text/turtle"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == rdf_format("ttl").content_type
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    service = graph.value(predicate=SD.endpoint, object=rdflib.URIRef(live_server.sparql_url), any=False)
    assert service is not None
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.feature, SD.BasicFederatedQuery) not in graph  # the allowlist is empty
    result_formats = set(graph.objects(service, SD.resultFormat))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in result_formats
    assert rdflib.URIRef("http://www.w3.org/ns/formats/JSON-LD") in result_formats
    assert len(result_formats) == 10
    names = {str(name) for name in graph.objects(None, SD.name)}
    assert {g.value for g in expected.store.named_graphs()} <= names
    as_jsonld = requests.get(live_server.sparql_url, headers={"Accept": "application/ld+json"}, timeout=5)
    assert rdflib.compare.isomorphic(rdflib.Graph().parse(data=as_jsonld.text, format="json-ld"), graph)


def test_service_description_redirects_browsers_to_the_query_page(live_server):
    headers = {"Accept": BROWSER}
    response = requests.get(live_server.sparql_url, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", live_server.url)
    refused = requests.get(live_server.sparql_url, headers={"Accept": "image/png"}, timeout=TIMEOUT)
    assert refused.status_code == 406


# --- answer_query, for the other blueprints ----------------------------------------------------------


def test_answer_query_answers_like_the_endpoint(app):
    with app.test_request_context("/queries/example?format=csv", headers={"Accept": "application/json"}):
        response = answer_query("SELECT ?x WHERE { VALUES ?x { 1 2 } }")
    assert isinstance(response, Response)
    assert response.headers["Content-Type"] == results_format("csv").content_type
    assert response.get_data(as_text=True).split() == ["x", "1", "2"]
    assert response.headers["X-Govkg-Truncated"] == "false"
    assert "Accept" in response.headers["Vary"]
    with app.test_request_context("/queries/example", headers={"Accept": "application/sparql-results+json"}):
        body = json.loads(answer_query("ASK {}").get_data())
    assert body == {"head": {}, "boolean": True}


def test_select_json_is_standard_sparql_json(live_server):
    query = (
        'SELECT ?i ?l ?t ?b { VALUES (?i ?l ?t) { (<urn:x:i> "a"@en "1"^^<urn:x:dt>) } BIND(BNODE() AS ?b) }'
    )
    response = requests.get(live_server.sparql_url, params={"query": query}, timeout=TIMEOUT)
    document = response.json()
    assert document["head"]["vars"] == ["i", "l", "t", "b"]
    (row,) = document["results"]["bindings"]
    assert row["i"] == {"type": "uri", "value": "urn:x:i"}
    assert row["l"] == {"type": "literal", "value": "a", "xml:lang": "en"}
    assert row["t"] == {"type": "literal", "value": "1", "datatype": "urn:x:dt"}
    assert row["b"]["type"] == "bnode"
    xml_answer = requests.get(
        live_server.sparql_url,
        params={"query": query},
        headers={"Accept": "application/sparql-results+xml"},
        timeout=TIMEOUT,
    )
    document = xml.dom.minidom.parseString(xml_answer.content)
    assert document.getElementsByTagName("literal")[0].getAttribute("xml:lang") == "en"


def test_a_function_the_engine_lacks_is_an_evaluation_error(live_server):
    """The query is valid SPARQL: the call is an error, so BIND leaves its variable unbound, FILTER fails."""
    query = "SELECT ?x ?y WHERE { BIND(1 AS ?y) BIND(<http://example.org/f>(?y) AS ?x) }"
    assert _rows(requests.get(live_server.sparql_url, params={"query": query}, timeout=TIMEOUT)) == [
        {"y": {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}
    ]
    query = "ASK { FILTER(<http://example.org/f>(1) || <http://example.org/g>()) }"
    response = requests.get(live_server.sparql_url, params={"query": query}, timeout=TIMEOUT)
    assert response.json()["boolean"] is False


def test_head_answers_like_get_without_a_body(live_server):
    params = {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}
    get = requests.get(
        live_server.sparql_url, params=params, headers={"Accept-Encoding": "identity"}, timeout=5
    )
    head = requests.head(
        live_server.sparql_url, params=params, headers={"Accept-Encoding": "identity"}, timeout=5
    )
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.content == b""


def test_conditional_get_is_answered_before_evaluation(live_server):
    params = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    first = requests.get(live_server.sparql_url, params=params, timeout=TIMEOUT)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Last-Modified"]
    again = requests.get(
        live_server.sparql_url, params=params, headers={"If-None-Match": etag}, timeout=TIMEOUT
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag and "Accept" in again.headers["Vary"]
    as_csv = requests.get(
        live_server.sparql_url,
        params=params,
        headers={"If-None-Match": etag, "Accept": "text/csv"},
        timeout=5,
    )
    assert as_csv.status_code == 200 and as_csv.headers["ETag"] != etag
    other_query = {"query": "SELECT (COUNT(*) AS ?m) WHERE { ?s ?p ?o }"}
    assert (
        requests.get(live_server.sparql_url, params=other_query, headers={"If-None-Match": etag}).status_code
        == 200
    )
    volatile = requests.get(
        live_server.sparql_url, params={"query": "SELECT (RAND() AS ?r) {}"}, timeout=TIMEOUT
    )
    assert "ETag" not in volatile.headers
    posted = requests.post(
        live_server.sparql_url, data=params, headers={"If-None-Match": etag}, timeout=TIMEOUT
    )
    assert posted.status_code == 200 and "ETag" not in posted.headers
