"""Safety of /sparql, over real HTTP: no file or network access, no writes, SERVICE allowlist,
time limit with stopped work, row limit, query threads, fork safety.

"No connection was made" is checked with a real TCP listener on 127.0.0.1 that counts
connections; each such test also shows that the listener does count one.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from govkg.rdf.serialize import project_prefixes
from govkg.sparql import outbound_guard
from govkg.sparql.runner import QueryJob, execute_query
from govkg.sparql.service_check import QueryTextRefused, apply_codepoint_escapes, refused_calls, service_calls
from govkg.web.store import EXTENSION_KEY, loaded_graph

from tests.conftest import (
    LiveServer,
    child_pids,
    eventually,
    free_port,
    query_process_pids,
    start_server,
    stop_server,
    web_worker_pids,
)
from tests.stores import start_oxigraph_store, stop_store

TIMEOUT = 10
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


class Listener:
    """A TCP server on 127.0.0.1 that accepts and closes connections, counting them."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections = 0
        self._controls: set[tuple[str, int]] = set()  # the local addresses of the barrier's connections
        self._accepted_controls: set[tuple[str, int]] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, peer = self.socket.accept()
            except OSError:
                return
            if peer in self._controls:
                self._accepted_controls.add(peer)
            else:
                self.connections += 1
            connection.close()

    def barrier(self) -> None:
        """Return once every connection made before this call has been counted.

        The kernel queues a listening socket's connections in the order they were made (on the
        loopback, a ``connect`` returns once the handshake is done), and the accept loop takes them
        in that order: when it has taken a control connection made now, it has counted every
        connection made before. The control itself is not counted.
        """
        control = socket.socket()
        control.bind(("127.0.0.1", 0))
        address = control.getsockname()
        self._controls.add(address)
        with control:
            control.settimeout(2)
            control.connect(("127.0.0.1", self.port))
        deadline = time.monotonic() + 5
        while address not in self._accepted_controls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert address in self._accepted_controls, "the listener accepts no connection"

    def assert_no_connection(self) -> None:
        self.barrier()
        assert self.connections == 0

    def close(self) -> None:
        self.socket.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def _get(server: LiveServer, query: str, **params) -> requests.Response:  # noqa: ANN003
    return requests.get(server.sparql_url, params={"query": query, **params}, timeout=TIMEOUT)


def _rows(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def _store_state(server: LiveServer) -> tuple[int, list[dict]]:
    quads = requests.get(server.url + "readyz", timeout=TIMEOUT).json()["quads"]
    graphs = _rows(_get(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"))
    return quads, graphs


# --- no file access, no fetching ----------------------------------------------------------------


def test_from_a_local_file_reads_nothing(live_server, tmp_path):
    secret = tmp_path / "secret.ttl"
    secret.write_text('<urn:x:secret> <urn:x:p> "leaked" .\n', encoding="utf-8")
    before = _store_state(live_server)
    for iri in (secret.as_uri(), "file:///etc/passwd"):
        assert _rows(_get(live_server, f"SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}")) == []
        assert (
            _rows(_get(live_server, f"SELECT * FROM NAMED <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")) == []
        )
        assert _rows(_get(live_server, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": iri})) == []
        assert _rows(_get(live_server, f"SELECT * WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")) == []
    assert _get(live_server, 'ASK { ?s ?p "leaked" }').json()["boolean"] is False
    assert _store_state(live_server) == before


def test_from_an_http_iri_makes_no_connection(live_server, listener):
    url = listener.url
    for query, params in (
        (f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", {}),
        (f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
        ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": url}),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": url}),
        (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}", {}),
        (f"DESCRIBE <{url}>", {}),
    ):
        response = _get(live_server, query, **params)
        assert response.status_code == 200
        assert "leaked" not in response.text
    listener.assert_no_connection()


# --- SERVICE allowlist ------------------------------------------------------------------------------


def _service_variants(url: str) -> list[str]:
    """SERVICE calls written every way the parser accepts, each to ``url``."""
    host = url.removesuffix("/")
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT*{{SERVICESILENT<{url}>{{?s ?p ?o}}}}",
        f"PREFIX remote: <{host}/> SELECT * WHERE {{ SERVICE remote:sparql {{ ?s ?p ?o }} }}",
        f"PREFIX : <{host}/> SELECT * WHERE {{ SERVICE:sparql{{ ?s ?p ?o }} }}",
        f"BASE <{host}/x/> SELECT * WHERE {{ SERVICE <../sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <{host}/\\u0073parql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE # a comment\n <{url}> # another\n {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?endpoint {{ <{url}> }} SERVICE ?endpoint {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE SILENT ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f'SELECT * WHERE {{ ?s ?p "SERVICE" . SERVICE <{url}> {{ ?s ?p ?o }} }}',
    ]


def test_service_off_the_allowlist_is_refused_before_any_connection(live_server, listener):
    for query in _service_variants(listener.url + "sparql"):
        response = _get(live_server, query)
        assert response.status_code == 400, query
        assert "not allowed" in response.text
        assert "127.0.0.1" not in response.text.replace(listener.url, "")  # the allowlist is not shown
    for method in ("POST-form", "POST-direct"):
        query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
        if method == "POST-form":
            response = requests.post(live_server.sparql_url, data={"query": query}, timeout=TIMEOUT)
        else:
            headers = {"Content-Type": "application/sparql-query"}
            response = requests.post(live_server.sparql_url, data=query.encode(), headers=headers, timeout=5)
        assert response.status_code == 400
    listener.assert_no_connection()


def test_the_word_service_elsewhere_is_not_refused(live_server):
    for query in (
        "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
        "SELECT * WHERE { ?s <http://purl.org/vocab/cpsv#PublicService> ?o } LIMIT 1",
        "PREFIX service: <http://example.org/service#> SELECT * WHERE { ?s service:x ?o } LIMIT 1",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # a comment about a service",
    ):
        assert _get(live_server, query).status_code == 200, query


def test_a_call_shape_anywhere_counts_as_a_call(live_server):
    """A place shaped like a call is checked as one, even where the engine reads no call."""
    for query in (
        'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/> { }" } LIMIT 1',
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # SERVICE <http://127.0.0.1:9/> { }",
    ):
        response = _get(live_server, query)
        assert response.status_code == 400, query
        assert "shaped like a SERVICE call" in response.text


def test_every_connection_the_engine_attempts_was_refused_by_the_check(listener):
    """Differential test: whenever pyoxigraph itself tries to connect, the check had refused the query.

    Queries are built from every way of writing a SERVICE call, then randomly mutated; each
    runs in-process in pyoxigraph, with the outbound guard installed and nothing allowed, so
    the guard counts every connection the engine attempts (and none is made).
    """
    outbound_guard.install()
    base = listener.url
    prologue = f"PREFIX ex: <{base}> PREFIX : <{base}> BASE <{base}> "
    keywords = ["SERVICE", "service", "\\u0053ERVICE", "SERVICE SILENT", "SERVICESILENT", "SERVICE\tsilent\n"]
    before = ["", "}", "a1", ".", "ex:a.", "true", "?s ?p 1", "'x'", "<urn:x>", "\n#c\n", "FILTER(1<2)"]
    targets = [f"<{base}q>", "<q>", "ex:q", ":q", f"<{base}\\u0071>", "ex:", "?v", ":#>\n"]
    separators = ["", "#c\n"]
    rng = random.Random(20240607)
    queries = []
    for keyword in keywords:
        for prefix in before:
            for target, separator in itertools.product(targets, separators):
                body = f"?s ?p ?o . {prefix}{keyword}{separator}{target}{separator}{{ ?a ?b ?c }}"
                queries.append(f"{prologue}SELECT * WHERE {{ VALUES ?v {{ <{base}v> }} {body} }}")
    noise = ["SERVICE", " SILENT ", f"<{base}>", "ex:", "{", "}", "#", '"', "\\", "\n", ":", "?", "<", ">"]
    for query in list(queries):
        chars = list(query)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[position]
            else:
                chars.insert(position, rng.choice(noise))
        queries.append("".join(chars))
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o"), ox.DefaultGraph()))
    bypasses, attempting = [], 0
    for query in queries:
        text = query  # what the engine is handed: the text with its escapes applied, if it may run
        try:
            text = apply_codepoint_escapes(query)
            refused = bool(refused_calls(service_calls(text, "http://endpoint.invalid/sparql"), []))
        except QueryTextRefused:
            refused = True
        before_count = outbound_guard.refused_count()
        try:
            list(store.query(text, base_iri="http://endpoint.invalid/sparql"))
        except (SyntaxError, OSError, RuntimeError):
            pass
        if outbound_guard.refused_count() > before_count:
            attempting += 1
            if not refused:
                bypasses.append(query)
    assert bypasses == []
    assert attempting > 50  # the corpus does exercise real SERVICE calls
    listener.assert_no_connection()


# --- SERVICE: the attacks of issue 17 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def allowed_host() -> Iterator[Listener]:
    """The host and port of the allowed endpoint: a listener that counts every connection the engine makes."""
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def path_guarded_server(
    tmp_path_factory: pytest.TempPathFactory, allowed_host: Listener
) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("path-guarded"), "--service-allowlist", allowed_host.url + "sparql"
    )
    yield server
    stop_server(server)


def _attempts(allowed_host: Listener, send) -> tuple[requests.Response, int]:  # noqa: ANN001
    """The answer to ``send()`` and how many connections reached the allowed host meanwhile."""
    before = allowed_host.connections
    response = send()
    allowed_host.barrier()
    return response, allowed_host.connections - before


def test_escapes_cannot_hide_another_path_of_the_allowed_host(path_guarded_server, allowed_host):
    """Issue 17, item 1: with ``\\u0022`` (or ``\\u0027``) inside strings, the old check read
    ``SERVICE <allowed>`` and the engine ``SERVICE <another path of the same host>``, which the
    outbound guard (by host and port) let through. Now the escapes are applied first, the check
    reads that text, and the engine is given the same text."""
    allowed, secret = allowed_host.url + "sparql", allowed_host.url + "admin/secret?x=1"
    queries = [f"ASK {{ SERVICE <{secret}> {{ }} }}"]  # the plain path: the guard alone would let it connect
    for quote, escape in (('"', "\\u0022"), ("'", "\\u0027")):
        queries.append(
            f"SELECT * {{ ?s ?p {quote}A{escape} . SERVICE <{allowed}> \\u007B \\u007D ?a ?b {quote} "
            f"SERVICE <{secret}> {{ }} ?q ?r {quote} . ?c ?d {escape} x{quote} . }}"
        )
    for query in queries:
        response, connections = _attempts(allowed_host, lambda q=query: _get(path_guarded_server, q))
        assert response.status_code == 400, response.text
        assert f"SERVICE <{secret}> is not allowed" in response.text
        assert connections == 0
    # The control: the allowed endpoint itself is called (the listener hangs up: 502).
    response, connections = _attempts(
        allowed_host, lambda: _get(path_guarded_server, f"ASK {{ SERVICE <{allowed}> {{ }} }}")
    )
    assert (response.status_code, connections) == (502, 1)


def test_the_engine_is_given_the_text_the_check_read(live_server):
    """Escapes are applied once, to the whole text (SPARQL 1.1 §19.2), before the engine sees it."""
    rows = _rows(_get(live_server, 'SELECT ?city WHERE { BIND("\\u8087\\u5E86" AS ?city) }'))
    assert rows == [{"city": {"type": "literal", "value": "肇庆"}}]
    # \\u0022 is a quote wherever it is: here it ends the string, as the check reads it.
    response = _get(live_server, 'SELECT ?x WHERE { BIND("a\\u0022b" AS ?x) }')
    assert response.status_code == 400 and "Malformed query" in response.text
    for query, reason in (
        ('ASK { ?s ?p "\\uD800" }', "not a Unicode character"),
        ("ASK { ?s ?p '\\u005Cu0041' }", "make another one"),
    ):
        response = _get(live_server, query)
        assert response.status_code == 400 and reason in response.text, response.text


def test_hostile_service_queries_get_400_or_run_never_500(path_guarded_server, allowed_host):
    """Issue 17, item 2: nesting, a 3,000-pattern group and 32 concurrent checks answered 500
    (a RecursionError in rdflib's grammar, pyparsing's shared parse actions broken for good)."""
    allowed, other = allowed_host.url + "sparql", "http://127.0.0.1:9/sparql"
    nested = "ASK{" + f"SERVICE<{allowed}>{{" * 2 + "{" * 40 + "}" * 42 + "}"
    patterns = " ".join(f"?s <urn:p> ?o{i} ." for i in range(3000))
    group = f"SELECT * {{ SERVICE <{allowed}> {{ {patterns} }} }}"
    refused = "ASK{" + f"SERVICE<{other}>{{" * 20 + "}" * 21
    for query, expected in ((nested, 502), (group, 502), (refused, 400)):
        response = requests.post(path_guarded_server.sparql_url, data={"query": query}, timeout=30)
        assert response.status_code == expected, (len(query), response.text[:300])
    queries = [refused, f"ASK {{ SERVICE <{allowed}> {{ }} }}"] * 16
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda q: _get(path_guarded_server, q), queries))
    statuses = [answer.status_code for answer in answers]
    # 503: past the worker's queue of query processes (admission control), at once, never a 500.
    assert {400, 502} <= set(statuses) <= {400, 502, 503}
    assert all("busy" in answer.text for answer in answers if answer.status_code == 503)
    assert _get(path_guarded_server, refused).status_code == 400  # and still so afterwards
    log = path_guarded_server.log()
    assert "Traceback" not in log and "RecursionError" not in log


def test_one_line_federated_queries_with_fragment_iris_pass(federating_server, remote_endpoint):
    """Issue 17, item 3: ``<…rdf-schema#label>`` on the line of a SERVICE call was read as a comment."""
    resource = "urn:x:one-line"
    stored = requests.post(
        f"{remote_endpoint}/store?default",
        data=f'<{resource}> <{RDFS_LABEL}> "on one line" .\n'.encode(),
        headers={"Content-Type": "text/turtle"},
        timeout=TIMEOUT,
    )
    assert stored.ok
    for query in (
        f"SELECT ?l WHERE {{ SERVICE <{remote_endpoint}/query> {{ <{resource}> <{RDFS_LABEL}> ?l }} }}",
        f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?l WHERE {{ "
        f"SERVICE <{remote_endpoint}/query> {{ <{resource}> rdfs:label ?l }} }}",
        f"SELECT ?l WHERE {{ ?x <{RDFS_LABEL}> ?y SERVICE <{remote_endpoint}/query> "
        f"{{ <{resource}> <{RDFS_LABEL}> ?l }} }} LIMIT 1",
    ):
        assert _rows(_get(federating_server, query)) == [{"l": {"type": "literal", "value": "on one line"}}]


def test_without_the_outbound_guard_an_empty_allowlist_still_starts(tmp_path):
    """Issue 17, item 16: on macOS the guard cannot be installed, and its errors stopped
    ``create_app`` even with an empty allowlist. The server here is told it runs on macOS
    (``sys.platform``, once the standard library has read the truth), and the guard takes the
    branch a Mac takes."""
    site = tmp_path / "site"
    site.mkdir()
    # The modules that read sys.platform when they are imported read the truth first.
    first = "import sys, urllib.request, govkg.cli, govkg.web.serving\n"
    (site / "sitecustomize.py").write_text(first + 'sys.platform = "darwin"\n', encoding="utf-8")
    on_macos = {"PYTHONPATH": str(site)}
    server = start_server(tmp_path, env=on_macos)
    try:
        assert _get(server, "ASK { ?s ?p ?o }").json()["boolean"] is True
        response = _get(server, "ASK { SERVICE <http://127.0.0.1:9/sparql> { } }")
        assert response.status_code == 400 and "is not allowed" in response.text
        assert "Outbound guard unavailable" in server.log() and "darwin" in server.log()
    finally:
        stop_server(server)
    # With an allowlist it does not start: one line says why, no traceback.
    command = ["serve", "--port", str(free_port()), "--service-allowlist", "http://127.0.0.1:9/sparql"]
    result = subprocess.run(
        [sys.executable, "-m", "govkg", *command],
        env={**os.environ, **on_macos},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "needs the outbound guard" in result.stderr and "Traceback" not in result.stderr


# --- read-only ------------------------------------------------------------------------------------------


def test_updates_are_refused_and_nothing_changes(live_server, tmp_path):
    loadable = tmp_path / "data.ttl"
    loadable.write_text('<urn:x:new> <urn:x:p> "inserted" .\n', encoding="utf-8")
    before = _store_state(live_server)
    updates = [
        'INSERT DATA { <urn:x:new> <urn:x:p> "inserted" }',
        'PREFIX x: <urn:x:> INSERT DATA { GRAPH x:g { x:new x:p "inserted" } }',
        "DELETE WHERE { ?s ?p ?o }",
        f"LOAD <{loadable.as_uri()}>",
        "CLEAR ALL",
        "DROP ALL",
        'WITH <urn:x:g> INSERT { <urn:x:new> <urn:x:p> "inserted" } WHERE {}',
    ]
    url = live_server.sparql_url
    for update in updates:
        for response in (
            requests.get(url, params={"update": update}, timeout=TIMEOUT),
            requests.post(url, data={"update": update}, timeout=TIMEOUT),
            requests.post(
                url, data=update.encode(), headers={"Content-Type": "application/sparql-update"}, timeout=5
            ),
            requests.post(url, data={"query": update}, timeout=TIMEOUT),
        ):
            assert response.status_code == 403, (update, response.text)
    assert _get(live_server, 'ASK { ?s ?p "inserted" }').json()["boolean"] is False
    assert _store_state(live_server) == before


# --- limits: time, rows, size ---------------------------------------------------------------------------

DIGITS = " ".join(str(digit) for digit in range(10))
# 10^10 solutions to count, whatever the data: minutes of CPU.
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {{ {DIGITS} }}" for i in range(10)) + " }"
)


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("limited"),
        "--query-timeout",
        "2",
        "--max-result-rows",
        "5",
        "--max-query-bytes",
        "2000",
        "--query-workers",
        "2",
    )
    yield server
    stop_server(server)


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(server: LiveServer) -> float:
    """CPU time of the server's web workers and query processes, live ones."""
    return _cpu_seconds(sorted(child_pids(server.process.pid) | query_process_pids(server)))


def _burning(server: LiveServer) -> list[int]:
    """The server's query processes that have burnt CPU (running a query, not waiting for one)."""
    return [pid for pid in query_process_pids(server) if _cpu_seconds([pid]) > 0.05]


def _settled(server: LiveServer, within: float = 10) -> bool:
    """Wait until the server's processes burn no CPU over 0.1 s (whatever they were running is done)."""
    readings = [_tree_cpu_seconds(server)]

    def idle() -> bool:
        readings.append(_tree_cpu_seconds(server))
        return readings[-1] - readings[-2] <= 0.01  # one clock tick

    return eventually(idle, within=within, interval=0.1)


@pytest.mark.solo
@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(),
    reason=("needs Linux /proc/self/stat: that a runaway query starves no other is left untested"),
)
def test_runaway_query_is_stopped_while_others_are_served(limited_server):
    """The client gets 503 at the limit; the kernel ends the query process 1 s later; no web
    worker is retired or forked, and the other client was served meanwhile."""
    _get(limited_server, "ASK {}")
    (worker,) = web_worker_pids(limited_server.process.pid)
    outcome: dict = {}

    def runaway() -> None:
        started = time.monotonic()
        response = _get(limited_server, RUNAWAY)
        outcome["elapsed"] = time.monotonic() - started
        outcome["response"] = response

    thread = threading.Thread(target=runaway)
    thread.start()
    burning: list[int] = []

    def started() -> bool:
        burning[:] = _burning(limited_server)
        return bool(burning)

    eventually(started, within=2)
    (running,) = burning or [None]
    latencies = []
    while thread.is_alive():
        started = time.monotonic()
        assert _get(limited_server, "ASK { ?s ?p ?o }").json()["boolean"] is True
        latencies.append(time.monotonic() - started)
        time.sleep(0.1)
    thread.join()

    response = outcome["response"]
    assert response.status_code == 503
    assert "timed out" in response.text and "2 s" in response.text
    assert response.headers["Retry-After"]
    assert 2.0 <= outcome["elapsed"] < 2.0 + 2.5
    assert len(latencies) >= 5 and max(latencies) < 1.5  # the other client was served meanwhile
    assert running is not None, "the runaway's query process burnt no CPU"
    # The kernel ends the runaway's process at query_timeout + 1 s; nothing burns CPU after.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and running in query_process_pids(limited_server):
        time.sleep(0.05)
    assert running not in query_process_pids(limited_server)
    assert web_worker_pids(limited_server.process.pid) == {worker}  # no worker retired
    assert _get(limited_server, "ASK {}").status_code == 200
    assert _settled(limited_server)
    idle_start = _tree_cpu_seconds(limited_server)
    time.sleep(1.0)  # the window the idle server's CPU is measured over
    assert _tree_cpu_seconds(limited_server) - idle_start < 0.2


def test_a_forker_that_ends_is_forked_again(limited_server):
    """Killed with its query processes, the forker is forked again by the master on the same
    socket: queries are answered again within seconds (503 with Retry-After meanwhile)."""
    _get(limited_server, "ASK {}")
    workers = web_worker_pids(limited_server.process.pid)
    (forker,) = set(child_pids(limited_server.process.pid)) - workers
    for pid in query_process_pids(limited_server) | {forker}:
        os.kill(pid, signal.SIGKILL)
    statuses, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline and statuses[-1:] != [200]:
        response = _get(limited_server, f"ASK {{ ?s ?p {len(statuses)} }}")
        statuses.append(response.status_code)
        if response.status_code not in (200, 503):
            statuses.append(response.text[:200])  # what went wrong, shown in the failure message
        if response.status_code == 503:
            assert response.headers["Retry-After"]
        time.sleep(0.1)
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
    (again,) = set(child_pids(limited_server.process.pid)) - workers
    assert again != forker and web_worker_pids(limited_server.process.pid) == workers


def test_a_stop_of_the_whole_process_group_leaves_no_socket_folder(tmp_path):
    """A service manager stops a server with SIGTERM to its whole process group. The forker then
    leaves through its cleanup: no ``govkg-queries-*`` folder is left in the temporary directory
    (one was left per stop, as the forker died on SIGTERM's default action)."""
    # A folder of its own in the system's temporary directory: a unix socket's path must stay
    # short (108 bytes), and xdist's tmp_path is too deep for that.
    temporary = Path(tempfile.mkdtemp(prefix="govkg-test-"))
    server = start_server(tmp_path, env={"TMPDIR": str(temporary)})
    try:
        assert list(temporary.glob("govkg-queries-*/forker.sock"))  # the forker's socket is there
        os.killpg(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert eventually(lambda: not list(temporary.glob("govkg-queries-*")), within=5), list(
            temporary.iterdir()
        )
    finally:
        stop_server(server)
        shutil.rmtree(temporary, ignore_errors=True)


def test_a_short_client_timeout_costs_no_process(limited_server):
    """Issue 17, item 10: 38 cheap queries with timeout=0.001 get their 503 at once, but their
    query processes finish them and serve on: none is killed or forked, no worker either."""
    for _ in range(3):
        _get(limited_server, "ASK {}")
    worker = web_worker_pids(limited_server.process.pid)
    before = query_process_pids(limited_server)
    statuses = set()
    for number in range(38):
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} # {number}"
        response = requests.get(
            limited_server.sparql_url, params={"query": query, "timeout": "0.001"}, timeout=10
        )
        statuses.add(response.status_code)
        if response.status_code == 503:
            assert response.headers["Retry-After"]
    assert _settled(limited_server)  # the query processes have run the queued queries
    assert 503 in statuses
    after = query_process_pids(limited_server)
    assert before <= after and len(after) <= 2, (before, after)  # none ended; at most query_workers
    assert web_worker_pids(limited_server.process.pid) == worker
    assert _get(limited_server, "ASK {}").status_code == 200


@pytest.mark.solo
def test_a_short_client_timeout_on_a_long_query_frees_its_process_within_a_second(live_server):
    """A client's ``timeout`` costs at most the work it asked for: a query that would run for
    minutes, asked with ``timeout=0.5`` of a server whose limit is 10 s, is answered 503 at
    0.5 s, and its query process is ended a second later (it held a query process until the
    kernel's bound, 11 s, while its client was long gone); the next queries are answered."""
    _get(live_server, "ASK {}")
    started = time.monotonic()
    response = _get(live_server, RUNAWAY + " # short", timeout="0.5")
    answered = time.monotonic() - started
    assert response.status_code == 503 and "0.5 s" in response.text, response.text
    assert response.headers["Retry-After"]
    assert answered < 0.5 + 1.0, answered
    running = query_process_pids(live_server)  # the long query's among them
    # Its process is ended within 3 s (a second after the client's deadline, whatever the
    # machine's load), far before the kernel's bound at 11 s; no other process ends meanwhile.
    assert eventually(lambda: running - query_process_pids(live_server), within=3.0), "it still runs"
    assert len(running - query_process_pids(live_server)) == 1
    assert _get(live_server, "ASK { ?s ?p ?o }").json()["boolean"] is True


@pytest.fixture()
def one_place_queue_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose query queue holds one query (started in the fixture: a solo test's setup
    runs beside the other worker's tests, its call alone)."""
    server = start_server(tmp_path, "--query-timeout", "2", "--query-queue", "1")
    yield server
    stop_server(server)


@pytest.mark.solo
def test_a_full_queue_is_answered_503_with_retry_after_at_once(one_place_queue_server):
    """Issue 17, admission control: with both query processes busy and the queue (1) full, the
    next query is answered 503 with Retry-After at once; /healthz is answered throughout."""
    server = one_place_queue_server
    with ThreadPoolExecutor(3) as pool:
        long_ones = [pool.submit(_get, server, RUNAWAY + "#" * n) for n in range(3)]
        assert eventually(lambda: len(_burning(server)) == 2, within=5), "the query processes idle"
        started = time.monotonic()
        refused = _get(server, "ASK { ?s ?p ?o }")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "busy" in refused.text
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        assert requests.get(server.url + "healthz", timeout=2).status_code == 200
        assert time.monotonic() - started < 2.0
        assert {future.result().status_code for future in long_ones} == {503}


@pytest.mark.solo
def test_a_flood_of_long_queries_leaves_healthz_prompt_and_every_503_says_when(limited_server):
    """Issue 17, item 11, against ``govkg serve`` alone: 32 clients each send a query that would
    run for minutes (/healthz had taken 29 s, most 503s had no Retry-After). The worker runs 2,
    queues 4 and answers every other one 503 with Retry-After at once; /healthz answers within
    2 s throughout, and the long ones are answered 503 with Retry-After at the 2 s limit."""
    _get(limited_server, "ASK {}")
    with ThreadPoolExecutor(32) as pool:
        started = time.monotonic()
        floods = [pool.submit(_get, limited_server, f"{RUNAWAY} #{n}") for n in range(32)]
        assert eventually(lambda: len(_burning(limited_server)) == 2, within=5), "the query processes idle"
        health = []
        while not all(future.done() for future in floods):
            asked = time.monotonic()
            assert requests.get(limited_server.url + "healthz", timeout=2).status_code == 200
            health.append(time.monotonic() - asked)
            time.sleep(0.1)
        answers = [future.result() for future in floods]
    assert {answer.status_code for answer in answers} == {503}
    assert all(answer.headers.get("Retry-After") for answer in answers)
    busy = [answer for answer in answers if "busy" in answer.text]
    assert len(busy) >= 32 - (2 + 4), len(busy)  # refused at once: past what the worker runs and queues
    assert time.monotonic() - started < 2 + 2.5  # the long ones stopped at the limit
    assert len(health) >= 5 and max(health) < 2.0, sorted(health)[-3:]
    assert eventually(lambda: _get(limited_server, "ASK { ?s ?p ?o }").status_code == 200, within=5)


@pytest.mark.parametrize(
    ("accept", "count_rows"),
    [
        ("application/sparql-results+json", lambda r: len(r.json()["results"]["bindings"])),
        ("application/sparql-results+xml", lambda r: r.text.count("<result>")),
        ("text/csv", lambda r: len(r.text.strip().splitlines()) - 1),
        ("text/tab-separated-values", lambda r: len(r.text.strip().splitlines()) - 1),
    ],
)
def test_row_limit_is_signalled(limited_server, accept, count_rows):
    seven = f"SELECT ?x WHERE {{ VALUES ?x {{ {DIGITS} }} FILTER(?x < 7) }}"
    response = requests.get(
        limited_server.sparql_url, params={"query": seven}, headers={"Accept": accept}, timeout=TIMEOUT
    )
    assert count_rows(response) == 5
    assert response.headers["X-Govkg-Truncated"] == "true"
    assert response.headers["X-Govkg-Max-Rows"] == "5"
    exactly_five = f"SELECT ?x WHERE {{ VALUES ?x {{ {DIGITS} }} FILTER(?x < 5) }}"
    response = requests.get(
        limited_server.sparql_url, params={"query": exactly_five}, headers={"Accept": accept}, timeout=TIMEOUT
    )
    assert count_rows(response) == 5
    assert response.headers["X-Govkg-Truncated"] == "false"


def test_row_limit_applies_to_triples(limited_server):
    construct = f"CONSTRUCT {{ <urn:x:s> <urn:x:p> ?x }} WHERE {{ VALUES ?x {{ {DIGITS} }} }}"
    headers = {"Accept": "application/n-triples"}
    response = requests.get(
        limited_server.sparql_url, params={"query": construct}, headers=headers, timeout=5
    )
    assert len(response.text.strip().splitlines()) == 5
    assert response.headers["X-Govkg-Truncated"] == "true"
    describe = "DESCRIBE ?s WHERE { ?s ?p ?o }"
    response = requests.get(limited_server.sparql_url, params={"query": describe}, headers=headers, timeout=5)
    assert len(response.text.strip().splitlines()) == 5
    assert response.headers["X-Govkg-Truncated"] == "true"


def test_query_size_limit(limited_server):
    small_enough = "ASK {}" + " " * (2000 - 6)
    assert (
        requests.post(limited_server.sparql_url, data={"query": small_enough}, timeout=5).status_code == 200
    )
    response = requests.post(limited_server.sparql_url, data={"query": small_enough + " "}, timeout=TIMEOUT)
    assert response.status_code == 413
    assert "2001 bytes" in response.text


# --- memory and fork safety -------------------------------------------------------------------------------


def _memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        values[name.rstrip(":")] = int(value)
    return values


def test_queries_run_in_query_processes_forked_from_the_loaded_store(live_server):
    """The web worker runs no query itself: its query processes are the forker's children, no
    more than query_workers of them (they serve query after query), named govkg-query."""
    for _ in range(10):
        _get(live_server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    (web_worker,) = web_worker_pids(live_server.process.pid)
    assert child_pids(web_worker) == set()
    processes = query_process_pids(live_server)
    assert 1 <= len(processes) <= 2
    assert {Path(f"/proc/{pid}/comm").read_text().strip() for pid in processes} == {"govkg-query"}


def test_a_forked_process_makes_its_own_query_threads(app):
    with app.test_request_context("/sparql"):
        parent_threads = loaded_graph().backend.query_threads()
        assert loaded_graph().backend.query_threads() is parent_threads
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            with app.test_request_context("/sparql"):
                threads = loaded_graph().backend.query_threads()
                answer = threads.run(QueryJob("ASK {}", "ASK", "json", 10), timeout=10)
                own = threads is not parent_threads and threads.owner_pid == os.getpid()
                healthy = own and b"true" in answer.body
        except BaseException:  # noqa: BLE001
            healthy = False
        os._exit(0 if healthy else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with app.test_request_context("/sparql"):
        assert loaded_graph().backend.query_threads() is parent_threads
        assert b"true" in parent_threads.run(QueryJob("ASK {}", "ASK", "json", 10), timeout=10).body


def _threads_cpu_seconds() -> dict[int, float]:
    """The CPU time of each thread of this process, by its native id (/proc/self/task)."""
    seconds = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a thread that just ended
            continue
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


@pytest.mark.solo
def test_a_query_thread_leaves_the_interpreter_to_the_others(app):
    """While a query thread evaluates, Python code on other threads (the worker's other
    requests) keeps running: pyoxigraph releases the GIL, as the design relies on."""
    values = " ".join(f"VALUES ?v{i} {{ {DIGITS} }}" for i in range(7))  # about a second of work
    slow = QueryJob(f"SELECT (COUNT(*) AS ?n) WHERE {{ {values} }}", "SELECT", "json", 10)

    def spin(seconds: float) -> int:
        steps, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            steps += 1
        return steps

    with app.test_request_context("/sparql"):
        threads = loaded_graph().backend.query_threads()
        alone = spin(0.3)
        answers: list = []
        before = _threads_cpu_seconds()
        query = threading.Thread(target=lambda: answers.append(threads.run(slow, timeout=60)))
        query.start()
        # The query is being evaluated: another thread of this process has burnt CPU since.
        eventually(
            lambda: any(
                seconds - before.get(thread, 0) >= 0.02
                for thread, seconds in _threads_cpu_seconds().items()
                if thread != threading.get_native_id()
            ),
            within=5,
            interval=0.005,
        )
        beside = spin(0.3) if query.is_alive() else None
        query.join()
    assert b'"10000000"' in answers[0].body
    assert beside is not None, "the query ended too soon to tell"
    # Held for the whole query, the GIL would leave the spinning thread a step every 5 ms.
    assert beside > alone / 10, (beside, alone)


# --- an allowlisted SERVICE works -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def remote_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real SPARQL endpoint, the oxigraph server, on a free loopback port (its base URL)."""
    store = start_oxigraph_store(tmp_path_factory.mktemp("oxigraph"), union_default_graph=False)
    try:
        yield store.query_url.removesuffix("/query")
    finally:
        stop_store(store)


@pytest.fixture(scope="module")
def federating_server(tmp_path_factory, remote_endpoint) -> Iterator[LiveServer]:  # noqa: ANN001
    server = start_server(
        tmp_path_factory.mktemp("federating"), "--service-allowlist", f"{remote_endpoint}/query"
    )
    yield server
    stop_server(server)


def test_allowlisted_service_joins_remote_data_with_ours(federating_server, remote_endpoint, listener):
    (row,) = _rows(
        _get(federating_server, f"SELECT ?s WHERE {{ ?s <{RDFS_LABEL}> ?l FILTER isIRI(?s) }} LIMIT 1")
    )
    resource = row["s"]["value"]
    remote_data = f'<{resource}> <urn:x:remoteNote> "noted remotely" .\n'
    stored = requests.post(
        f"{remote_endpoint}/store?default", data=remote_data.encode(), headers={"Content-Type": "text/turtle"}
    )
    assert stored.ok
    query = f"""SELECT ?label ?note WHERE {{
        <{resource}> <{RDFS_LABEL}> ?label .
        SERVICE <{remote_endpoint}/query> {{ <{resource}> <urn:x:remoteNote> ?note }}
    }}"""
    rows = _rows(_get(federating_server, query))
    assert rows and all(row["note"]["value"] == "noted remotely" for row in rows)
    assert {row["label"]["value"] for row in rows} == {
        r["l"]["value"]
        for r in _rows(_get(federating_server, f"SELECT ?l {{ <{resource}> <{RDFS_LABEL}> ?l }}"))
    }
    description = requests.get(federating_server.sparql_url, headers={"Accept": "application/n-triples"}).text
    assert "http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery" in description
    # Only the exact IRI is allowed: not the same host with another path, nor another endpoint.
    for target in (f"{remote_endpoint}/query/", f"{remote_endpoint}/update", listener.url):
        response = _get(federating_server, f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}")
        assert response.status_code == 400
        assert f"<{remote_endpoint}/query>" not in response.text  # the allowlist stays private
    listener.assert_no_connection()


@pytest.mark.solo
def test_a_query_thread_adds_little_to_in_process_evaluation(app):
    """Handing a query to a query thread and back costs well under a millisecond."""
    loaded = app.extensions[EXTENSION_KEY]
    prefixes = project_prefixes(loaded.base_iri)
    job = QueryJob(f"SELECT ?s ?l WHERE {{ ?s <{RDFS_LABEL}> ?l }} LIMIT 5", "SELECT", "json", 10)

    def median_ms(run) -> float:  # noqa: ANN001
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
        return statistics.median(timings[20:]) * 1000

    with app.test_request_context("/sparql"):
        threads = loaded_graph().backend.query_threads()
        through_thread = median_ms(lambda: threads.run(job, timeout=10))
    in_process = median_ms(lambda: execute_query(loaded.store, job, prefixes))
    assert through_thread - in_process < 1.0, (through_thread, in_process)
