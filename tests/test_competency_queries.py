"""The competency questions give their reviewed answers on the embedded graph.

Every ``queries/*.rq`` is found from the folder, run with its defaults on the union of
the graphs (as ``/queries/NAME`` runs it) and compared with ``queries/expected/NAME.srj``.
After a reviewed data change, rewrite an answer with
``govkg write-expected NAME`` (see queries/README.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from govkg.cli import main as cli
from govkg.graph.stored_queries import (
    EXPECTED_DIR,
    QUERIES_DIR,
    StoredQuery,
    StoredQueryError,
    answer_json,
    expected_text,
    load_stored_queries,
    write_expected,
)
from govkg.settings import DEFAULT_BASE_IRI
from govkg.sparql.text import code_only
from govkg.store.opening import open_knowledge_graph

QUERIES = load_stored_queries(QUERIES_DIR)
# A federated query ('#+ federated: true') has no reviewed answer: its answer depends on another
# endpoint (its SERVICE call is tested in tests/test_federation.py).
ANSWERED = [query for query in QUERIES if not query.federated]
README = QUERIES_DIR / "README.md"
WRITE_COMMAND = "govkg write-expected"


@pytest.fixture(scope="module")
def store():
    return open_knowledge_graph(DEFAULT_BASE_IRI).store


def has_order_by(query: StoredQuery) -> bool:
    """Whether the query itself (not a subquery) has ORDER BY: one outside every ``{ }``.

    >>> from govkg.graph.stored_queries import parse_stored_query
    >>> header = "#+ summary: s\\n#+ summary_zh: s\\n#+ description: d\\n#+ tags: [t]\\n"
    >>> has_order_by(parse_stored_query("q", header + "SELECT * { ?s ?p ?o } ORDER BY ?s"))
    True
    >>> has_order_by(parse_stored_query("q", header + 'SELECT * { { SELECT * { ?s ?p ?o } ORDER BY ?s } }'))
    False
    >>> has_order_by(parse_stored_query("q", header + 'SELECT * { ?s ?p "ORDER BY" } # ORDER BY'))
    False
    >>> has_order_by(parse_stored_query("q", header + "SELECT * { ?s ?p ?o } ORDER BY ?s VALUES ?s { 1 }"))
    True
    """
    depth = 0
    top_level = []
    for char in code_only(query.text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        top_level.append(char if depth == 0 else " ")
    return re.search(r"\bORDER\s+BY\b", "".join(top_level), re.IGNORECASE) is not None


def row_key(row: Mapping) -> str:
    """A row (variable -> RDF term) as one comparable, hashable string."""
    return json.dumps(row, ensure_ascii=False, sort_keys=True)


def assert_same_solutions(actual: Mapping, expected: Mapping, query: StoredQuery) -> None:
    """The same variables and rows as the reviewed answer; in its order if the query has ORDER BY."""
    assert actual["head"]["vars"] == expected["head"]["vars"]
    actual_rows = [row_key(row) for row in actual["results"]["bindings"]]
    expected_rows = [row_key(row) for row in expected["results"]["bindings"]]
    if has_order_by(query):
        assert actual_rows == expected_rows
    else:
        assert Counter(actual_rows) == Counter(expected_rows)


def blank_nodes(answer: Mapping) -> list[str]:
    """The variables bound to a blank node in any row of a SELECT answer."""
    rows = answer.get("results", {}).get("bindings", [])
    return sorted({name for row in rows for name, term in row.items() if term["type"] == "bnode"})


def test_there_are_at_least_15_competency_questions():
    assert len(ANSWERED) >= 15, [query.name for query in ANSWERED]


@pytest.mark.parametrize("query", ANSWERED, ids=lambda query: query.name)
def test_the_query_gives_its_reviewed_answer(query, store):
    expected_path = EXPECTED_DIR / f"{query.name}.srj"
    assert expected_path.is_file(), (
        f"{query.name} has no reviewed answer: run `{WRITE_COMMAND} {query.name}`, "
        f"check queries/expected/{query.name}.srj against the article, and commit it"
    )
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    actual = answer_json(query, store)
    assert not blank_nodes(actual), "select IRIs or literals: blank node labels change from run to run"
    if "boolean" in expected or "boolean" in actual:
        assert actual == expected
        return
    assert_same_solutions(actual, expected, query)


@pytest.mark.parametrize("query", ANSWERED, ids=lambda query: query.name)
def test_an_answer_of_several_rows_has_a_stable_order(query, store):
    rows = answer_json(query, store).get("results", {}).get("bindings", [])
    assert len(rows) <= 1 or has_order_by(query), f"{query.name} returns {len(rows)} rows without ORDER BY"


def test_every_expected_answer_belongs_to_a_query():
    orphans = {path.stem for path in EXPECTED_DIR.glob("*.srj")} - {query.name for query in ANSWERED}
    assert not orphans, f"expected answers without a (non-federated) query: {sorted(orphans)}"


def test_the_readme_lists_every_question_and_documents_the_tool():
    readme = README.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([a-z0-9-]+)\.rq\)", readme))
    assert linked == {query.name for query in QUERIES}
    assert WRITE_COMMAND in readme
    for key in ("summary", "summary_zh", "description", "tags", "federated", "endpoint_in_url", "defaults"):
        assert f"| `{key}` |" in readme


def test_write_expected_writes_the_canonical_answer(tmp_path, store):
    query = next(query for query in ANSWERED if query.defaults)  # one with parameters, bound by default
    (tmp_path / f"{query.name}.rq").write_text(query.text, encoding="utf-8")
    (written,) = write_expected([query.name], store, tmp_path)
    assert written == tmp_path / "expected" / f"{query.name}.srj"
    text = written.read_text(encoding="utf-8")
    assert text == expected_text(answer_json(query, store))
    assert json.loads(text) == json.loads((EXPECTED_DIR / written.name).read_text(encoding="utf-8"))


def test_write_expected_refuses_unknown_and_federated_queries(tmp_path, store):
    federated = next((query for query in QUERIES if query.federated), None)
    if federated is not None:
        (tmp_path / f"{federated.name}.rq").write_text(federated.text, encoding="utf-8")
        with pytest.raises(StoredQueryError, match="federated query has no stored answer"):
            write_expected([federated.name], store, tmp_path)
    result = CliRunner().invoke(cli, ["write-expected", "no-such-question"])
    assert result.exit_code == 1
    assert "no-such-question.rq: no such query" in result.output
    assert not (EXPECTED_DIR / "no-such-question.srj").exists()
    assert not list(Path(tmp_path, "expected").glob("*"))


MARKS = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?mark ?subject ?object ?subject_label ?object_label WHERE {
  ?mark prov:wasGeneratedBy <BASEid/activity/editorial-interpretation> ;
    rdf:subject ?subject ; rdf:object ?object .
  OPTIONAL { ?subject rdfs:label ?subject_label }
  OPTIONAL { ?object rdfs:label ?object_label }
}
"""


def unmarked_inferences(answer: Mapping, marks: list[tuple[str, set[str], set[str]]]) -> list[str]:
    """The marks whose statement a row returns (both ends, by IRI or label) without the mark itself.

    >>> row = {"s": {"value": "urn:s"}, "o": {"value": "Platform"}}
    >>> answer = {"results": {"bindings": [row]}}
    >>> unmarked_inferences(answer, [("urn:mark", {"urn:s"}, {"urn:o", "Platform"})])
    ['urn:mark']
    >>> unmarked_inferences(answer, [("urn:mark", {"urn:s"}, {"urn:elsewhere"})])
    []
    """
    found = []
    for row in answer.get("results", {}).get("bindings", []):
        values = {term["value"] for term in row.values()}
        for mark, subject, object_ in marks:
            if mark not in values and values & subject and values & object_:
                found.append(mark)
    return sorted(set(found))


def test_a_question_that_returns_an_inferred_link_returns_its_mark(store):
    """Where a row holds both ends of a statement marked as an editorial interpretation, it holds the mark."""
    ends: dict[str, tuple[set[str], set[str]]] = {}
    for row in store.query(MARKS.replace("BASE", DEFAULT_BASE_IRI), use_default_graph_as_union=True):
        subject, object_ = ends.setdefault(row["mark"].value, ({row["subject"].value}, {row["object"].value}))
        subject.update({row["subject_label"].value} if row["subject_label"] else set())
        object_.update({row["object_label"].value} if row["object_label"] else set())
    marks = [(mark, subject, object_) for mark, (subject, object_) in ends.items()]
    assert len(marks) >= 30
    found = {query.name: unmarked_inferences(answer_json(query, store), marks) for query in ANSWERED}
    assert {name: marks for name, marks in found.items() if marks} == {}
