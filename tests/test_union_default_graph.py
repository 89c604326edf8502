"""The union default graph without a second copy of the data.

Queries run on the loaded store with pyoxigraph's ``use_default_graph_as_union``, which
repeats a triple once per graph that states it; so the article's graphs must not state
the same triple twice (the metadata graph used to restate the links graph's
``void:Linkset`` descriptions).
"""

from __future__ import annotations

import itertools

from govkg.sparql.runner import QueryJob, execute_query
from govkg.web.store import EXTENSION_KEY

ARTICLE_GRAPHS = ("ontology", "facts", "links", "metadata")


def test_the_article_graphs_are_pairwise_disjoint(app) -> None:  # noqa: ANN001
    loaded = app.extensions[EXTENSION_KEY]
    triples = {
        slug: {
            quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, loaded.graph_iri(slug))
        }
        for slug in ARTICLE_GRAPHS
    }
    assert all(triples.values())
    for first, second in itertools.combinations(ARTICLE_GRAPHS, 2):
        shared = triples[first] & triples[second]
        assert not shared, f"{first} and {second} share {len(shared)} triples, e.g. {next(iter(shared))}"


def test_the_union_default_graph_counts_each_triple_once(app) -> None:  # noqa: ANN001
    loaded = app.extensions[EXTENSION_KEY]
    distinct = len({quad.triple for quad in loaded.store})
    job = QueryJob("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "SELECT", "csv", 10)
    answer = execute_query(loaded.store, job, {})
    assert answer.body.decode().split() == ["n", str(distinct)]


def test_from_and_protocol_graphs_replace_the_union(app) -> None:  # noqa: ANN001
    loaded = app.extensions[EXTENSION_KEY]
    ontology = loaded.graph_iri("ontology")
    in_ontology = sum(1 for _ in loaded.store.quads_for_pattern(None, None, None, ontology))
    count = "SELECT (COUNT(*) AS ?n) {from} {{ ?s ?p ?o }}"
    for job in (
        QueryJob(count.format(**{"from": f"FROM <{ontology.value}>"}), "SELECT", "csv", 10),
        QueryJob(count.format(**{"from": ""}), "SELECT", "csv", 10, default_graphs=(ontology.value,)),
    ):
        assert execute_query(loaded.store, job, {}).body.decode().split() == ["n", str(in_ontology)]
    only_named = QueryJob(f"ASK FROM NAMED <{ontology.value}> {{ ?s ?p ?o }}", "ASK", "csv", 10)
    assert execute_query(loaded.store, only_named, {}).body.decode().strip() == "false"
