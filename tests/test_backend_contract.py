"""One contract for every backend (:mod:`govkg.store.backends`): the same answers and the same errors.

Each backend — the in-memory store, a persistent store on disk, a real Oxigraph server and a
real Virtuoso behind ``--store sparql:URL`` — holds the article graphs and is asked through
the one executor the CLI and ``/sparql`` share (:func:`govkg.sparql.local.answer_locally`):
the competency questions give their reviewed answers, dataset clauses mean the same, the row
cap and the time limit cut the same way, a bad query is the same kind of error, and a
resource's description and inbound links are the same triples. A new backend joins by
adding its name to ``BACKENDS`` and a branch to the fixture.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from govkg.errors import ClientError, QueryTimedOut
from govkg.graph.stored_queries import EXPECTED_DIR, QUERIES_DIR, load_stored_queries
from govkg.settings import DEFAULT_BASE_IRI, load_settings
from govkg.sparql.local import answer_locally
from govkg.store.loaded import LoadedGraph
from govkg.store.opening import open_knowledge_graph, open_persistent_store, open_remote_store

from tests.stores import push_article, start_oxigraph_store, start_virtuoso, stop_store, virtuoso_available
from tests.test_competency_queries import assert_same_solutions

BASE = DEFAULT_BASE_IRI
BACKENDS = ["memory", "disk", "oxigraph", "virtuoso"]
QUERIES = [query for query in load_stored_queries(QUERIES_DIR) if not query.federated]
PLACE = ox.NamedNode(f"{BASE}id/place/zhaoqing")
# Described and linked to in the facts alone (the metadata graph is built per backend).
OBSERVATION = ox.NamedNode(f"{BASE}id/observation/matters-run-at-most-once")
MAX_ROWS = 7
SETTINGS = load_settings({"base_iri": BASE, "max_result_rows": MAX_ROWS, "query_timeout": 5})


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedGraph]:
    """The article graphs behind one backend."""
    kind = request.param
    if kind == "memory":
        yield open_knowledge_graph(BASE)
        return
    if kind == "disk":
        yield open_persistent_store(tmp_path_factory.mktemp("disk-store") / "store", BASE)
        return
    workdir = tmp_path_factory.mktemp(f"store-{kind}")
    if kind == "virtuoso" and not virtuoso_available():
        pytest.fail("Virtuoso is not installed: scripts/install-test-deps.sh installs it")
    store = start_oxigraph_store(workdir) if kind == "oxigraph" else start_virtuoso(workdir)
    try:
        pushed = push_article(store, BASE)
        assert pushed.returncode == 0, pushed.stderr
        yield open_remote_store({**SETTINGS, "store": f"sparql:{store.query_url}"})
    finally:
        stop_store(store, grace=30)


@pytest.fixture(scope="module")
def memory() -> LoadedGraph:
    return open_knowledge_graph(BASE)


def ask(loaded: LoadedGraph, query: str, format_name: str = "json", **settings: object) -> bytes:
    return answer_locally(loaded.backend, BASE, query, format_name, {**SETTINGS, **settings})


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: query.name)
def test_competency_questions_give_their_reviewed_answers(loaded: LoadedGraph, query) -> None:  # noqa: ANN001
    expected = json.loads((EXPECTED_DIR / f"{query.name}.srj").read_text(encoding="utf-8"))
    actual = json.loads(ask(loaded, query.bound_text(BASE), max_result_rows=10_000))
    if "boolean" in expected:
        assert actual["boolean"] == expected["boolean"]
    else:
        assert_same_solutions(actual, expected, query)


DATASET_QUERIES = [
    f"SELECT (COUNT(*) AS ?n) FROM <{BASE}graph/ontology> WHERE {{ ?s ?p ?o }}",
    f"SELECT (COUNT(*) AS ?n) FROM NAMED <{BASE}graph/links> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/ns/oa#hasBody> ?o }",  # the union default graph
    f"ASK FROM <{BASE}graph/facts> {{ <{PLACE.value}> ?p ?o }}",
]


@pytest.mark.parametrize("query", DATASET_QUERIES)
def test_dataset_clauses_mean_the_same(loaded: LoadedGraph, memory: LoadedGraph, query: str) -> None:
    assert json.loads(ask(loaded, query)) == json.loads(ask(memory, query))


def test_no_pyoxigraph_object_is_left_for_the_cycle_collector(loaded: LoadedGraph) -> None:
    # pyo3 objects may only be dropped on the thread that made them. One left in reference-cycle
    # garbage is dropped wherever the collector next runs: collecting on another thread shows it
    # (it once failed a full run now and then, as "PyQuerySolutions is unsendable").
    gc.collect()
    for query in [*DATASET_QUERIES, "SELECT ?s WHERE { ?s a ?type }"]:
        ask(loaded, query)
    dropped: list[str] = []
    previous, sys.unraisablehook = sys.unraisablehook, lambda raised: dropped.append(repr(raised.exc_value))
    try:
        collector = threading.Thread(target=gc.collect)
        collector.start()
        collector.join()
    finally:
        sys.unraisablehook = previous
    assert dropped == []


def test_rows_are_cut_at_the_limit(loaded: LoadedGraph) -> None:
    answer = json.loads(ask(loaded, "SELECT ?s WHERE { ?s a ?type }"))
    assert len(answer["results"]["bindings"]) == MAX_ROWS


def test_a_bad_query_is_a_client_error(loaded: LoadedGraph) -> None:
    with pytest.raises(ClientError) as raised:
        ask(loaded, "SELECT ?x WHERE { ?x }")
    assert type(raised.value) is ClientError  # a bad request: not a store failure, not a time-out


def test_an_update_is_refused_before_the_store(loaded: LoadedGraph) -> None:
    with pytest.raises(ClientError, match="read-only"):
        ask(loaded, f"INSERT DATA {{ <{PLACE.value}> <urn:x:p> 1 }}")


def test_a_query_past_the_time_limit_is_stopped(loaded: LoadedGraph) -> None:
    # A cross product of every triple with every triple, counted: seconds of work anywhere.
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(QueryTimedOut):
        ask(loaded, slow, query_timeout=0.3)


def test_descriptions_and_inbound_links_are_the_same(loaded: LoadedGraph, memory: LoadedGraph) -> None:
    assert set(loaded.backend.describe(OBSERVATION)) == set(memory.backend.describe(OBSERVATION))
    incoming = set(loaded.backend.incoming(OBSERVATION, 10_000))
    assert incoming == set(memory.backend.incoming(OBSERVATION, 10_000))
    assert incoming


def _closures(graph: LoadedGraph, subjects: list[ox.NamedNode], graphs: set[ox.NamedNode]) -> list[ox.Quad]:
    """The quads of ``subjects`` and of the blank nodes they reach, in ``graphs``, looked up as the
    pages look them up (a remote store's look-ups announced first, as a page does)."""
    prefetch = getattr(graph.store, "prefetch", None)
    if prefetch is not None:
        prefetch(subjects)
    quads, pending, seen = [], list(subjects), set()
    while pending:
        subject = pending.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for quad in graph.store.quads_for_pattern(subject, None, None):
            if quad.graph_name in graphs:
                quads.append(quad)
                if isinstance(quad.object, ox.BlankNode):
                    pending.append(quad.object)
    return quads


def test_every_description_is_the_same_quads(loaded: LoadedGraph, memory: LoadedGraph) -> None:
    """Every resource's triples and blank-node closure, by graph, up to blank-node labels: the
    remote stores' closures (one query per hundred resources) are the embedded store's CBDs, blank
    nodes nested three deep, whitespace at a literal's ends (an evidence prefix's newline) and all."""
    from govkg.rdf.serialize import canonical_quads

    graphs = {memory.graph_iri(slug) for slug in ("ontology", "facts", "links")}
    subjects = sorted(
        {
            q.subject
            for q in memory.store.quads_for_pattern(None, None, None)
            if isinstance(q.subject, ox.NamedNode)
        },
        key=str,
    )
    expected = _closures(memory, subjects, graphs)
    blank_subjects = {quad.subject for quad in expected if isinstance(quad.subject, ox.BlankNode)}
    nested = [q for q in expected if q.subject in blank_subjects and isinstance(q.object, ox.BlankNode)]
    assert nested and any(
        q.object.value.strip() != q.object.value for q in expected if isinstance(q.object, ox.Literal)
    )
    found = _closures(loaded, subjects, graphs)
    assert len(found) == len(expected)
    assert {str(q) for q in canonical_quads(found)} == {str(q) for q in canonical_quads(expected)}


def test_graph_answers_are_the_same_triples(loaded: LoadedGraph, memory: LoadedGraph) -> None:
    query = f"DESCRIBE <{OBSERVATION.value}>"

    def triples(graph: LoadedGraph) -> set:
        return set(ox.parse(ask(graph, query, max_result_rows=10_000), ox.RdfFormat.TURTLE))

    assert triples(loaded) == triples(memory)


def test_every_backend_is_in_the_contract() -> None:
    """A backend added to the registry without joining this suite fails here."""
    from govkg.store import backends, remote

    kinds = {cls.kind for cls in (backends.MemoryBackend, backends.DiskBackend, remote.RemoteBackend)}
    assert kinds == {"memory", "disk", "remote"}
    assert Path(__file__).read_text(encoding="utf-8").count('kind == "') >= 3
