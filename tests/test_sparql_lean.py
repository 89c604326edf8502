"""The common /sparql POST is answered before Flask (govkg.web.sparql_lean), exactly as Flask answers it.

A form POST with only ``query`` takes the lean path; the same query sent as
``application/sparql-query`` always goes through the Flask view. Both answers must carry the
same status, headers and body, over real HTTP, for every query form, format and encoding, and
for queries refused by the checks, by negotiation or by the engine while they run. The access
log, written without logging's records, keeps gunicorn's combined format, and the operation
form is read from a recent prologue exactly where the lexer's expression reads it.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from govkg.sparql import lexer
from govkg.web.sparql_lean import LeanSparql

TIMEOUT = 10
#: Headers that differ between any two answers (the clock), or by the result cache's state.
_UNCOMPARED = {"date", "x-govkg-cache"}

QUERIES = [
    # no blank nodes in the answers: their labels differ from one evaluation to the next
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER isIRI(?s) } "
    "ORDER BY ?s ?l LIMIT 200",
    "SELECT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) } ORDER BY ?s LIMIT 2",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER (isIRI(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o LIMIT 40",
    "SELECT * WHERE { ?s ?p ",  # malformed: refused by the engine, while it runs
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",  # refused by the checks: read-only
]
ACCEPTS = [None, "application/sparql-results+xml", "text/csv", "text/turtle", "application/n-triples"]


def _compared(response: requests.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {name.lower(): value for name, value in response.headers.items()}
    return (
        response.status_code,
        {name: value for name, value in headers.items() if name not in _UNCOMPARED},
        response.content,
    )


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_lean_answer_is_the_flask_answer(live_server, query, accept, encoding):
    headers = {"Accept-Encoding": encoding or "identity"}
    if accept:
        headers["Accept"] = accept
    lean = requests.post(live_server.sparql_url, data={"query": query}, headers=headers, timeout=TIMEOUT)
    flask = requests.post(
        live_server.sparql_url,
        data=query.encode(),
        headers={**headers, "Content-Type": "application/sparql-query"},
        timeout=TIMEOUT,
    )
    assert _compared(lean) == _compared(flask)
    assert lean.status_code in (200, 400, 403, 406)


def test_the_app_answers_sparql_through_the_lean_path(app):
    assert isinstance(app.wsgi_app, LeanSparql)
    answer = app.test_client().post("/sparql", data={"query": "ASK {}"})
    assert answer.status_code == 200 and answer.json == {"head": {}, "boolean": True}


def test_access_log_line_is_gunicorns_combined_format(live_server):
    headers = {"Referer": "http://referer.example/a", "User-Agent": 'agent/1 "quoted"'}
    query = {"query": "ASK {}"}
    response = requests.post(live_server.sparql_url, data=query, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200
    line = re.compile(
        r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "POST /sparql HTTP/1\.1" '
        rf'200 {len(response.content)} "http://referer\.example/a" "agent/1 \\"quoted\\""$'
    )
    deadline = time.monotonic() + TIMEOUT
    while not any(line.match(entry) for entry in live_server.log().splitlines()):
        assert time.monotonic() < deadline, live_server.log()[-2000:]
        time.sleep(0.05)


def test_recent_prologues_end_where_the_expression_ends():
    prologues = [
        "",
        "PREFIX e: <http://e/> ",
        "PREFIX e: <http://e/>\n# note\n",
        "BASE <http://b/> PREFIX : <x#>\n",
    ]
    bodies = [
        "SELECT * {}",
        "ASK {}",
        " select * {}",
        "PREFIX f: <f> ASK {}",
        "# c\nDESCRIBE <a>",
        "BASEX",
        "{}",
    ]
    texts = [prologue + body for body in bodies for prologue in prologues]
    for text in texts + texts[::-1] + texts:
        assert lexer._prologue_end(text) == lexer._PROLOGUE_END.match(text).end(), text
