"""Published = written: what the server gives (/sparql, dumps, resource pages) is the source, term for term.

pyoxigraph canonicalizes typed literals as it stores them (oxigraph/oxigraph#526: a derived
integer type such as xsd:nonNegativeInteger comes out as xsd:integer, "100.0"^^xsd:decimal as
"100"). The data is written in the form the store keeps, so every graph the server publishes
is isomorphic to its source files; these tests read the server over HTTP and compare.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
import requests
from govkg.graph.knowledge_graph import ONTOLOGY_PATH, fact_files, link_files, literal_changes
from govkg.settings import DEFAULT_BASE_IRI

from tests.conftest import start_server, stop_server
from tests.isomorphism import differences as canonical_differences

SOURCES = {"facts": fact_files, "links": link_files, "ontology": lambda: (ONTOLOGY_PATH,)}


def source_graph(part: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in SOURCES[part]():
        graph.parse(path, format="turtle")
    return graph


def canonical(nt: str, served_base: str) -> rdflib.Graph:
    """N-Triples from the server, its IRIs moved back from the server's base to the canonical one."""
    graph = rdflib.Graph()
    graph.parse(data=nt.replace(f"<{served_base}", f"<{DEFAULT_BASE_IRI}"), format="nt")
    return graph


def differences(written: rdflib.Graph, served: rdflib.Graph) -> list[str]:
    only_written, only_served = canonical_differences(written, served)
    return sorted(f"written only: {t}" for t in only_written) + sorted(
        f"served only: {t}" for t in only_served
    )


@pytest.mark.parametrize("part", sorted(SOURCES))
def test_sparql_gives_each_graph_as_written(live_server, part: str) -> None:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{live_server.url}graph/{part}> {{ ?s ?p ?o }} }}"
    response = requests.post(
        live_server.sparql_url, data={"query": query}, headers={"Accept": "application/n-triples"}, timeout=60
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Govkg-Truncated"] == "false"
    written = source_graph(part)
    served = canonical(response.text, live_server.url)
    assert len(served) == len(written) > 0
    assert differences(written, served) == []


def test_the_dump_holds_the_facts_and_links_as_written(live_server) -> None:
    response = requests.get(live_server.url + "dumps/govkg.nq", timeout=60)
    assert response.status_code == 200
    quads = list(ox.parse(response.content, ox.RdfFormat.N_QUADS))
    for part in ("facts", "links"):
        graph = ox.NamedNode(f"{live_server.url}graph/{part}")
        triples = [quad.triple for quad in quads if quad.graph_name == graph]
        served = canonical(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), live_server.url)
        assert differences(source_graph(part), served) == [], part


def test_a_resource_page_gives_the_positions_as_written(live_server) -> None:
    """A resource's RDF (its Concise Bounded Description) carries the selectors' integers unchanged."""
    iri = "id/annotation/matters-run-at-most-once"
    response = requests.get(
        f"{live_server.url}{iri}", headers={"Accept": "application/n-triples"}, timeout=30
    )
    assert response.status_code == 200
    served = canonical(response.text, live_server.url)
    written = source_graph("facts")
    start = rdflib.URIRef("http://www.w3.org/ns/oa#start")
    positions = [o for _, o in served.subject_objects(start)]
    assert positions and all(o.datatype == rdflib.XSD.integer for o in positions)
    assert set(positions) <= set(written.objects(None, start))
    named = [triple for triple in served if not any(isinstance(term, rdflib.BNode) for term in triple)]
    assert named and all(triple in written for triple in named)


def test_every_source_literal_is_one_the_store_keeps() -> None:
    """The data itself makes the difference impossible: no literal the store would rewrite."""
    for part, files in SOURCES.items():
        for path in files():
            triples = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
            changes = literal_changes(triples)
            assert not changes, changes.message(f"{part}: {path.name}")


def test_the_check_finds_a_rewritten_literal() -> None:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    s, p = ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    written = [
        ox.Literal("858", datatype=ox.NamedNode(xsd + "nonNegativeInteger")),
        ox.Literal("100.0", datatype=ox.NamedNode(xsd + "decimal")),
        ox.Literal("858", datatype=ox.NamedNode(xsd + "integer")),
        ox.Literal("858"),
    ]
    changes = literal_changes(ox.Triple(s, p, o) for o in written)
    assert changes.count == 2
    assert "served as" in changes.message("here")


def test_serve_data_warns_when_the_store_rewrites_literals(tmp_path) -> None:
    data = tmp_path / "mine.nt"
    data.write_text(
        '<urn:a> <urn:p> "7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .\n'
        '<urn:a> <urn:q> "8"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .\n'
        '<urn:a> <urn:r> "9"^^<http://www.w3.org/2001/XMLSchema#integer> .\n',
        encoding="utf-8",
    )
    server = start_server(tmp_path, "--data", str(data))
    try:
        log = server.log()
    finally:
        stop_server(server)
    assert "warning: " in log and "mine.nt: the store rewrites 2 literal(s)" in log
    assert '"7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> is served as "7"^^' in log


OPEN_LIST_QUERY = "SELECT ?resource ?property { GRAPH ?g { ?resource <BASEontology#openList> ?property } }"


@pytest.mark.parametrize(("language", "words"), [("en", "open list"), ("zh", "列举未尽（等）")])
def test_every_open_list_is_shown_on_its_resource_page(live_server, language: str, words: str) -> None:
    """Each list that ends in 等 is marked open on the page of the resource that holds it, by property."""
    response = requests.post(
        live_server.sparql_url,
        data={"query": OPEN_LIST_QUERY.replace("BASE", live_server.url)},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rows = [
        (row["resource"]["value"], row["property"]["value"]) for row in response.json()["results"]["bindings"]
    ]
    assert len(rows) == 5  # the article's five lists that end in 等
    for resource, property_iri in rows:
        url = f"{resource}?lang={language}"
        page = requests.get(url, headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200, url
        # The property table's row: the mark's name and term, then the property it marks, linked.
        row = page.text.split("gov:openList</small>", 1)
        assert len(row) == 2 and words in row[0].rsplit("<tr>", 1)[-1], url
        assert f'title="{property_iri}"' in row[1].split("</tr>", 1)[0], (url, property_iri)


def test_the_whole_served_dataset_conforms_to_the_shapes(live_server) -> None:
    """Every graph of the dump the server gives (metadata included) passes ontology/shapes.ttl."""
    import pyshacl
    from govkg.graph.knowledge_graph import SHAPES_PATH
    from govkg.graph.validation import shacl_problems, to_rdflib

    response = requests.get(live_server.url + "dumps/govkg.nq", timeout=60)
    assert response.status_code == 200
    canonical_nq = response.text.replace(f"<{live_server.url}", f"<{DEFAULT_BASE_IRI}")
    served = to_rdflib(list(ox.parse(canonical_nq.encode(), ox.RdfFormat.N_QUADS)))  # their triples
    shapes = rdflib.Graph().parse(SHAPES_PATH, format="turtle")
    _conforms, results, _text = pyshacl.validate(
        served, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True, inplace=True
    )
    assert shacl_problems(results) == []


def test_load_into_a_store_warns_when_the_store_rewrites_literals(
    runner, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    from govkg.cli import main

    data = tmp_path / "mine.ttl"
    written = '<urn:a> <urn:p> 100.0 , "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    data.write_text(written, encoding="utf-8")
    with caplog.at_level("WARNING"):
        result = runner.invoke(main, ["load", str(data), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "mine.ttl: the store rewrites 2 literal(s)" in caplog.text
