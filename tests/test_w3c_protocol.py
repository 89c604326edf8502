"""The W3C SPARQL 1.1 Protocol and Service Description tests, sent over HTTP to /sparql.

Read from ``tests/w3c/sparql/sparql11/protocol/manifest.ttl`` (vendored, see
tests/w3c/README.md). Every query test and every ``bad_*`` test applies to a read-only endpoint and
runs as written: each request of the test, in order, with its method, path (``/sparql/``
mapped to our ``/sparql``), headers and body in its declared encoding; the status must
be in the expected class and the body in the expected form (boolean, tabular, RDF) and
value. The dataset tests' graphs (``data1.nt`` … under their ``kasei.us`` names) are
served with ``--data`` as named graphs, never fetched.

Excluded, with the reason:

* **The update tests** (:data:`UPDATE_TESTS`) expect an update to succeed; this endpoint
  is read-only and refuses every update with 403, which is what they check instead.
  (The ``bad_update_*`` tests expect a 4xx and run as written.)
* **The Graph Store Protocol suites** (``graph-store-protocol/``, ``http-rdf-update/``):
  this endpoint does not implement the Graph Store HTTP Protocol (dumps serve the data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import pytest
import requests
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection

from tests.conftest import PROJECT_ROOT, W3C_SUITE_DIR, LiveServer, start_server, stop_server

SUITE = W3C_SUITE_DIR / "sparql11"
PROTOCOL_MANIFEST = SUITE / "protocol" / "manifest.ttl"
SD_MANIFEST = SUITE / "service-description" / "manifest.ttl"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
STATUS_CLASSES = "http://www.w3.org/2011/http-statusCodes#StatusCode"

UPDATE_TESTS = {
    "update_dataset_default_graph",
    "update_dataset_default_graphs",
    "update_dataset_named_graphs",
    "update_dataset_full",
    "update_post_form",
    "update_post_direct",
    "update_base_uri",
}
READ_ONLY = "read-only endpoint: SPARQL Update is refused with 403 (govkg.web.sparql_protocol)"


@dataclass
class HttpRequest:
    """One ``ht:Request`` of a protocol test and its expected response."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # "2xx", "3xx", "4xx"
    result_format: str | None = None  # boolean, tabular, RDF
    boolean: bool | None = None


@dataclass
class ProtocolTest:
    """A test of the manifest: its name, requests and the graphs it needs."""

    name: str
    title: str
    requests: list[HttpRequest]
    graphs: dict[str, str] = field(default_factory=dict)  # graph IRI -> file path


def _list(graph: Graph, head) -> list:  # noqa: ANN001
    return list(Collection(graph, head)) if head is not None else []


def load_protocol_tests() -> list[ProtocolTest]:
    """The manifest's tests, in manifest order."""
    graph = Graph().parse(PROTOCOL_MANIFEST, format="turtle")
    manifest = graph.value(predicate=RDF.type, object=MF.Manifest)
    tests = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        http_requests = []
        for node in _list(graph, graph.value(action, HT.requests)):
            response = graph.value(node, HT.resp)
            headers = {
                str(graph.value(h, HT.fieldName)): str(graph.value(h, HT.fieldValue))
                for h in _list(graph, graph.value(node, HT.headers))
            }
            body_node = graph.value(node, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding)
            boolean = graph.value(response, MF.expectedBoolean)
            result_format = graph.value(response, MF.expectedFormat)
            http_requests.append(
                HttpRequest(
                    method=str(graph.value(node, HT.methodName)),
                    path=str(graph.value(node, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses={
                        str(s).removeprefix(STATUS_CLASSES)
                        for s in graph.objects(response, MF.expectedStatus)
                    },
                    result_format=str(result_format) if result_format is not None else None,
                    boolean=boolean.toPython() if boolean is not None else None,
                )
            )
        graphs = {
            str(graph.value(data, RDFS.label)): str(graph.value(data, UT.graph)).removeprefix("file://")
            for data in graph.objects(entry, UT.graphData)
        }
        name = str(entry).rsplit("#", 1)[1]
        tests.append(ProtocolTest(name, str(graph.value(entry, MF.name)), http_requests, graphs))
    return tests


TESTS = load_protocol_tests() if PROTOCOL_MANIFEST.is_file() else []
APPLICABLE = [test for test in TESTS if test.name not in UPDATE_TESTS]
REFUSED = [test for test in TESTS if test.name in UPDATE_TESTS]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Our server, holding the test graphs as named graphs (``--data IRI=FILE``)."""
    graphs = {iri: path for test in TESTS for iri, path in test.graphs.items()}
    data = " ".join(f"{iri}={os.path.relpath(path, PROJECT_ROOT)}" for iri, path in sorted(graphs.items()))
    server = start_server(tmp_path_factory.mktemp("w3c-protocol"), "--data", data)
    yield server
    stop_server(server)


def _send(server: LiveServer, http_request: HttpRequest) -> requests.Response:
    path = http_request.path
    assert path.startswith("/sparql/")
    url = server.sparql_url + path.removeprefix("/sparql/")
    return requests.request(
        http_request.method,
        url,
        data=http_request.body,
        headers=http_request.headers,
        allow_redirects=False,
        timeout=10,
    )


def _check_body(response: requests.Response, http_request: HttpRequest) -> None:
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    results = {fmt.media_type: fmt for fmt in RESULTS_FORMATS}
    rdf = {fmt.media_type: fmt for fmt in RDF_FORMATS}
    if http_request.result_format == "boolean":
        assert media_type in ("application/sparql-results+json", "application/sparql-results+xml")
        answer = ox.parse_query_results(response.content, results[media_type].oxigraph)
        assert isinstance(answer, ox.QueryBoolean)
        if http_request.boolean is not None:
            assert bool(answer) is http_request.boolean
    elif http_request.result_format == "tabular":
        assert media_type in results
        if media_type == "text/csv":
            assert response.text.splitlines()[0] == "value"
        else:
            solutions = ox.parse_query_results(response.content, results[media_type].oxigraph)
            assert [v.value for v in solutions.variables] == ["value"]
            assert [s["value"].value for s in solutions] == ["1"]
    elif http_request.result_format == "RDF":
        assert media_type in rdf
        list(ox.parse(response.content, format=rdf[media_type].oxigraph))


@pytest.mark.parametrize("test", APPLICABLE, ids=lambda test: test.name)
def test_protocol(endpoint, test):
    for http_request in test.requests:
        response = _send(endpoint, http_request)
        status_class = f"{response.status_code // 100}xx"
        assert status_class in http_request.statuses, f"{test.title}: {response.status_code} {response.text}"
        if status_class == "2xx":
            _check_body(response, http_request)


@pytest.mark.parametrize("test", REFUSED, ids=lambda test: test.name)
def test_update_tests_are_refused_read_only(endpoint, test):
    """Excluded from conformance (see READ_ONLY): their update request must get exactly that 403."""
    response = _send(endpoint, test.requests[0])
    assert response.status_code == 403, response.text
    assert "read-only" in response.text


def test_every_manifest_entry_is_run_or_refused():
    assert {t.name for t in APPLICABLE} | {t.name for t in REFUSED} == {t.name for t in TESTS}
    assert len(TESTS) == 34 and len(REFUSED) == len(UPDATE_TESTS)


# --- the service-description suite: its three tests, as its manifest names them ----------------------


@pytest.fixture(scope="module")
def description(endpoint) -> Graph:
    response = requests.get(endpoint.sparql_url, headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def test_sd_returns_rdf(endpoint):
    """returns-rdf: GET on the endpoint returns RDF (for every RDF media type a client asks for)."""
    for fmt in RDF_FORMATS:
        response = requests.get(endpoint.sparql_url, headers={"Accept": fmt.media_type}, timeout=10)
        assert response.headers["Content-Type"] == fmt.content_type
        assert list(ox.parse(response.content, format=fmt.oxigraph))


def test_sd_has_endpoint_triple(endpoint, description):
    """has-endpoint-triple: an sd:Service has sd:endpoint <the URL that was dereferenced>."""
    services = set(description.subjects(SD.endpoint, URIRef(endpoint.sparql_url)))
    assert services and all((s, RDF.type, SD.Service) in description for s in services)


def test_sd_conforms_to_schema(description):
    """conforms-to-schema: the description uses the SD vocabulary with its domains and ranges."""
    (service,) = set(description.subjects(RDF.type, SD.Service))
    assert set(description.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}
    for feature in description.objects(service, SD.feature):
        assert feature in (
            SD.UnionDefaultGraph,
            SD.BasicFederatedQuery,
            SD.DereferencesURIs,
            SD.RequiresDataset,
        )
    (dataset,) = description.objects(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in description
    (default_graph,) = description.objects(dataset, SD.defaultGraph)
    assert (default_graph, RDF.type, SD.Graph) in description
    named = list(description.objects(dataset, SD.namedGraph))
    assert named
    for node in named:
        assert (node, RDF.type, SD.NamedGraph) in description
        assert isinstance(description.value(node, SD.name), URIRef)
    for result_format in description.objects(service, SD.resultFormat):
        assert str(result_format).startswith("http://www.w3.org/ns/formats/")


def test_sd_manifest_lists_the_three_tests_checked_here():
    graph = Graph().parse(SD_MANIFEST, format="turtle")
    manifest = graph.value(predicate=RDF.type, object=MF.Manifest)
    names = {str(entry).rsplit("#", 1)[1] for entry in _list(graph, graph.value(manifest, MF.entries))}
    assert names == {"returns-rdf", "has-endpoint-triple", "conforms-to-schema"}


def test_dataset_tests_use_served_graphs_not_fetched_ones(endpoint):
    """The graphs the dataset tests name are served locally (so the tests above are meaningful)."""
    response = requests.get(
        endpoint.sparql_url,
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        timeout=10,
    )
    served = {row["g"]["value"] for row in json.loads(response.text)["results"]["bindings"]}
    assert {f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)} <= served
