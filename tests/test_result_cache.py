"""Repeated queries are answered from the per-worker result cache, never with stale data."""

from __future__ import annotations

import requests

from tests.conftest import start_server, stop_server

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _ask(server, query: str, accept: str = "application/sparql-results+json", method: str = "GET"):
    headers = {"Accept": accept}
    if method == "GET":
        return requests.get(server.sparql_url, params={"query": query}, headers=headers, timeout=30)
    headers["Content-Type"] = "application/sparql-query"
    return requests.post(server.sparql_url, data=query.encode(), headers=headers, timeout=30)


def test_the_same_query_is_answered_from_the_cache(live_server):
    # The shared server has one web worker, so the second request meets the cache the first one
    # filled; the query text (the cache's key) is this test's own.
    server = live_server
    query = COUNT + " # test_result_cache: the same query"
    first = _ask(server, query)
    second = _ask(server, query)
    by_post = _ask(server, query, method="POST")
    assert first.headers["X-Govkg-Cache"] == "miss"
    assert second.headers["X-Govkg-Cache"] == "hit"
    assert by_post.headers["X-Govkg-Cache"] == "hit"
    assert first.content == second.content == by_post.content
    assert second.headers["ETag"] == first.headers["ETag"]
    # Another format, or another row limit, is another answer.
    assert _ask(server, query, accept="text/csv").headers["X-Govkg-Cache"] == "miss"
    # An answer that can change on the same data is never cached.
    volatile = "SELECT (RAND() AS ?r) WHERE {}"
    assert _ask(server, volatile).headers["X-Govkg-Cache"] == "none"
    assert _ask(server, volatile).headers["X-Govkg-Cache"] == "none"


def test_a_new_dataset_version_never_gets_an_old_answer(tmp_path):
    data = tmp_path / "extra.nt"
    data.write_text('<urn:x:a> <urn:x:p> "one" .\n', encoding="utf-8")
    query = "SELECT ?o WHERE { <urn:x:a> <urn:x:p> ?o }"
    server = start_server(tmp_path, "--workers", "1", "--data", str(data))
    try:
        assert _ask(server, query).json()["results"]["bindings"][0]["o"]["value"] == "one"
        assert _ask(server, query).headers["X-Govkg-Cache"] == "hit"
        old_etag = _ask(server, query).headers["ETag"]
    finally:
        stop_server(server)
    data.write_text('<urn:x:a> <urn:x:p> "two" .\n', encoding="utf-8")
    server = start_server(tmp_path, "--workers", "1", "--data", str(data))
    try:
        answer = requests.get(
            server.sparql_url,
            params={"query": query},
            headers={"Accept": "application/sparql-results+json", "If-None-Match": old_etag},
            timeout=30,
        )
        assert answer.status_code == 200
        assert answer.json()["results"]["bindings"][0]["o"]["value"] == "two"
    finally:
        stop_server(server)


def test_the_cache_can_be_switched_off(tmp_path):
    server = start_server(tmp_path, "--result-cache-bytes", "0")
    try:
        assert _ask(server, COUNT).headers["X-Govkg-Cache"] == "miss"
        assert _ask(server, COUNT).headers["X-Govkg-Cache"] == "miss"
    finally:
        stop_server(server)
