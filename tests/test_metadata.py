"""Dataset metadata over real HTTP: the DCAT-AP 3.0.1 catalogue and the VoID description."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import rdflib
import requests
from govkg.rdf import routes
from govkg.rdf.formats import RDF_FORMATS
from govkg.store.dumps import DUMP_FILES
from rdflib import RDF, XSD, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from tests import dcat_ap
from tests.conftest import PROJECT_ROOT, load_store, start_server, stop_server

SH = Namespace("http://www.w3.org/ns/shacl#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def catalogue(live_server) -> rdflib.Graph:  # noqa: ANN001
    response = requests.get(live_server.url + "catalog", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    return rdflib.Graph().parse(data=response.content, format="turtle")


@pytest.fixture(scope="module")
def void(live_server) -> rdflib.Graph:  # noqa: ANN001
    return rdflib.Graph().parse(live_server.url + ".well-known/void")


@pytest.fixture(scope="module")
def dcat_ap_shapes() -> rdflib.Graph:
    """The official DCAT-AP 3.0.1 shapes (see tests/dcat_ap.py for the references #448 drops)."""
    return dcat_ap.dcat_ap_shapes()


def _sparql_count(live_server, query: str) -> int:  # noqa: ANN001
    response = requests.post(
        live_server.sparql_url,
        data=query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _sparql_rows(live_server, query: str) -> list[dict[str, str]]:  # noqa: ANN001
    response = requests.post(
        live_server.sparql_url,
        data=query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    return [{name: value["value"] for name, value in row.items()} for row in rows]


# --- DCAT-AP ----------------------------------------------------------------------------------


def test_the_catalogue_conforms_to_dcat_ap_3_0_1(catalogue, dcat_ap_shapes):
    assert dcat_ap.violations(catalogue, dcat_ap_shapes) == []


@pytest.mark.parametrize(
    ("remove", "expected"),
    [
        ((None, DCT.title, None), "title"),  # a mandatory property (the constraints file)
        ((URIRef("https://creativecommons.org/licenses/by/4.0/"), RDF.type, None), "license"),  # a range
    ],
)
def test_the_shapes_do_catch_a_broken_catalogue(catalogue, dcat_ap_shapes, remove, expected):
    broken = rdflib.Graph()
    for triple in catalogue:
        broken.add(triple)
    broken.remove(remove)
    violations = dcat_ap.violations(broken, dcat_ap_shapes)
    assert any(expected in violation for violation in violations)


def test_every_dump_is_a_distribution(live_server, catalogue):
    dataset = URIRef(live_server.url + "id/dataset/zhaoqing-rule-of-law")
    distributions = set(catalogue.objects(dataset, DCAT.distribution))
    assert len(distributions) == len(DUMP_FILES)
    by_url = {str(catalogue.value(d, DCAT.downloadURL)): d for d in distributions}
    iana = "https://www.iana.org/assignments/media-types/"
    for dump in DUMP_FILES:
        distribution = by_url[f"{live_server.url}dumps/{dump.name}"]
        assert catalogue.value(distribution, DCAT.accessURL) is not None
        assert catalogue.value(distribution, DCAT.mediaType) == URIRef(iana + dump.fmt.media_type)
        compressed = catalogue.value(distribution, DCAT.compressFormat)
        assert compressed == (URIRef(iana + "application/gzip") if dump.compressed else None)
        assert str(catalogue.value(distribution, DCT["format"])).startswith(
            "http://publications.europa.eu/resource/authority/file-type/"
        )
        size = catalogue.value(distribution, DCAT.byteSize)
        assert size.datatype == XSD.nonNegativeInteger
        head = requests.head(f"{live_server.url}dumps/{dump.name}", headers={"Accept-Encoding": "identity"})
        assert int(head.headers["Content-Length"]) == int(size)
        assert catalogue.value(distribution, DCT.license) == URIRef(
            "https://creativecommons.org/licenses/by/4.0/"
        )


def test_the_catalogue_describes_service_place_themes_languages_and_dates(live_server, catalogue):
    base = live_server.url
    dataset = URIRef(base + "id/dataset/zhaoqing-rule-of-law")
    service = catalogue.value(predicate=DCAT.servesDataset, object=dataset)
    assert catalogue.value(service, DCAT.endpointURL) == URIRef(base + "sparql")
    assert catalogue.value(service, DCAT.endpointDescription) is not None
    assert set(catalogue.objects(dataset, DCT.spatial)) == {
        URIRef(base + "id/place/zhaoqing"),
        URIRef("https://sws.geonames.org/1784853/"),
    }
    eu = "http://publications.europa.eu/resource/authority/"
    assert URIRef(eu + "data-theme/GOVE") in set(catalogue.objects(dataset, DCAT.theme))
    assert set(catalogue.objects(dataset, DCT.language)) == {
        URIRef(eu + "language/ZHO"),
        URIRef(eu + "language/ENG"),
    }
    assert {title.language for title in catalogue.objects(dataset, DCT.title)} == {"zh", "en"}
    modified = catalogue.value(dataset, DCT.modified)
    assert modified.datatype == XSD.dateTime
    last_modified = requests.head(base + "dumps/govkg.nt").headers["Last-Modified"]
    from email.utils import parsedate_to_datetime

    assert modified.toPython() == parsedate_to_datetime(last_modified)
    issued = catalogue.value(dataset, DCT.issued)
    assert issued.datatype == XSD.date
    assert issued.toPython() <= modified.toPython().date()
    assert catalogue.value(URIRef(base + "catalog"), DCT.issued) == issued
    record = catalogue.value(URIRef(base + "catalog"), DCAT.record)
    assert catalogue.value(record, rdflib.FOAF.primaryTopic) == dataset
    assert catalogue.value(catalogue.value(dataset, DCT.publisher), rdflib.FOAF.name) is not None


def _rdf11(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph with ``"x"^^xsd:string`` written as ``"x"``: one term in RDF 1.1, two in rdflib."""
    plain = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        plain.add((s, p, o))
    return plain


@pytest.mark.parametrize("extension", ["rdf", "jsonld", "nt"])
def test_the_catalogue_in_every_format_is_the_same_graph(live_server, catalogue, extension):
    graph = rdflib.Graph().parse(f"{live_server.url}catalog.{extension}")
    assert isomorphic(_rdf11(graph), _rdf11(catalogue))


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("*/*", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/ld+json", "application/ld+json"),
        (BROWSER_ACCEPT, "text/html"),
    ],
)
@pytest.mark.parametrize("path", ["catalog", ".well-known/void"])
def test_metadata_documents_negotiate(live_server, path, accept, media_type):
    response = requests.get(live_server.url + path, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"].startswith("./")
    if media_type == "text/html":
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert (
        requests.get(live_server.url + path, headers={"Accept": "image/png"}, timeout=30).status_code == 406
    )


# --- VoID ---------------------------------------------------------------------------------------

DATASET_TRIPLES = """
SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{base}graph/metadata>) }}
"""


def _count_over_dataset(live_server, projection: str, where: str = "") -> int:  # noqa: ANN001
    inner = DATASET_TRIPLES.format(base=live_server.url)
    return _sparql_count(live_server, f"SELECT ({projection} AS ?n) WHERE {{ {{ {inner} }} {where} }}")


def test_void_counts_equal_sparql_counts(live_server, void):
    dataset = URIRef(live_server.url + "id/dataset/zhaoqing-rule-of-law")
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    expected = {
        VOID.triples: _count_over_dataset(live_server, "COUNT(*)"),
        VOID.distinctSubjects: _count_over_dataset(live_server, "COUNT(DISTINCT ?s)"),
        VOID.distinctObjects: _count_over_dataset(live_server, "COUNT(DISTINCT ?o)"),
        VOID.properties: _count_over_dataset(live_server, "COUNT(DISTINCT ?p)"),
        VOID.classes: _count_over_dataset(live_server, "COUNT(DISTINCT ?o)", f"FILTER (?p = {rdf_type})"),
        VOID.entities: _count_over_dataset(
            live_server,
            "COUNT(DISTINCT ?s)",
            f'FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{live_server.url}"))',
        ),
    }
    assert expected[VOID.triples] > 1000
    for prop, count in expected.items():
        assert int(void.value(dataset, prop)) == count, prop


def test_void_partitions_and_subsets_equal_sparql_counts(live_server, void):
    dataset = URIRef(live_server.url + "id/dataset/zhaoqing-rule-of-law")
    inner = DATASET_TRIPLES.format(base=live_server.url)
    rows = _sparql_rows(
        live_server,
        f"SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {{ {inner} }} "
        "FILTER (?p = <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> && isIRI(?o)) BIND (?o AS ?class) } "
        "GROUP BY ?class",
    )
    classes = {
        str(void.value(partition, VOID["class"])): int(void.value(partition, VOID.entities))
        for partition in void.objects(dataset, VOID.classPartition)
    }
    assert classes == {row["class"]: int(row["n"]) for row in rows}
    rows = _sparql_rows(live_server, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {{ {inner} }} }} GROUP BY ?p")
    properties = {
        str(void.value(partition, VOID.property)): int(void.value(partition, VOID.triples))
        for partition in void.objects(dataset, VOID.propertyPartition)
    }
    assert properties == {row["p"]: int(row["n"]) for row in rows}
    for graph in ("ontology", "facts", "links"):
        subset = URIRef(f"{live_server.url}graph/{graph}")
        assert subset in set(void.objects(dataset, VOID.subset))
        count = _sparql_count(
            live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{subset}> {{ ?s ?p ?o }} }}"
        )
        assert int(void.value(subset, VOID.triples)) == count


def test_every_declared_linkset_is_a_counted_subset(live_server, void):
    dataset = URIRef(live_server.url + "id/dataset/zhaoqing-rule-of-law")
    links = f"{live_server.url}graph/links"
    declared = _sparql_rows(
        live_server,
        f"SELECT DISTINCT ?linkset WHERE {{ GRAPH <{links}> {{ ?linkset a <{VOID.Linkset}> }} }}",
    )
    assert declared, "the links graph declares no void:Linkset"
    for row in declared:
        linkset = URIRef(row["linkset"])
        assert linkset in set(void.objects(dataset, VOID.subset))
        predicates = " ".join(
            f"<{r['p']}>"
            for r in _sparql_rows(live_server, f"SELECT ?p WHERE {{ <{linkset}> <{VOID.linkPredicate}> ?p }}")
        )
        spaces = [
            r["space"]
            for r in _sparql_rows(
                live_server,
                f"SELECT ?space WHERE {{ <{linkset}> <{VOID.objectsTarget}>|<{VOID.target}> ?t . "
                f"?t <{VOID.uriSpace}> ?space }}",
            )
        ]
        space_filter = " || ".join(f'STRSTARTS(STR(?o), "{space}")' for space in spaces) or "true"
        count = _sparql_count(
            live_server,
            f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
            f"GRAPH <{links}> {{ ?s ?p ?o }} VALUES ?p {{ {predicates} }} "
            f"FILTER (isIRI(?o) && ({space_filter})) }} }}",
        )
        assert int(void.value(linkset, VOID.triples)) == count, linkset
        # A count the data declares itself must agree with it too.
        declared_counts = _sparql_rows(
            live_server, f"SELECT ?n WHERE {{ GRAPH <{links}> {{ <{linkset}> <{VOID.triples}> ?n }} }}"
        )
        assert all(int(row["n"]) == count for row in declared_counts), linkset


def test_void_names_vocabularies_dumps_endpoint_and_examples(live_server, void):
    base = live_server.url
    dataset = URIRef(base + "id/dataset/zhaoqing-rule-of-law")
    inner = DATASET_TRIPLES.format(base=base)
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    terms = [row["p"] for row in _sparql_rows(live_server, f"SELECT DISTINCT ?p WHERE {{ {{ {inner} }} }}")]
    terms += [
        row["o"]
        for row in _sparql_rows(
            live_server,
            f"SELECT DISTINCT ?o WHERE {{ {{ {inner} }} FILTER (?p = <{rdf_type}> && isIRI(?o)) }}",
        )
    ]
    namespaces = {term[: max(term.rfind("#"), term.rfind("/")) + 1] for term in terms}
    assert {str(v) for v in void.objects(dataset, VOID.vocabulary)} == namespaces
    assert {str(d) for d in void.objects(dataset, VOID.dataDump)} == {
        f"{base}dumps/{d.name}" for d in DUMP_FILES
    }
    for dump in void.objects(dataset, VOID.dataDump):
        assert requests.head(str(dump), timeout=30).status_code == 200
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(base + "sparql")
    assert str(void.value(dataset, VOID.uriSpace)) == base
    assert void.value(dataset, DCT.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert {title.language for title in void.objects(dataset, DCT.title)} == {"zh", "en"}
    features = {str(f) for f in void.objects(dataset, VOID.feature)}
    assert len(features) == len(RDF_FORMATS)
    examples = list(void.objects(dataset, VOID.exampleResource))
    assert URIRef(base + "id/place/zhaoqing") in examples
    for example in examples:
        page = requests.get(str(example), headers={"Accept": "text/turtle"}, timeout=30)
        assert page.status_code == 200 and len(rdflib.Graph().parse(data=page.content, format="turtle")) > 0


# --- the route table: one spelling for a served route and the URL the metadata names ----------


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        (routes.SPARQL_ENDPOINT, "sparql_protocol.sparql"),
        (routes.VOID_DOCUMENT, "metadata.void_document"),
        (routes.CATALOG, "metadata.catalog"),
        (routes.DUMPS, "dumps.index"),
        (routes.DUMPS + "<name>", "dumps.download"),
    ],
)
def test_the_web_layer_registers_its_rules_from_the_route_table(app, path, endpoint):
    assert [r.rule for r in app.url_map.iter_rules(endpoint) if "<extension>" not in r.rule] == [
        routes.rule(path)
    ]


MOVED_ROUTES = r"""
import json, sys
from govkg.rdf import routes
routes.SPARQL_ENDPOINT, routes.VOID_DOCUMENT, routes.CATALOG, routes.DUMPS = (
    "query-service", ".well-known/void-description", "katalog", "downloads/"
)
from govkg import create_app
client = create_app({"base_iri": "http://127.0.0.1:5000/"}).test_client()
paths = ["/query-service?query=ASK%7B%7D", "/.well-known/void-description", "/katalog", "/downloads/",
         "/downloads/govkg.nt", "/sparql?query=ASK%7B%7D", "/.well-known/void", "/catalog", "/dumps/"]
statuses = {path: client.get(path, headers={"Accept": "*/*"}).status_code for path in paths}
documents = {path: client.get(path, headers={"Accept": "application/n-triples"}).text
             for path in ("/.well-known/void-description", "/katalog")}
json.dump({"statuses": statuses, "documents": documents}, sys.stdout)
"""


def test_a_path_changed_in_the_route_table_moves_the_route_and_the_metadata_urls():
    """The table is the one spelling: change its paths (in a fresh interpreter, before the web
    layer reads them) and the server answers at the new paths only, and VoID and DCAT name them."""
    completed = subprocess.run(
        [sys.executable, "-c", MOVED_ROUTES], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    answer = json.loads(completed.stdout)
    assert answer["statuses"] == {
        "/query-service?query=ASK%7B%7D": 200,
        "/.well-known/void-description": 200,
        "/katalog": 200,
        "/downloads/": 200,
        "/downloads/govkg.nt": 200,
        "/sparql?query=ASK%7B%7D": 404,
        "/.well-known/void": 404,
        "/catalog": 404,
        "/dumps/": 404,
    }
    base = "http://127.0.0.1:5000/"
    void = rdflib.Graph().parse(data=answer["documents"]["/.well-known/void-description"], format="nt")
    catalog = rdflib.Graph().parse(data=answer["documents"]["/katalog"], format="nt")
    assert set(void.objects(None, VOID.sparqlEndpoint)) == {URIRef(base + "query-service")}
    assert (URIRef(base + ".well-known/void-description"), RDF.type, VOID.DatasetDescription) in void
    assert (URIRef(base + "katalog"), RDF.type, DCAT.Catalog) in catalog
    assert set(catalog.objects(None, DCAT.endpointURL)) == {URIRef(base + "query-service")}
    downloads = {str(url) for url in catalog.objects(None, DCAT.downloadURL)}
    assert downloads == {f"{base}downloads/{dump.name}" for dump in DUMP_FILES}


def test_the_metadata_names_its_urls_from_the_route_table(live_server, void, catalogue):
    base = live_server.url
    dataset = URIRef(base + "id/dataset/zhaoqing-rule-of-law")
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(routes.endpoint_url(base))
    assert (URIRef(routes.void_url(base)), RDF.type, VOID.DatasetDescription) in void
    assert (None, DCAT.endpointURL, URIRef(routes.endpoint_url(base))) in catalogue
    assert (URIRef(routes.catalog_url(base)), RDF.type, DCAT.Catalog) in catalogue
    downloads = {str(url) for url in catalogue.objects(None, DCAT.downloadURL)}
    assert downloads == {routes.dump_url(base, dump.name) for dump in DUMP_FILES}


def test_every_url_the_void_and_dcat_documents_name_under_the_base_is_answered(live_server, void, catalogue):
    named = {
        str(term).split("#", 1)[0]
        for graph in (void, catalogue)
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(live_server.url)
    }
    # the endpoint, the two documents, the dumps and every resource the documents describe
    assert {routes.endpoint_url(live_server.url), routes.catalog_url(live_server.url)} <= named
    unanswered = {}
    for url in sorted(named):
        response = requests.get(url, timeout=60)
        if response.status_code != 200:
            unanswered[url] = response.status_code
    assert unanswered == {}


def test_the_metadata_graph_holds_void_dcat_and_the_service_description(live_server):
    metadata = f"{live_server.url}graph/metadata"
    for cls in (VOID.Dataset, DCAT.Catalog, DCAT.Distribution, SD.Service):
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{metadata}> {{ ?s a <{cls}> }} }}"
        assert _sparql_count(live_server, query) > 0, cls


def test_void_counts_of_a_large_store_are_not_a_client_query(tmp_path):
    """Issue 17, item 18: at 5M triples /.well-known/void answered 503 "memory limit", its counts
    being a query run under the clients' bounds (and in memory the data was then loaded again).
    Here the store is counted where it is opened, so VoID answers even under a 1 MB bound that
    stops a client's count of the same data."""
    data = tmp_path / "many.nt"
    with data.open("w", encoding="utf-8") as out:
        for index in range(200_000):
            out.write(f'<urn:x:s{index}> <urn:x:p{index % 7}> "{index}" .\n')
    store = tmp_path / "store"
    load_store(store, data, timeout=600)
    bound = str(1024 * 1024)
    base = "https://w3id.org/govkg/"
    arguments = ("--store", str(store), "--base-iri", base, "--query-memory-limit", bound)
    server = start_server(tmp_path, *arguments, timeout=300)
    try:
        turtle = {"Accept": "text/turtle"}
        response = requests.get(server.url + ".well-known/void", headers=turtle, timeout=60)
        assert response.status_code == 200, response.text[:300]
        void = rdflib.Graph().parse(data=response.text, format="turtle")
        counts = [int(value) for value in void.objects(None, VOID.triples)]
        assert max(counts) >= 200_000
        # A client query that must hold much of the data at once (a sort of a cross product): the
        # kernel's bound is on address space, which malloc reserves in arenas of 64 MB, so a
        # count that fits in an arena already reserved is not stopped by a 1 MB bound.
        client_sort = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } GRAPH ?h { ?t ?q ?u } } ORDER BY ?o ?u LIMIT 1"
        response = requests.get(server.sparql_url, params={"query": client_sort}, timeout=60)
        assert response.status_code == 503 and "memory" in response.text  # the bound does hold for clients
        assert "Counted the dataset" in server.log()
    finally:
        stop_server(server)


_REPEATED_ACROSS_GRAPHS = """
<https://w3id.org/govkg/id/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:x:City> <urn:x:big> .
<https://w3id.org/govkg/id/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:x:City> <urn:x:small> .
<https://w3id.org/govkg/id/a> <urn:x:name> "肇庆"@zh <urn:x:big> .
<https://w3id.org/govkg/id/a> <urn:x:name> "肇庆"@zh <urn:x:small> .
<https://w3id.org/govkg/id/a> <urn:x:name> "肇庆"@zh <urn:x:other> .
<https://w3id.org/govkg/id/a> <urn:x:name> "Zhaoqing"@en <urn:x:big> .
<https://w3id.org/govkg/id/b> <urn:x:name> "b" <urn:x:small> .
<https://w3id.org/govkg/id/b> <urn:x:name> "b" <urn:x:other> .
_:n <urn:x:near> <https://w3id.org/govkg/id/a> <urn:x:big> .
_:n <urn:x:near> <https://w3id.org/govkg/id/a> <urn:x:other> .
<urn:x:c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:x:City> <urn:x:big> .
<urn:x:c> <urn:x:size> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <urn:x:big> .
<urn:x:d> <urn:x:size> "2"^^<http://www.w3.org/2001/XMLSchema#integer> <urn:x:big> .
<urn:x:d> <urn:x:near> <urn:x:c> <https://w3id.org/govkg/graph/metadata> .
<https://w3id.org/govkg/id/a> <urn:x:name> "Zhaoqing"@en <https://w3id.org/govkg/graph/metadata> .
<urn:x:e> <urn:x:size> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .
"""


def test_the_counts_of_a_large_store_take_a_triple_held_by_several_graphs_once():
    """The SPARQL counts of a large store (:func:`large_statistics`, no DISTINCT over the union) are
    those of the in-memory path, which counts the set of the graphs' triples: a triple held by two
    or three graphs, the largest among them or not, with a blank node, is one triple; the metadata
    graph and the default graph are not the dataset."""
    from datetime import UTC, datetime

    import pyoxigraph as ox
    from govkg.store.backends import MemoryBackend
    from govkg.store.loaded import LoadedGraph
    from govkg.store.metadata import dataset_statistics, large_statistics

    store = ox.Store()
    store.extend(ox.parse(_REPEATED_ACROSS_GRAPHS.encode(), ox.RdfFormat.N_QUADS))
    base = "https://w3id.org/govkg/"
    loaded = LoadedGraph(MemoryBackend(store, base), base, "test", datetime.now(tz=UTC))
    assert not loaded.backend.large  # so dataset_statistics counts in Python
    expected = dataset_statistics(loaded)
    assert (expected.triples, expected.distinct_subjects, expected.entities) == (8, 5, 2)
    assert expected.properties["urn:x:name"] == 3 and expected.classes == {"urn:x:City": 2}
    assert expected.graph_triples == {"urn:x:big": 7, "urn:x:other": 3, "urn:x:small": 3}
    assert large_statistics(loaded) == expected


def test_void_of_a_store_whose_graphs_share_triples_counts_each_triple_once(tmp_path):
    """A store on disk is counted by SPARQL aggregates at start-up, beside the search index: two data
    files that share triples give VoID counts equal to a client's DISTINCT counts of the union over
    HTTP, each graph's subset its own size."""
    shared = [f'<urn:x:s{index}> <urn:x:p{index % 3}> "{index}" .' for index in range(40)]
    first, second = tmp_path / "first.nt", tmp_path / "second.nt"
    first.write_text("\n".join([*shared, '<urn:x:only> <urn:x:p0> "first" .']) + "\n", encoding="utf-8")
    second.write_text(
        "\n".join([*shared[10:], f"<urn:x:t> <{RDF.type}> <urn:x:Thing> ."]) + "\n", encoding="utf-8"
    )
    store = tmp_path / "store"
    load_store(store, first, second)
    base = "https://w3id.org/govkg/"
    server = start_server(tmp_path, "--store", str(store), "--base-iri", base, timeout=300)
    try:
        void = rdflib.Graph().parse(
            data=requests.get(
                server.url + ".well-known/void", headers={"Accept": "text/turtle"}, timeout=60
            ).text,
            format="turtle",
        )
        dataset = URIRef(base + "id/dataset/zhaoqing-rule-of-law")
        inner = DATASET_TRIPLES.format(base=base)
        distinct = _sparql_count(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ {inner} }} }}")
        subsets = {  # the graphs and linksets: the parts the data declares have no count
            str(part): int(void.value(part, VOID.triples))
            for part in void.objects(dataset, VOID.subset)
            if void.value(part, VOID.triples) is not None
        }
        assert subsets[f"{base}graph/data/first"] == 41 and subsets[f"{base}graph/data/second"] == 31
        assert int(void.value(dataset, VOID.triples)) == distinct
        graphs = [graph for graph in subsets if graph.startswith(base + "graph/")]
        assert sum(subsets[graph] for graph in graphs) == distinct + 30  # the 30 shared, counted once
        rows = _sparql_rows(server, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {{ {inner} }} }} GROUP BY ?p")
        properties = {
            str(void.value(partition, VOID.property)): int(void.value(partition, VOID.triples))
            for partition in void.objects(dataset, VOID.propertyPartition)
        }
        assert properties == {row["p"]: int(row["n"]) for row in rows}
        assert "Counted the dataset" in server.log()
    finally:
        stop_server(server)
