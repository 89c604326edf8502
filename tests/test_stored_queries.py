"""The competency-question format: ``#+`` headers parsed strictly, queries checked against them."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from govkg.graph.stored_queries import (
    QUERIES_DIR,
    ParameterError,
    StoredQueryError,
    load_stored_queries,
    parse_stored_query,
    read_stored_query,
)

GOOD_HEADER = """\
#+ summary: Which firsts did Zhaoqing achieve?
#+ summary_zh: 肇庆在哪些事项上率先？
#+ description: Every first-mover achievement,
#+   with its scope.
#+
#+   A second paragraph.
#+ tags:
#+   - firsts
#+   - "reform: services"
"""
SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/govkg/ontology#FirstMoverAchievement> }\n"


def test_a_full_header_is_read_into_its_fields():
    query = parse_stored_query("firsts", GOOD_HEADER + SELECT)
    assert query.name == "firsts"
    assert query.summary == "Which firsts did Zhaoqing achieve?"
    assert query.summary_zh == "肇庆在哪些事项上率先？"
    assert query.description == "Every first-mover achievement, with its scope.\nA second paragraph."
    assert query.tags == ("firsts", "reform: services")
    assert (query.federated, query.endpoint_in_url, dict(query.defaults)) == (False, False, {})
    assert query.text == GOOD_HEADER + SELECT
    assert query.form == "SELECT" and not query.returns_graph


def test_inline_lists_quoted_values_and_booleans():
    text = (
        "#+ summary: 'It''s a question'\n"
        '#+ summary_zh: "问题 \\u2014 带引号"\n'
        "#+ description: Plain text, with commas; and (brackets).\n"
        "#+ tags: [a, 'b c', \"d, e\"]\n"
        "#+ federated: false\n"
        "CONSTRUCT WHERE { ?s ?p ?o }\n"
    )
    query = parse_stored_query("inline", text)
    assert query.summary == "It's a question"
    assert query.summary_zh == "问题 — 带引号"
    assert query.tags == ("a", "b c", "d, e")
    assert query.returns_graph


def test_the_header_is_yaml_so_its_other_forms_read_as_yaml_reads_them():
    text = (
        "#+ summary: 'Where: here'  # a comment after a quoted value is YAML's, not the value's\n"
        "#+ summary_zh: 问\n"
        "#+ # a comment line\n"
        "#+ description: >-\n"
        "#+   Folded: a line ending in a colon\n"
        "#+   continues here.\n"
        "#+ tags:\n"
        "#+ - at the key's indent\n"
        "#+ - 'on'\n"
        "#+ federated: false  # a comment after a boolean\n"
        "#+ defaults: [{scope: x, }]\n"
        "ASK { ?s ?p ?_scope }\n"
    )
    query = parse_stored_query("yaml", text)
    assert query.summary == "Where: here"
    assert query.description == "Folded: a line ending in a colon continues here."
    assert query.tags == ("at the key's indent", "on")
    assert dict(query.defaults) == {"scope": "x"} and not query.federated


def test_defaults_bind_parameters_by_a_trailing_values_clause():
    text = GOOD_HEADER + (
        "#+ defaults:\n"
        "#+   - scope: province\n"
        "#+   - place_iri: https://w3id.org/govkg/id/place/zhaoqing\n"
        "SELECT ?a WHERE { ?a <https://w3id.org/govkg/ontology#scope> ?_scope ; ?p ?_place_iri }\n"
    )
    query = parse_stored_query("params", text)
    assert dict(query.defaults) == {
        "scope": "province",
        "place_iri": "https://w3id.org/govkg/id/place/zhaoqing",
    }
    bound = query.bound_text("http://127.0.0.1:5000/", {"scope": 'the "nation"', "unknown": "ignored"})
    assert bound.endswith(
        '\nVALUES (?_scope ?_place_iri) { ("the \\"nation\\"" <http://127.0.0.1:5000/id/place/zhaoqing>) }\n'
    )
    # The bound query is still valid SPARQL, and the binding is a term, not code.
    store = ox.Store()
    scope = ox.NamedNode("http://127.0.0.1:5000/ontology#scope")
    store.add(ox.Quad(ox.NamedNode("http://x/a"), scope, ox.Literal('the "nation"')))
    store.add(
        ox.Quad(
            ox.NamedNode("http://x/a"),
            ox.NamedNode("http://x/p"),
            ox.NamedNode("http://127.0.0.1:5000/id/place/zhaoqing"),
        )
    )
    assert [row["a"].value for row in store.query(bound)] == ["http://x/a"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("scope", "a\\u0022 } ; DROP", "backslash"),
        ("scope", "line\nbreak", "control character"),
        ("place_iri", "not an iri", r"absolute http\(s\) IRI"),
        ("place_iri", "https://x.example/a> ?p <b", r"absolute http\(s\) IRI"),
    ],
)
def test_parameter_values_that_could_break_out_are_refused(name, value, message):
    text = GOOD_HEADER + (
        "#+ defaults:\n#+   - scope: province\n#+   - place_iri: https://x.example/a\n"
        "SELECT * WHERE { ?a ?p ?_scope , ?_place_iri }\n"
    )
    query = parse_stored_query("params", text)
    with pytest.raises(ParameterError, match=message):
        query.bound_text("https://w3id.org/govkg/", {name: value})


def test_text_for_rebases_iris_but_not_strings():
    query = parse_stored_query(
        "rebase",
        GOOD_HEADER + 'SELECT * { <https://w3id.org/govkg/id/x> ?p "https://w3id.org/govkg/id/x" }\n',
    )
    rebased = query.text_for("http://127.0.0.1:8000/")
    assert '<http://127.0.0.1:8000/id/x> ?p "https://w3id.org/govkg/id/x"' in rebased


def test_a_federated_query_declares_its_service_and_may_take_the_endpoint_from_the_url():
    text = GOOD_HEADER + (
        "#+ federated: true\n#+ endpoint_in_url: true\n"
        "SELECT * WHERE { SERVICE <https://query.example/sparql> { ?s ?p ?o } }\n"
    )
    query = parse_stored_query("federated", text)
    assert query.federated and query.service_iri() == "https://query.example/sparql"
    bound = query.bound_text("https://w3id.org/govkg/", endpoint="https://other.example/sparql")
    assert "SERVICE <https://other.example/sparql>" in bound and "query.example" not in bound
    with pytest.raises(ParameterError):
        query.bound_text("https://w3id.org/govkg/", endpoint="file:///etc/passwd")


def test_the_service_endpoint_may_be_a_prefixed_name():
    text = GOOD_HEADER + (
        "#+ federated: true\n#+ endpoint_in_url: true\n"
        "PREFIX ex: <https://query.example/>\n"
        "SELECT * WHERE { SERVICE SILENT ex:sparql { ?s ?p ?o } }\n"
    )
    query = parse_stored_query("federated", text)
    assert query.service_iri() == "https://query.example/sparql"
    bound = query.bound_text("https://w3id.org/govkg/", endpoint="https://other.example/sparql")
    assert "SERVICE SILENT <https://other.example/sparql> {" in bound


REQUIRED = {
    "summary": "#+ summary: S\n",
    "summary_zh": "#+ summary_zh: 问\n",
    "description": "#+ description: D\n",
    "tags": "#+ tags: [t]\n",
}
ASK = "ASK { ?s ?p ?o }\n"


def _header(**replace: str) -> str:
    return "".join(replace.get(key, line) for key, line in REQUIRED.items())


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(_header() + "#+ sumary: typo\n" + ASK, 5, "unknown key 'sumary'", id="unknown-key"),
        pytest.param(
            _header(summary_zh="") + ASK, 4, r"missing required key\(s\): summary_zh", id="missing-key"
        ),
        pytest.param(_header(tags="") + ASK, 4, r"missing required key\(s\): tags", id="missing-tags"),
        # YAML reads "summary:No space" and the next line as one plain value, up to the next ': '.
        pytest.param(
            _header(summary="#+ summary:No space\n") + ASK,
            2,
            "not valid YAML: mapping values are not allowed here",
            id="no-space",
        ),
        pytest.param(
            _header(summary="#+summary: x\n") + ASK, 1, "malformed header line", id="no-space-after-plus"
        ),
        pytest.param(_header(summary="#+ summary:\n") + ASK, 1, "summary is empty", id="empty-value"),
        pytest.param(
            _header(summary="#+ summary: a: b\n") + ASK,
            1,
            "not allowed here; quote a value",
            id="colon-unquoted",
        ),
        pytest.param(
            _header(summary="#+ summary: a #b\n") + ASK, 1, "starts a YAML comment", id="comment-unquoted"
        ),
        pytest.param(
            _header(description="#+ description: a\n#+   b #c\n") + ASK,
            4,
            "starts a YAML comment after description",
            id="comment-after-continuation",
        ),
        pytest.param(
            _header(summary="#+ summary: [x\n") + ASK, 1, "while parsing a flow sequence", id="indicator"
        ),
        pytest.param(
            _header(summary='#+ summary: "open\n') + ASK, 1, "while scanning a quoted scalar", id="bad-quote"
        ),
        pytest.param(
            _header(summary="#+ summary: 2020\n") + ASK, 1, "read by YAML as a number", id="number-unquoted"
        ),
        pytest.param(
            _header(summary="#+ summary: no\n") + ASK, 1, "read by YAML as a boolean", id="boolean-unquoted"
        ),
        pytest.param(
            _header(tags="#+ tags: [a, on]\n") + ASK,
            4,
            "a tag is read by YAML as a boolean",
            id="boolean-tag",
        ),
        pytest.param(
            _header(summary="#+ summary: [a, b]\n") + ASK,
            1,
            "summary must be text, not a list",
            id="list-text",
        ),
        pytest.param(
            _header(summary="#+ summary: a\x07\n") + ASK,
            1,
            "not valid YAML: unacceptable character",
            id="control",
        ),
        pytest.param("#+\n#+\n" + ASK, 1, "the header is empty", id="empty-header"),
        pytest.param("#+ - summary\n" + ASK, 1, "expected '#\\+ key: value' lines", id="not-a-mapping"),
        pytest.param(_header() + "#+ summary: again\n" + ASK, 5, "given twice", id="duplicate-key"),
        pytest.param(_header(tags="#+ tags:\n") + ASK, 4, "'tags' has no items", id="empty-block-list"),
        pytest.param(_header(tags="#+ tags: []\n") + ASK, 4, "'tags' has no items", id="empty-inline-list"),
        pytest.param(
            _header(tags="#+ tags: [a, , b]\n") + ASK, 4, "expected the node content", id="empty-list-item"
        ),
        pytest.param(_header(tags='#+ tags: [a, ""]\n') + ASK, 4, "a tag is empty", id="empty-quoted-tag"),
        pytest.param(_header(tags="#+ tags: [a, a]\n") + ASK, 4, "listed twice", id="duplicate-inline-tag"),
        pytest.param(
            _header(tags="#+ tags: a, b\n") + ASK, 4, r"a list is written \[a, b\]", id="tags-not-list"
        ),
        pytest.param(
            _header(tags="#+ tags:\n#+   - a\n#+   - a\n") + ASK, 6, "listed twice", id="duplicate-block-tag"
        ),
        pytest.param(_header() + "#+   - stray\n" + ASK, 5, "not valid YAML", id="stray-item"),
        pytest.param(
            _header(tags="#+ tags:\n#+   -a\n") + ASK, 5, r"a list is written \[a, b\]", id="item-no-space"
        ),
        pytest.param(
            _header(tags="#+ tags: [t]\n#+   more\n") + ASK, 5, "not valid YAML", id="continue-list"
        ),
        pytest.param(_header() + "#+ federated: yes\n" + ASK, 5, "true or false", id="bad-boolean"),
        pytest.param(_header(summary="#+ summary:\tx\n") + ASK, 1, "found character '\\\\t'", id="tab"),
        pytest.param(
            _header() + "\n#+ federated: false\n" + ASK, 6, "after the header ended", id="split-header"
        ),
        pytest.param(
            "# a comment first\n" + _header() + ASK, 1, "must start with a '#\\+' header", id="no-header"
        ),
        pytest.param("\ufeff" + _header() + ASK, 1, "byte-order mark", id="bom"),
        pytest.param(_header(), 5, "not followed by a query", id="no-query"),
        pytest.param(_header() + "# only a comment\n", 5, "not followed by a query", id="comment-only"),
        pytest.param(
            _header() + "SELECT ?s WHERE { ?s ?p ?o } ORDER ?s\n", 5, "SPARQL syntax error", id="bad-sparql"
        ),
        pytest.param(
            _header() + "ASK { SERVICE <https://x.example/sparql> { ?s ?p ?o } }\n",
            5,
            "declare '#\\+ federated: true'",
            id="undeclared-service",
        ),
        pytest.param(
            _header() + "#+ federated: true\n" + ASK, 5, "has no SERVICE", id="federated-no-service"
        ),
        pytest.param(_header() + "INSERT DATA { <a:b> <a:c> <a:d> }\n", 5, "not a query", id="update"),
        pytest.param(
            _header() + "#+ endpoint_in_url: true\n" + ASK,
            5,
            "needs federated: true",
            id="endpoint-not-federated",
        ),
        pytest.param(
            _header() + "#+ defaults:\n#+   - scope: x\n" + ASK,
            5,
            "'scope' is not used",
            id="unused-parameter",
        ),
        pytest.param(
            _header() + "#+ defaults:\n#+   - scope x\n" + ASK,
            6,
            "one '#\\+   - name: value' line",
            id="bad-default",
        ),
        pytest.param(
            _header() + "#+ defaults:\n#+   - format: csv\n" + "ASK { ?s ?p ?_format }\n",
            6,
            "'format' is reserved",
            id="reserved-parameter",
        ),
        pytest.param(
            _header() + "#+ defaults: [a]\n" + ASK, 5, "one '#\\+   - name: value' line", id="inline-defaults"
        ),
        pytest.param(
            _header() + "#+ defaults:\n#+   - x_iri: not-an-iri\n" + "ASK { ?s ?p ?_x_iri }\n",
            6,
            "absolute http",
            id="bad-default-iri",
        ),
    ],
)
def test_a_bad_header_is_an_error_naming_file_and_line(text, line, message):
    with pytest.raises(StoredQueryError, match=message) as caught:
        parse_stored_query("bad", text, Path("queries/bad.rq"))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"queries/bad.rq, line {line}: ")


def test_a_parameter_used_only_inside_a_comment_or_string_does_not_count():
    text = _header() + "#+ defaults:\n#+   - scope: x\n" + 'ASK { ?s ?p "?_scope" } # ?_scope\n'
    with pytest.raises(StoredQueryError, match="'scope' is not used"):
        parse_stored_query("bad", text)


def test_file_names_must_be_url_safe_and_files_utf8(tmp_path):
    bad_name = tmp_path / "Bad Name.rq"
    bad_name.write_text(_header() + ASK, encoding="utf-8")
    with pytest.raises(StoredQueryError, match="lower-case letters"):
        read_stored_query(bad_name)
    latin1 = tmp_path / "latin1.rq"
    latin1.write_bytes(_header().encode("utf-8") + b"# caf\xe9\n" + ASK.encode("utf-8"))
    with pytest.raises(StoredQueryError, match="not UTF-8"):
        read_stored_query(latin1)


def test_load_reads_every_rq_file_sorted_and_caches_per_directory(tmp_path):
    (tmp_path / "b-second.rq").write_text(_header() + ASK, encoding="utf-8")
    (tmp_path / "a-first.rq").write_text(_header() + ASK, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a query", encoding="utf-8")
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "ignored.rq").write_text("not even a header", encoding="utf-8")
    loaded = load_stored_queries(tmp_path)
    assert [query.name for query in loaded] == ["a-first", "b-second"]
    (tmp_path / "c-later.rq").write_text(_header() + ASK, encoding="utf-8")
    assert load_stored_queries(tmp_path) == loaded  # cached for the life of the process


def test_load_stops_at_a_bad_file(tmp_path):
    (tmp_path / "good.rq").write_text(_header() + ASK, encoding="utf-8")
    (tmp_path / "zz-bad.rq").write_text(_header() + "#+ colour: red\n" + ASK, encoding="utf-8")
    with pytest.raises(StoredQueryError, match=r"zz-bad\.rq, line 5: unknown key 'colour'"):
        load_stored_queries(tmp_path)


def test_the_projects_queries_all_load_and_are_valid_sparql():
    queries = load_stored_queries(QUERIES_DIR)
    assert len(queries) >= 2
    store = ox.Store()
    for query in queries:
        assert query.summary and query.summary_zh and query.description and query.tags
        if not query.federated:
            store.query(query.bound_text("https://w3id.org/govkg/"))  # raises SyntaxError if invalid
