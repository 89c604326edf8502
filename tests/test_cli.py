"""The govkg command: dump round-trips in every format, query prints tables and results."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pyoxigraph as ox
import pytest
import rdflib
from govkg.cli import main
from govkg.rdf.formats import RDF_FORMATS
from govkg.store.opening import open_knowledge_graph

from tests.conftest import free_port

RESULTS_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def loaded():
    return open_knowledge_graph("https://w3id.org/govkg/")


def _canonical(quads, keep_graphs: bool) -> set[str]:
    if not keep_graphs:
        quads = {ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads}
    # Through a Store, as the loader reads them: Oxigraph keeps numbers in their canonical
    # form, and Turtle's decimal shorthand writes "90"^^xsd:decimal as 90.0 (same value).
    store = ox.Store()
    store.extend(quads)
    dataset = ox.Dataset(store.quads_for_pattern(None, None, None))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(quad) for quad in dataset}


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda fmt: fmt.name)
def test_dump_round_trips_in_every_format(runner, tmp_path, loaded, fmt):
    output = tmp_path / f"dump.{fmt.extension}"
    result = runner.invoke(main, ["dump", "--format", fmt.name, "-o", str(output)])
    assert result.exit_code == 0, result.output
    expected = list(loaded.store.quads_for_pattern(None, None, None))
    if fmt.name in ("jsonld", "rdfxml"):
        # Parsed back with rdflib, the other toolkit, and compared as graphs: rdflib's triples,
        # written as N-Triples, canonicalized (RDFC-1.0) as the store's are. (rdflib's own
        # isomorphism test took 15-20 s on this graph's 900 blank-node triples; RDFC-1.0 decides
        # the same question in well under a second.)
        parsed = rdflib.Graph().parse(output, format=fmt.rdflib_name)
        triples = list(
            ox.parse(parsed.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
        )
        assert len(triples) == len({q.triple for q in expected})
        reparsed = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        assert _canonical(reparsed, keep_graphs=False) == _canonical(expected, keep_graphs=False)
    else:
        parsed = list(ox.parse(path=str(output), format=fmt.oxigraph))
        if not fmt.carries_graphs:
            parsed = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in parsed]
        assert _canonical(parsed, fmt.carries_graphs) == _canonical(expected, fmt.carries_graphs)


def test_turtle_dump_is_deterministic_and_pretty(runner):
    first = runner.invoke(main, ["dump"]).stdout_bytes
    second = runner.invoke(main, ["dump"]).stdout_bytes
    assert first == second
    text = first.decode("utf-8")
    assert text.startswith("PREFIX ")
    assert "\n    a " in text or "\n    a\n" in text  # one subject a block, predicates indented


def test_query_prints_a_table(runner):
    result = runner.invoke(main, ["query", "-"], input="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].strip() == "n"
    assert int(lines[2]) > 0
    assert lines[-1] == "(1 row)"


@pytest.mark.parametrize(
    ("format_name", "check"),
    [
        ("json", lambda out: json.loads(out)["results"]["bindings"][0]["n"]["datatype"].endswith("#integer")),
        ("xml", lambda out: "<sparql" in out),
        ("csv", lambda out: out.splitlines()[0] == "n"),
        ("tsv", lambda out: out.splitlines()[0] == "?n"),
    ],
)
def test_query_writes_results_formats(runner, format_name, check):
    result = runner.invoke(
        main, ["query", "-", "--format", format_name], input="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    )
    assert result.exit_code == 0, result.output
    assert check(result.output)


def test_query_reports_a_bad_query_as_the_endpoint_does(runner, client):
    """One executor: the CLI's message is /sparql's (the position, then the line with a caret)."""
    query = "SELECT ?x WHERE { ?x }"
    result = runner.invoke(main, ["query", "-"], input=query)
    assert result.exit_code == 1
    assert result.output.startswith("Error: Malformed query:")
    assert "(line 1, column 23)" in result.output.splitlines()[0]
    assert "Traceback" not in result.output
    endpoint = client.get("/sparql", query_string={"query": query}, headers={"Accept": RESULTS_JSON})
    assert endpoint.status_code == 400
    assert result.output.removeprefix("Error: ") == endpoint.get_data(as_text=True)  # the error body is text


DATASET_QUERIES = [
    # The example: FROM names one graph, which alone is the default graph.
    "SELECT (COUNT(*) AS ?n) FROM <{base}graph/ontology> WHERE { ?s ?p ?o }",
    "SELECT (COUNT(*) AS ?n) FROM <{base}graph/links> WHERE { ?s ?p ?o }",
    "SELECT (COUNT(*) AS ?n) FROM NAMED <{base}graph/facts> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT (COUNT(*) AS ?n) FROM <urn:x-govkg:no-such-graph> WHERE { ?s ?p ?o }",
    # The union default graph (the metadata graph aside: the server's also holds its service description).
    "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/ns/prov#wasDerivedFrom> ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER (?g != <{base}graph/metadata>) }"
    " GROUP BY ?g ORDER BY ?g",
    "ASK FROM <{base}graph/ontology> { ?s a <http://www.w3.org/ns/org#Organization> }",
]


@pytest.mark.parametrize("query", DATASET_QUERIES)
def test_query_and_the_endpoint_give_the_same_answer(runner, app, client, query):
    """One executor: the same dataset semantics (FROM, FROM NAMED, the union default graph)."""
    base_iri = app.config["BASE_IRI"]
    query = query.replace("{base}", base_iri)
    result = runner.invoke(main, ["query", "-", "--format", "json", "--base-iri", base_iri], input=query)
    assert result.exit_code == 0, result.output
    endpoint = client.get("/sparql", query_string={"query": query}, headers={"Accept": RESULTS_JSON})
    assert endpoint.status_code == 200
    assert json.loads(result.output) == endpoint.get_json()


@pytest.mark.parametrize(
    "arguments",
    [
        ["dump", "-o", "{missing}/x.ttl"],
        ["query", "-", "-o", "{missing}/answer.txt"],
    ],
    ids=["dump", "query"],
)
def test_an_output_that_cannot_be_written_is_one_error_line(runner, tmp_path, arguments):
    missing = tmp_path / "no-such-folder"
    arguments = [argument.replace("{missing}", str(missing)) for argument in arguments]
    result = runner.invoke(main, arguments, input="ASK {}")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write {missing}")
    assert len(result.output.strip().splitlines()) == 1
    assert not isinstance(result.exception, OSError) and "Traceback" not in result.output


def test_a_bad_option_value_names_the_option(runner):
    result = runner.invoke(main, ["serve", "--port", "abc"])
    assert result.exit_code == 2
    assert "Invalid value for '--port': expected a whole number, got 'abc'" in result.output
    assert "invalid literal" not in result.output


def _serve(port: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``govkg serve --port PORT`` as a real process that is expected to stop on its own."""
    command = [sys.executable, "-m", "govkg", "serve", "--port", str(port)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_serve_on_a_port_in_use_says_so_and_claims_nothing():
    """A second server on a taken port: one line, nothing saying it serves (a real process)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _serve(port)
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "serving on" not in completed.stdout


def test_a_temporary_folder_too_deep_for_the_query_socket_is_one_line_with_the_fix(tmp_path):
    """The query processes listen on a unix socket in TMPDIR, whose path the kernel bounds: a
    deep TMPDIR is said in one line that names the fix, and leaves nothing behind in it."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    completed = _serve(free_port(), env={**os.environ, "TMPDIR": str(deep)})
    assert completed.returncode == 1
    (error,) = [line for line in completed.stderr.splitlines() if line.startswith("Error")]
    assert error.endswith("longer than a unix socket allows (107 bytes): set TMPDIR to a shorter folder")
    assert "Traceback" not in completed.stderr
    assert "serving on" not in completed.stdout  # said only once it listens
    assert not any(deep.iterdir())


def test_validate_errors_are_worded_like_the_other_commands(runner, tmp_path):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "broken.ttl").write_text("this is not turtle .\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", "--data-dir", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["serve", "--store", "{file}"], "is a file, not a store folder"),
        (["serve", "--store", "{tmp}/typo"], "no store here; check the path, or add --create"),
        (["serve-public", "--store", "{file}"], "is a file, not a store folder"),
        (["serve-public", "--store", "{tmp}/typo"], "no store here; check the path, or add --create"),
        (["load", "{file}", "--store", "{file}"], "is a file, not a store folder"),
        (
            ["load", "{file}", "--store", "/proc/govkg-store"],
            "cannot make the store folder /proc/govkg-store",
        ),
        (["load", "{file}", "--store", "{tmp}"], "is a folder with other files in it"),
        (["load", "{tmp}/missing.nt", "--store", "{tmp}/new"], "missing.nt: No such file or directory"),
        (["dump", "--base-iri", "http://x y/"], "base IRI must be an http(s) IRI with a host and no space"),
        (["query", "{latin1}"], "not UTF-8 text (byte 0xe9 at offset 8); save the query as UTF-8"),
        (["serve", "--base-iri", "http://x y/"], "base IRI must be an http(s) IRI with a host and no space"),
    ],
    ids=[
        "serve-file",
        "serve-typo",
        "serve-public-file",
        "serve-public-typo",
        "load-file",
        "load-unmakeable",
        "load-busy-folder",
        "load-missing",
        "base-iri",
        "not-utf8",
        "serve-base-iri",
    ],
)
def test_user_input_errors_are_one_line_with_the_fix(runner, tmp_path, arguments, message):
    """No traceback for what a user types: one ``Error:`` line that says what to do."""
    (tmp_path / "data.nt").write_text("<urn:a> <urn:b> <urn:c> .\n", encoding="utf-8")
    (tmp_path / "latin1.rq").write_bytes('SELECT "é" {}'.encode("latin-1"))
    values = {
        "{file}": str(tmp_path / "data.nt"),
        "{tmp}": str(tmp_path),
        "{latin1}": str(tmp_path / "latin1.rq"),
    }
    for placeholder, value in values.items():
        arguments = [argument.replace(placeholder, value) for argument in arguments]
    result = runner.invoke(main, arguments)
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.output
    if result.exit_code == 1:  # not a usage error: no usage text either
        assert result.output.strip() == error_lines[0]
    assert not (tmp_path / "typo").exists()  # a mistyped store path is not made


def test_a_store_folder_is_made_only_when_asked(tmp_path):
    from govkg.store.persistent import StoreError, check_store_folder

    with pytest.raises(StoreError, match="add --create"):
        check_store_folder(tmp_path / "new", create=False)
    check_store_folder(tmp_path / "new", create=True)
    assert (tmp_path / "new").is_dir()


def test_a_base_iri_that_moves_the_gov_namespace_is_said(runner, tmp_path):
    result = runner.invoke(main, ["dump", "--base-iri", "http://127.0.0.1:9/", "-o", str(tmp_path / "g.ttl")])
    assert result.exit_code == 0, result.output
    assert "gov: terms are http://127.0.0.1:9/ontology#" in result.output
