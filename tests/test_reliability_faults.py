"""Faults, each against a real ``govkg serve`` subprocess over real HTTP on 127.0.0.1.

* Clients that stall while reading a dump, or vanish in the middle of an answer, hold no web
  worker thread longer than ``client_timeout``: other clients are served meanwhile, and once
  the bad clients are gone the server's processes, threads and descriptors are as before.
* A bad data file at start (a syntax error, an unreadable or damaged file): one line that
  names the file (and the line), exit status 1, nothing listening.
* SIGTERM drains: the request in flight is answered 200, new connections are refused at
  once, and the server exits with status 0.

``govkg.web.serving`` documents the mechanisms (socket time-outs, closes off the main loop,
listeners closed on SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from govkg.settings import DEFAULT_BASE_IRI, load_settings
from govkg.web.serving import request_threads

from benchmarks.processes import listening_pids
from tests.conftest import (
    PROJECT_ROOT,
    LiveServer,
    eventually,
    free_port,
    query_process_pids,
    run_govkg,
    start_server,
    stop_server,
    wait_for_web_workers,
    web_worker_pids,
)

CLIENT_TIMEOUT = 2
DROPPED = f"Dropped a client that stalled for {CLIENT_TIMEOUT} s (client_timeout)."
TIMEOUT = 30
#: COUNT over the article graph × itself × 2 of its triples (23.5 million rows): 2.6 s on a quiet
#: machine, several times that on a busy one.
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f { SELECT * WHERE { ?g ?h ?i } LIMIT 2 } }"
#: The same over 1 of its triples (11.7 million rows): 1.3 s on a quiet machine, for a query that need
#: only be in flight a moment (a client vanishes meanwhile, a SIGTERM arrives, its thread is demoted).
SHORTER_SLOW_QUERY = SLOW_QUERY.replace("LIMIT 2 ", "LIMIT 1 ")


# --- the server's process tree, read from /proc ------------------------------------------------


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (web workers, query processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rfind(")") + 2 :].split()[1])
    tree = [pid]
    for _ in range(10):  # depth: master, workers, query processes
        tree += [child for child, parent in parents.items() if parent in tree and child not in tree]
    return tree


def _count(pids: list[int], what: str) -> int:
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/{what}"))
        except OSError:
            pass
    return total


def census(server: LiveServer) -> dict[str, int]:
    """Processes, threads and open descriptors of the whole server."""
    pids = _tree(server.process.pid)
    return {"processes": len(pids), "threads": _count(pids, "task"), "fds": _count(pids, "fd")}


def steady_census(server: LiveServer, within: float = 10) -> dict[str, int]:
    """The census once it has stayed the same for a second (closing connections are gone)."""
    deadline, last = time.monotonic() + within, census(server)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = census(server)
        if now == last:
            return now
        last = now
    return last


def settles_to(server: LiveServer, expected: dict[str, int], within: float = 15) -> dict[str, int]:
    """The census, polled until it equals ``expected`` or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while True:
        now = census(server)
        if now == expected or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


# --- raw clients ----------------------------------------------------------------------------------


def stalled_download(server: LiveServer, path: str) -> socket.socket:
    """A client that asks for ``path``, reads the first bytes of the answer, then reads no more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/"))))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n".encode())
    assert sock.recv(12) == b"HTTP/1.1 200"
    return sock


def read_to_end(sock: socket.socket, within: float) -> int:
    """Read what is left until the server closes; the byte count."""
    received, deadline = 0, time.monotonic() + within
    while time.monotonic() < deadline:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return received
        received += len(chunk)
    raise AssertionError(f"the server did not close the connection within {within} s")


def _dump_size(server: LiveServer, name: str) -> int:
    listing = requests.get(server.url + "dumps/", headers={"Accept": "application/json"}, timeout=TIMEOUT)
    return next(dump["byte_size"] for dump in listing.json()["dumps"] if dump["name"] == name)


def _served(server: LiveServer) -> None:
    """A few ordinary requests, each answered at once."""
    with requests.Session() as session:
        for path, params in (("healthz", {}), ("sparql", {"query": "ASK { ?s ?p ?o }"}), ("dumps/", {})):
            started = time.monotonic()
            response = session.get(server.url + path, params=params, timeout=TIMEOUT)
            assert response.status_code == 200, (path, response.status_code)
            assert time.monotonic() - started < 5, path


# --- stalled and vanishing clients ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_dump_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One web worker whose dumps (~11 MB) are larger than the socket buffers between it and a client.

    The data also uses URN terms, which once crashed the VoID statistics at start.
    """
    directory = tmp_path_factory.mktemp("big-dump")
    data = directory / "big.nt"
    with data.open("w", encoding="utf-8") as out:
        for i in range(112):
            out.write(f'<http://example.org/big/s{i}> <http://example.org/big/p> "{f"x{i:04} " * 17000}" .\n')
        out.write("<urn:x:thing> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:x:Class> .\n")
        out.write('<urn:x:thing> <urn:x:property> "a URN term" .\n')
    options = {"--workers": "1", "--client-timeout": str(CLIENT_TIMEOUT), "--query-timeout": "20"}
    server = start_server(
        directory, *(item for pair in options.items() for item in pair), "--data", str(data)
    )
    yield server
    stop_server(server)


def test_data_with_urn_terms_is_served_with_its_vocabulary(big_dump_server):
    void = requests.get(
        big_dump_server.url + ".well-known/void", headers={"Accept": "text/turtle"}, timeout=TIMEOUT
    )
    assert void.status_code == 200
    assert "<urn:x:>" in void.text


def test_stalled_readers_are_dropped_and_everyone_else_is_served(big_dump_server):
    server = big_dump_server
    size = _dump_size(server, "govkg.nq")
    assert size > 10_000_000
    _served(server)  # the query processes exist
    before = steady_census(server)

    # As many stalled readers as the worker has threads: each thread blocks writing the dump.
    readers = [stalled_download(server, "/dumps/govkg.nq") for _ in range(request_threads(load_settings({})))]
    started = time.monotonic()
    response = requests.get(server.url + "healthz", timeout=TIMEOUT)
    waited = time.monotonic() - started
    assert response.status_code == 200
    assert waited < CLIENT_TIMEOUT + 5, f"a free thread only after {waited:.1f} s"

    # Each was cut off — the server closed the connection before the whole file went out — unless
    # the kernel's socket buffers took the rest of the file first (then no thread was held either).
    cut_off = 0
    for reader in readers:
        with reader:
            cut_off += read_to_end(reader, within=TIMEOUT) < size
    _served(server)
    log = server.log()
    assert log.count(DROPPED) >= cut_off
    assert "Traceback" not in log

    after = settles_to(server, {**before, "threads": census(server)["threads"]})
    assert after["processes"] == before["processes"]
    assert after["fds"] == before["fds"]


def test_one_stalled_reader_and_vanishing_clients_leave_nothing_behind(big_dump_server):
    server = big_dump_server
    _served(server)
    # The worker has had all its threads since the test above; let lingering closes finish.
    before = steady_census(server)

    dropped_before = server.log().count(DROPPED)
    reader = stalled_download(server, "/dumps/govkg.ttl")
    # Meanwhile: whole downloads, clients that vanish mid-dump, one that vanishes mid-query.
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    for abortive in (False, True):
        for path in ("/dumps/govkg.nt", "/dumps/govkg.jsonld"):
            sock = stalled_download(server, path)
            sock.recv(4096)
            if abortive:  # a reset instead of a close
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as gone:
        query = requests.Request("GET", server.sparql_url, params={"query": SHORTER_SLOW_QUERY})
        query = query.prepare().path_url
        gone.sendall(f"GET {query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    whole = requests.get(server.url + "dumps/govkg.nt", timeout=TIMEOUT)
    assert whole.status_code == 200 and len(whole.content) == _dump_size(server, "govkg.nt")
    _served(server)

    # The kernel takes a few MB more while its buffers grow, then no more: client_timeout later
    # the server drops the reader.
    deadline = time.monotonic() + 20
    while server.log().count(DROPPED) < dropped_before + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    with reader:
        assert read_to_end(reader, within=TIMEOUT) < _dump_size(server, "govkg.ttl")
    # The abandoned query runs out (a few seconds), its process goes back to the pool.
    assert settles_to(server, before, within=30) == before
    _served(server)


@pytest.mark.solo
def test_clients_that_never_close_do_not_hold_up_the_others(big_dump_server):
    """Each would cost gunicorn's main loop a 2 s wait for its FIN (10 s here), were it not moved off."""
    port = int(big_dump_server.url.rsplit(":", 1)[1].strip("/"))
    idle = []
    try:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            idle.append(sock)
        for sock in idle:
            assert sock.recv(12) == b"HTTP/1.1 200"
        started = time.monotonic()
        assert requests.get(big_dump_server.url + "healthz", timeout=TIMEOUT).status_code == 200
        assert time.monotonic() - started < 1.5
    finally:
        for sock in idle:
            sock.close()


# --- long queries -------------------------------------------------------------------------------------------


def _thread_niceness(pid: int) -> dict[int, int]:
    """The niceness of each thread (task) of process ``pid``."""
    niceness = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            niceness[int(task.name)] = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
        except OSError:  # a thread that just ended
            continue
    return niceness


def test_a_long_query_yields_the_cpu_then_its_process_serves_again_at_full_priority(live_server):
    """After 0.5 s a query's thread (in its query process) runs at nice 10, then back at 0."""
    requests.get(live_server.sparql_url, params={"query": "ASK {}"}, timeout=TIMEOUT)
    outcome: dict = {}
    long_query = SHORTER_SLOW_QUERY  # 1.3 s quiet: past 0.5 s, within 10 s
    client = threading.Thread(
        target=lambda: outcome.update(
            response=requests.get(live_server.sparql_url, params={"query": long_query}, timeout=60)
        )
    )
    client.start()
    demoted, deadline = set(), time.monotonic() + 5
    while client.is_alive() and time.monotonic() < deadline:
        for pid in query_process_pids(live_server):
            demoted |= {(pid, tid) for tid, nice in _thread_niceness(pid).items() if nice == 10}
        time.sleep(0.05)
    client.join(timeout=60)
    assert outcome["response"].status_code == 200
    assert len(demoted) == 1  # after DEMOTE_AFTER (0.5 s) the query's thread ran at nice 10 ...
    ((process, thread),) = demoted
    after = _thread_niceness(process)
    assert after[thread] == 0  # ... and it is back at 0 (the tests run as root), the process kept
    assert set(after.values()) == {0}


# --- bad data files at start ----------------------------------------------------------------------


def _serve_exits(tmp_path: Path, data: str) -> tuple[int, str]:
    """Run ``govkg serve --data DATA``; its exit status and output. Nothing may answer on its port."""
    port = free_port()
    command = [sys.executable, "-m", "govkg", "serve", "--port", str(port), "--data", data]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Nothing of its session listens on the port (another pytest-xdist worker's server may, later).
    assert not {pid for pid in listening_pids(port) if _session(pid) == process.pid}
    text = output.decode("utf-8", "replace")
    assert "Listening at" not in text and "serving on" not in text
    assert "Traceback" not in text
    return process.returncode, text


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None


def _gzip_damaged(path: Path) -> None:
    import gzip

    whole = gzip.compress(b'<http://e.org/s> <http://e.org/p> "a" .\n' * 50)
    path.write_bytes(whole[:40])


BAD_FILES = {
    # name: (how to make it, what the message says after the file name)
    "syntax.ttl": (
        lambda p: p.write_text('@prefix e: <http://e.org/> .\ne:s e:p "x" .\ne:s e:p e:o e:x .\n'),
        "syntax.ttl, line 3: ",
    ),
    "bad-utf8.nt": (
        lambda p: p.write_bytes(
            b'<http://e.org/s> <http://e.org/p> "ok" .\n<http://e.org/s> <http://e.org/p> "\xff" .\n'
        ),
        "bad-utf8.nt, line 2: Invalid UTF-8",
    ),
    "truncated.nt.gz": (_gzip_damaged, "truncated.nt.gz: not a valid gzip file"),
    "not-gzip.nt.gz": (lambda p: p.write_bytes(b"plain text"), "not-gzip.nt.gz: Not a gzipped file"),
    # Unreadable: the tests run as root, whom file modes do not stop; a directory cannot be read.
    "a-directory.ttl": (lambda p: p.mkdir(), "a-directory.ttl: Is a directory"),
    "missing.ttl": (lambda p: None, "missing.ttl: No such file or directory"),
    "unknown.xyz": (lambda p: p.write_text("x"), "unknown.xyz: not a known RDF format"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_data_file_stops_the_start_with_one_clear_line(tmp_path, name):
    make, expected = BAD_FILES[name]
    make(tmp_path / name)
    status, output = _serve_exits(tmp_path, name)
    assert status == 1
    assert output.strip() == output.strip().splitlines()[-1]  # one line
    assert output.startswith(f"Error: {expected}"), output


def _cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has burnt (0 for one that has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _listening(port: int) -> bool:
    """Whether a socket listens on TCP ``port`` (the kernel's table, /proc/net/tcp)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return True
    return False


# --- SIGTERM ------------------------------------------------------------------------------------------------


def test_sigterm_answers_the_request_in_flight_refuses_new_ones_and_exits_0(tmp_path):
    server = start_server(tmp_path, "--workers", "2", "--query-timeout", "30")
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    outcome: dict = {}

    def in_flight() -> None:
        try:
            query = {"query": SHORTER_SLOW_QUERY}
            outcome["response"] = requests.get(server.sparql_url, params=query, timeout=60)
        except requests.RequestException as error:  # reported by the assertions below
            outcome["error"] = error

    try:
        client = threading.Thread(target=in_flight)
        client.start()
        assert eventually(lambda: any(_cpu_seconds(pid) > 0.05 for pid in query_process_pids(server)))
        assert client.is_alive()  # the query is running
        os.kill(server.process.pid, signal.SIGTERM)
        assert eventually(lambda: not _listening(port), within=5), "the server still listens"
        refused_at = time.monotonic()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert time.monotonic() - refused_at < 1  # refused, not left waiting in a backlog
        client.join(timeout=60)
        response = outcome.get("response")
        assert response is not None, outcome.get("error")
        assert response.status_code == 200
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 1_000_000
        assert server.process.wait(timeout=30) == 0
        assert "Traceback" not in server.log()
    finally:
        stop_server(server)


# --- the persistent store: SIGKILL during a load -------------------------------------------------------


def _graph_counts(server: LiveServer) -> dict[str, int]:
    query = (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), '/graph/data/')) }"
        " GROUP BY ?g"
    )
    rows = requests.get(server.sparql_url, params={"query": query}, timeout=TIMEOUT).json()["results"][
        "bindings"
    ]
    return {row["g"]["value"].rsplit("/", 1)[1]: int(row["n"]["value"]) for row in rows}


def _read_position(pid: int, path: Path) -> int:
    """How far process ``pid`` has read the file at ``path`` (its open file's offset; 0 if it has
    the file open nowhere)."""
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if Path(os.readlink(fd)) == path:
                info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
                return int(info.split("pos:", 1)[1].split()[0])
    except OSError:  # the process, or the file descriptor, just ended
        pass
    return 0


def test_sigkill_during_a_load_leaves_the_old_data_or_the_new_never_a_mix(tmp_path):
    from benchmarks.generate import generate_file

    store = tmp_path / "store"
    (tmp_path / "old.nt").write_text('<http://example.org/old/s> <http://example.org/old/p> "old" .\n')
    assert run_govkg("load", str(tmp_path / "old.nt"), "--store", str(store)).returncode == 0
    before = json.loads((store / "state.json").read_text())
    big = tmp_path / "big.nt"
    generate_file(big, 100_000)  # a few seconds of loading

    load = subprocess.Popen(
        [sys.executable, "-m", "govkg", "load", str(big), "--store", str(store)],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (store / "rollback").is_dir() and time.monotonic() < deadline and load.poll() is None:
            time.sleep(0.01)
        assert (store / "rollback").is_dir(), "the load never started writing"
        # Well inside the bulk load (1–2 s on a quiet machine): a quarter of the file read.
        size = big.stat().st_size
        assert eventually(lambda: _read_position(load.pid, big) >= size // 4, within=30, interval=0.01)
        os.killpg(load.pid, signal.SIGKILL)
    finally:
        if load.poll() is None:
            os.killpg(load.pid, signal.SIGKILL)
        load.wait()

    server = start_server(tmp_path, "--store", str(store), "--base-iri", DEFAULT_BASE_IRI)
    try:
        counts = _graph_counts(server)
        version = requests.get(server.url + "readyz", timeout=TIMEOUT).json()["dataset_version"]
        # It says which: the old data.
        assert "put back as it was before the last load, which did not finish" in server.log()
        assert counts == {"old": 1}
        state = json.loads((store / "state.json").read_text())
        assert set(state["graphs"]) == set(before["graphs"])
        assert state["data_version"] == before["data_version"] and version
    finally:
        stop_server(server)


# --- a remote store that goes away and comes back ----------------------------------------------------


def test_a_remote_store_that_stops_gets_a_clear_answer_in_time_and_full_service_when_back(tmp_path):
    from tests.stores import restart_store, start_oxigraph_store, stop_store

    oxigraph = start_oxigraph_store(tmp_path / "oxigraph")
    server = None
    try:
        pushed = run_govkg("load", "--into", oxigraph.update_url, "--base-iri", DEFAULT_BASE_IRI)
        assert pushed.returncode == 0, pushed.stderr
        server = start_server(
            tmp_path,
            "--store",
            f"sparql:{oxigraph.query_url}",
            "--base-iri",
            DEFAULT_BASE_IRI,
            "--query-timeout",
            "3",
        )
        place = f"{DEFAULT_BASE_IRI}id/place/zhaoqing"
        query = {"query": f"SELECT ?p ?o WHERE {{ <{place}> ?p ?o }} ORDER BY ?p ?o"}
        first = requests.get(server.sparql_url, params=query, timeout=TIMEOUT)
        assert first.status_code == 200
        page = requests.get(
            server.url + "id/place/zhaoqing", headers={"Accept": "text/turtle"}, timeout=TIMEOUT
        )
        assert page.status_code == 200

        stop_store(oxigraph)  # the store goes away
        fresh = {
            "query": query["query"] + "\n# not in the result cache"
        }  # an answer kept would hide the outage
        for path, params, headers in (
            ("sparql", fresh, {}),
            ("id/place/zhaoqing", {}, {"Accept": "text/turtle"}),
            ("queries/six-firsts", {}, {"Accept": "application/sparql-results+json"}),
        ):
            started = time.monotonic()
            down = requests.get(server.url + path, params=params, headers=headers, timeout=TIMEOUT)
            assert down.status_code in (502, 503), (path, down.status_code, down.text[:200])
            assert time.monotonic() - started < 3 + 2, path  # no hang past the time limit
            assert "Traceback" not in down.text and down.text.strip(), path
        assert requests.get(server.url + "healthz", timeout=TIMEOUT).status_code == 200

        # The store comes back on the same port with the same data: full service, no restart of ours.
        restart_store(oxigraph)
        again = requests.get(
            server.sparql_url, params={"query": query["query"] + "\n# again"}, timeout=TIMEOUT
        )
        assert again.status_code == 200 and again.json() == first.json()
        page_again = requests.get(
            server.url + "id/place/zhaoqing", headers={"Accept": "text/turtle"}, timeout=TIMEOUT
        )
        assert page_again.status_code == 200 and page_again.text == page.text
        assert "Traceback" not in server.log()
    finally:
        if server is not None:
            stop_server(server)
        stop_store(oxigraph)


_CRASHING_LOAD = r"""
import os, shutil, sys
import govkg.store.persistent as persistent
point, arguments = sys.argv[1], sys.argv[2:]
if point == "state-written":  # the new state.json is written; the checkpoint is still there
    write_state = persistent.StoreDirectory.write_state
    def crashing(self, state):
        write_state(self, state)
        os._exit(137)
    persistent.StoreDirectory.write_state = crashing
else:  # "os.replace:NAME" or "shutil.rmtree:NAME": crash before that call on an existing NAME
    function, target = point.split(":")
    module = {"os.replace": os, "shutil.rmtree": shutil}[function]
    real = getattr(module, function.split(".")[1])
    def crashing(path, *rest, **options):
        if str(path).endswith("/" + target) and os.path.exists(path):
            os._exit(137)
        return real(path, *rest, **options)
    setattr(module, function.split(".")[1], crashing)
from govkg.cli import main
main(["load", *arguments], prog_name="govkg")
"""


@pytest.mark.parametrize(
    ("point", "survives"),
    [
        ("os.replace:rollback.partial", "old"),  # the checkpoint is taken, not yet in place
        ("state-written", "old"),  # the data and the new state are written, the checkpoint is still there
        ("shutil.rmtree:rollback.done", "new"),  # the checkpoint is renamed away: the load has completed
    ],
)
def test_a_load_killed_at_any_step_leaves_data_and_state_that_agree(tmp_path, point, survives):
    from govkg.store.persistent import StoreDirectory

    store = tmp_path / "store"
    for name in ("old", "new"):
        (tmp_path / f"{name}.nt").write_text(
            f'<http://example.org/{name}> <http://example.org/p> "{name}" .\n'
        )
    assert run_govkg("load", str(tmp_path / "old.nt"), "--store", str(store)).returncode == 0
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_LOAD, point, str(tmp_path / "new.nt"), "--store", str(store)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert crashed.returncode == 137, crashed.stderr

    folder = StoreDirectory(store)
    folder.recover()  # what the next `govkg serve --store` or `govkg load` does first
    graphs = {iri.rsplit("/", 1)[1] for iri in folder.read_state().graphs}
    import pyoxigraph as ox

    database = ox.Store.read_only(str(folder.database))
    stored = {
        graph.value.rsplit("/", 1)[1] for graph in database.named_graphs() if "/graph/data/" in graph.value
    }
    assert graphs == stored == ({"old"} if survives == "old" else {"old", "new"})
    assert not [path.name for path in store.iterdir() if path.name.startswith("rollback")]


# pyoxigraph 0.5.13 aborted the whole process (a Rust panic in its sort: "user-provided comparison
# function does not correctly implement a total order") on this ORDER BY over the article's objects
# (see README "Limits"); whether it does depends on the stored terms. An abort cannot be caught: it
# ends the query process that ran the query, alone. The test aborts a query process itself
# (SIGABRT, as a panic does) so that it does not depend on the data.
ENGINE_ABORT_QUERY = "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o"


def test_a_query_that_aborts_the_engine_costs_one_query_process_and_service_resumes(tmp_path):
    """The client gets 503 with Retry-After (no dropped connection), no web worker is replaced,
    and the next queries are answered (a fresh query process, forked from the loaded store)."""
    server = start_server(tmp_path, "--workers", "2", "--base-iri", DEFAULT_BASE_IRI)
    try:
        workers = wait_for_web_workers(server, 2)
        assert len(workers) == 2
        response = requests.get(server.sparql_url, params={"query": ENGINE_ABORT_QUERY}, timeout=30)
        assert response.status_code in (200, 503)  # answered either way, never a dropped connection
        outcome: dict[str, requests.Response] = {}
        client = threading.Thread(
            target=lambda: outcome.update(
                response=requests.get(server.sparql_url, params={"query": SLOW_QUERY}, timeout=60)
            )
        )
        client.start()
        deadline = time.monotonic() + 10
        busy: list[int] = []
        while not busy and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = [pid for pid in query_process_pids(server) if _niceness(pid) == 10]
        assert busy, "no query process ran the slow query for 0.5 s"
        os.kill(busy[0], signal.SIGABRT)  # what a panic in the engine does
        client.join(timeout=60)
        assert outcome["response"].status_code == 503
        assert outcome["response"].headers["Retry-After"]
        ask = {"query": "ASK {}"}
        answered = [requests.get(server.sparql_url, params=ask, timeout=5).status_code for _ in range(20)]
        assert answered == [200] * 20
        assert web_worker_pids(server.process.pid) == workers
    finally:
        stop_server(server)


def _niceness(pid: int) -> int:
    """The highest niceness of the threads of ``pid`` (a long query's thread is demoted to 10)."""
    try:
        return max(_thread_niceness(pid).values(), default=0)
    except OSError:  # a process that just ended
        return 0
