"""The approved W3C SPARQL 1.1 query tests, run through our /sparql endpoint over real HTTP.

One server holds every data file of the tests, each as a named graph named by the
file's suite IRI (``--data IRI=FILE``); each test then chooses its dataset with the
protocol, ``default-graph-uri`` and ``named-graph-uri``, or with the query's own FROM
/ FROM NAMED (see :class:`tests.w3c.manifest.HttpExecutor`). Results come back as
SPARQL JSON (N-Triples for graphs, CSV / TSV for the tests of those formats) and are
compared as in-process (tests/w3c/manifest.py). Negative syntax tests must be answered
400, positive ones anything but 400.

Besides the SPARQL 1.1 tests, the SPARQL 1.0 ``dataset`` and ``graph`` tests run too:
they are the suite's tests of FROM, FROM NAMED and GRAPH, which is where an endpoint's
dataset handling shows. The last tests check the protocol's dataset rules directly.

Known failures are listed with their reason in tests/w3c/known_failures.py; a known
failure that passes fails the run, so the list stays exact.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import PROJECT_ROOT, start_server, stop_server
from tests.w3c import manifest as w3c
from tests.w3c.known_failures import THROUGH_HTTP

EVALUATION = w3c.approved_evaluation_tests("sparql11")
SYNTAX = w3c.approved_syntax_tests("sparql11")
DATASET = [
    test
    for test in w3c.approved_evaluation_tests("sparql10")
    if test.id.startswith(("sparql10/dataset/", "sparql10/graph/"))
]

JSON = "application/sparql-results+json"


def _data_entries(tests: list[w3c.TestCase]) -> str:
    """The ``--data`` value: every file the tests read, as ``IRI=FILE`` relative to the server's cwd."""
    return " ".join(
        f"{iri}={os.path.relpath(path, PROJECT_ROOT)}" for iri, path in sorted(w3c.data_files(tests).items())
    )


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[w3c.HttpExecutor]:
    data = _data_entries(EVALUATION + DATASET)
    server = start_server(tmp_path_factory.mktemp("w3c-server"), "--data", data)
    session = requests.Session()  # keep-alive: one connection for the whole run
    try:
        yield w3c.HttpExecutor(session, server.sparql_url)
    finally:
        session.close()
        stop_server(server)


def _check(outcome: w3c.Outcome) -> None:
    reason = THROUGH_HTTP.get(outcome.test.id)
    if reason is None:
        assert outcome.passed, f"{outcome.test.name}\n{outcome.message}"
    elif outcome.passed:
        pytest.fail(f"{outcome.test.id} passes now: remove it from tests/w3c/known_failures.py ({reason})")
    else:
        pytest.xfail(reason)


@pytest.mark.parametrize("test", EVALUATION, ids=lambda test: test.id)
def test_query_evaluation(endpoint: w3c.HttpExecutor, test: w3c.TestCase) -> None:
    _check(w3c.run_test(test, endpoint))


@pytest.mark.parametrize("test", SYNTAX, ids=lambda test: test.id)
def test_query_syntax(endpoint: w3c.HttpExecutor, test: w3c.TestCase) -> None:
    _check(w3c.run_test(test, endpoint))


@pytest.mark.parametrize("test", DATASET, ids=lambda test: test.id)
def test_dataset_evaluation(endpoint: w3c.HttpExecutor, test: w3c.TestCase) -> None:
    _check(w3c.run_test(test, endpoint))


# --------------------------------------------------------------------------- the protocol's datasets


def _graph(name: str) -> str:
    return w3c.SUITE_IRI + "sparql10/graph/" + name


G1, G2 = _graph("data-g1.ttl"), _graph("data-g2.ttl")  # :x :p 1 . :a :p 9 .  /  :x :q 2 .


def _post(endpoint: w3c.HttpExecutor, query: str, **dataset: list[str]) -> requests.Response:
    """POST ``query`` with ``default_graph_uri`` / ``named_graph_uri`` lists, asking for SPARQL JSON."""
    form = [("query", query)]
    form += [(name.replace("_", "-"), iri) for name, iris in dataset.items() for iri in iris]
    return endpoint.session.post(endpoint.endpoint, data=form, headers={"Accept": JSON}, timeout=30)


def _ask(endpoint: w3c.HttpExecutor, query: str, **dataset: list[str]) -> bool:
    response = _post(endpoint, query, **dataset)
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def test_every_data_file_is_served_as_its_own_graph(endpoint: w3c.HttpExecutor) -> None:
    response = _post(endpoint, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }")
    assert response.status_code == 200, response.text
    graphs = {row["g"]["value"] for row in response.json()["results"]["bindings"]}
    files = w3c.data_files(EVALUATION + DATASET)
    assert {iri for iri, path in files.items() if w3c.read_triples(path)} <= graphs


def test_an_unknown_default_graph_is_empty(endpoint: w3c.HttpExecutor) -> None:
    assert not _ask(endpoint, "ASK { ?s ?p ?o }", default_graph_uri=[w3c.EMPTY_GRAPH_IRI])


def test_default_graph_uri_alone_gives_no_named_graphs(endpoint: w3c.HttpExecutor) -> None:
    """SPARQL 1.1 Protocol 2.1.4: the dataset is exactly the graphs the request names."""
    assert _ask(endpoint, "ASK { <http://example/x> <http://example/p> 1 }", default_graph_uri=[G1])
    assert not _ask(endpoint, "ASK { GRAPH ?g { ?s ?p ?o } }", default_graph_uri=[G1])


def test_named_graph_uri_alone_gives_an_empty_default_graph(endpoint: w3c.HttpExecutor) -> None:
    assert _ask(endpoint, f"ASK {{ GRAPH <{G2}> {{ ?s ?p ?o }} }}", named_graph_uri=[G2])
    assert not _ask(endpoint, "ASK { ?s ?p ?o }", named_graph_uri=[G2])
    assert not _ask(endpoint, f"ASK {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}", named_graph_uri=[G2])


def test_the_query_dataset_is_used_when_the_request_gives_none(endpoint: w3c.HttpExecutor) -> None:
    """FROM replaces the union default graph: G2's triple is not in the default graph FROM G1."""
    assert _ask(endpoint, f"ASK FROM <{G1}> {{ <http://example/a> <http://example/p> 9 }}")
    assert not _ask(endpoint, f"ASK FROM <{G1}> {{ <http://example/x> <http://example/q> 2 }}")
    assert not _ask(endpoint, f"ASK FROM NAMED <{G2}> {{ ?s ?p ?o }}")


def test_the_protocol_dataset_overrides_the_query_dataset(endpoint: w3c.HttpExecutor) -> None:
    """SPARQL 1.1 Protocol 2.1.4: default-graph-uri / named-graph-uri win over FROM / FROM NAMED."""
    query = f"ASK FROM <{G1}> {{ <http://example/x> <http://example/q> 2 }}"
    assert _ask(endpoint, query, default_graph_uri=[G2])


def test_an_unsupported_extension_function_is_not_a_server_incident(endpoint: w3c.HttpExecutor) -> None:
    """A valid query calling a function the engine lacks (syntax-query/test_4) is the client's matter.

    pyoxigraph refuses such a query before evaluating it (RuntimeError, not SyntaxError).
    The endpoint may evaluate the call as an expression error (the variable stays
    unbound) or refuse the query with a 4xx that names the function; a 500 ("the
    incident was logged") is neither, and lets any client fill the server log.
    """
    query = "SELECT (<http://example/function>(1) AS ?x) {}"
    response = _post(endpoint, query, default_graph_uri=[w3c.EMPTY_GRAPH_IRI])
    assert response.status_code < 500, f"{response.status_code}: {response.text}"
