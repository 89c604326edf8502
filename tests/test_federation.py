"""Federation in both directions, with real stores over loopback.

Our endpoint as a SERVICE target: a query sent to a real Oxigraph server that calls
``SERVICE <our /sparql>`` gets our facts back. (Our endpoint calling an allowlisted
SERVICE is tested in test_sparql_safety.py and test_query_page.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.stores import OxigraphServer, start_oxigraph, stop_oxigraph

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """An Oxigraph server holding one triple of its own about our Zhaoqing."""
    tmp = tmp_path_factory.mktemp("federation")
    data = tmp / "remote.nt"
    data.write_text('<urn:x:note> <urn:x:about> "a note kept by another store" .\n', encoding="utf-8")
    server = start_oxigraph(tmp, data)
    yield server
    stop_oxigraph(server)


def _select(url: str, query: str) -> list[dict]:
    response = requests.post(
        url,
        data=query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_another_store_federates_into_our_endpoint(live_server, oxigraph: OxigraphServer):
    zhaoqing = live_server.url + "id/place/zhaoqing"
    rows = _select(
        oxigraph.query_url,
        f"""SELECT ?label ?note WHERE {{
              ?note <urn:x:about> ?about .
              SERVICE <{live_server.sparql_url}> {{ <{zhaoqing}> <{RDFS_LABEL}> ?label }}
            }} ORDER BY ?label""",
    )
    labels = {(row["label"]["value"], row["label"].get("xml:lang")) for row in rows}
    assert ("肇庆市", "zh") in labels
    assert any(lang == "en" and "Zhaoqing" in value for value, lang in labels)
    assert {row["note"]["value"] for row in rows} == {"urn:x:note"}


def test_a_competency_question_through_another_store(live_server, oxigraph: OxigraphServer):
    # The six firsts of the "六个率先" highlight, counted by scope, asked of Oxigraph.
    rows = _select(
        oxigraph.query_url,
        f"""PREFIX gov: <{live_server.url}ontology#>
            SELECT ?scope (COUNT(DISTINCT ?first) AS ?firsts) WHERE {{
              SERVICE <{live_server.sparql_url}> {{
                <{live_server.url}id/highlight/six-firsts> <http://purl.org/dc/terms/hasPart> ?first .
                ?first a gov:FirstMoverAchievement ; gov:scope ?scope .
              }}
            }} GROUP BY ?scope ORDER BY ?scope""",
    )
    counts = {row["scope"]["value"].rsplit("/", 1)[-1]: int(row["firsts"]["value"]) for row in rows}
    assert counts == {"nation": 1, "province": 5}


def test_oxigraph_reads_our_answers_in_its_preferred_format(live_server):
    # What a federating store sends: an Accept list led by SPARQL XML or JSON, maybe with */*.
    for accept in (
        "application/sparql-results+xml, application/sparql-results+json;q=0.9, */*;q=0.1",
        "application/sparql-results+json, application/sparql-results+xml;q=0.9",
    ):
        response = requests.post(
            live_server.sparql_url,
            data="ASK { ?s ?p ?o }",
            headers={"Content-Type": "application/sparql-query", "Accept": accept},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"].split(";")[0] == accept.split(",")[0].split(";")[0]
