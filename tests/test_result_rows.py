"""SELECT answers in SPARQL JSON are written by pyoxigraph and cut at the row limit by counting
rows in its bytes (govkg.sparql.runner._JsonRowWriter): the same bytes, count and cut as the
XML-counted path, on values built to look like row boundaries."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from govkg.rdf.formats import results_format
from govkg.sparql.runner import serialize_solutions

ROWS = 600
# Values holding the bytes of a row start, a quote, an empty object, or a long run (several
# chunks of pyoxigraph's writer, so that marks fall across chunk boundaries).
TRICKY = [',{"', '},{"x":{"', '[{"a":{"', '\\",{"', 'a"b', "plain", "x" * 9000, '",{"y":{"', '中文,{"z":{"']
LONG_NAME = "v" + "x" * 300


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    for number in range(ROWS):
        store.add(
            ox.Quad(
                ox.NamedNode(f"urn:x:s{number:04}"),
                ox.NamedNode("urn:x:p"),
                ox.Literal(TRICKY[number % len(TRICKY)] + str(number)),
                ox.DefaultGraph(),
            )
        )
    store.add(ox.Quad(ox.NamedNode("urn:x:t"), ox.NamedNode("urn:x:q"), ox.Literal("{}"), ox.DefaultGraph()))
    return store


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?s ?o { ?s <urn:x:p> ?o } ORDER BY ?s",
        "SELECT ?o { ?s <urn:x:p> ?o } ORDER BY DESC(?s)",
        f"SELECT ?{LONG_NAME} {{ ?s <urn:x:p> ?{LONG_NAME} }} ORDER BY ?s",
        # {} in the answer: an empty solution, or a value holding it, is counted through XML.
        "SELECT ?s ?x { ?s <urn:x:p> ?o OPTIONAL { ?s <urn:x:none> ?x } } ORDER BY ?s",
        "SELECT ?o { ?s ?p ?o } ORDER BY ?s",
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 7, ROWS - 1, ROWS, ROWS + 1, 10_000])
def test_json_rows_are_cut_like_the_xml_counted_answer(store, query, limit):
    fmt = results_format("json")
    direct = serialize_solutions(store.query(query), fmt, limit, again=lambda: store.query(query))
    through_xml = serialize_solutions(store.query(query), fmt, limit)
    assert (direct.body, direct.count, direct.truncated) == (
        through_xml.body,
        through_xml.count,
        through_xml.truncated,
    )
    total = len(
        json.loads(store.query(query).serialize(format=ox.QueryResultsFormat.JSON))["results"]["bindings"]
    )
    assert len(json.loads(direct.body)["results"]["bindings"]) == min(limit, total)
    assert direct.truncated == (total > limit)
