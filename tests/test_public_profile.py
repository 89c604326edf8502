"""The public profile (`govkg serve-public`): the floods of issue 17 (items 4-8 and 11) through the
real nginx in front of two real instances, and an instance killed under load.

Each flood is sized to exhaust the design before it (8 request threads per worker, 1,000
connections per worker) and proven harmless by /healthz answering within 2 s through the proxy
while the flood holds, which a flood that reached a worker would prevent. The floods hold until
they are released by the test, so the checks do not depend on how fast the machine is.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests
from govkg.settings import load_settings
from govkg.web.public import find_nginx, http_config

from tests.conftest import LiveServer, child_pids, eventually, start_server, stop_server
from tests.test_security import assert_client_headers_do_not_move_the_app
from tests.test_sparql_safety import Listener

# The floods' checks are answer times (/healthz within 2 s): nothing runs beside them.
pytestmark = pytest.mark.solo

HEALTH_WITHIN = 2.0
BIG_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("public"),
        "--request-timeout",
        "3",
        "--client-timeout",
        "5",
        "--client-connections",
        "64",
        "--query-timeout",
        "3",
        command_name="serve-public",
    )
    yield server
    stop_server(server)


def assert_healthy(server: LiveServer) -> None:
    """/healthz answers 200 within 2 s, on a fresh connection."""
    started = time.monotonic()
    response = requests.get(server.url + "healthz", timeout=HEALTH_WITHIN)
    assert response.status_code == 200
    assert time.monotonic() - started < HEALTH_WITHIN


def ask(server: LiveServer, timeout: float = HEALTH_WITHIN) -> requests.Response:
    return requests.get(server.sparql_url, params={"query": "ASK { ?s ?p ?o }"}, timeout=timeout)


def connect(server: LiveServer, receive_buffer: int | None = None) -> socket.socket:
    address = urllib.parse.urlsplit(server.url)
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((address.hostname, address.port))
    return sock


def _port(server: LiveServer) -> int:
    return urllib.parse.urlsplit(server.url).port or 80


def nginx_has_read(server: LiveServer, connections: int = 0) -> bool:
    """nginx has accepted every connection made to it and read every byte sent (the kernel's
    table, /proc/net/tcp: no listening socket has a backlog, no accepted one unread bytes), and
    at least ``connections`` are open: a flood sent is then a flood nginx holds."""
    established, port = 0, _port(server)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) != port or fields[3] not in ("01", "0A"):
            continue  # only ESTABLISHED and LISTEN
        if int(fields[4].split(":")[1], 16):  # rx_queue: for a listening socket, its backlog
            return False
        established += fields[3] == "01"
    return established >= connections


@contextmanager
def held(sockets: list[socket.socket]) -> Iterator[list[socket.socket]]:
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def head(server: LiveServer, method: str, path: str, *fields: str) -> bytes:
    host = urllib.parse.urlsplit(server.url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *fields, "", ""]
    return "\r\n".join(lines).encode()


def form_post(server: LiveServer, *fields: str) -> bytes:
    return head(server, "POST", "/sparql", "Content-Type: application/x-www-form-urlencoded", *fields)


def chunked_form_post(server: LiveServer, *fields: str) -> bytes:
    """The head of a form POST to /sparql whose body follows in chunks (the caller sends them)."""
    return form_post(server, "Transfer-Encoding: chunked", *fields)


def read_status(sock: socket.socket, seconds: float = 5.0) -> int:
    sock.settimeout(seconds)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


def instance_pids(server: LiveServer) -> list[int]:
    """The instances' gunicorn masters: the supervisor's children that are not nginx."""
    pids = []
    for pid in child_pids(server.process.pid):
        if "nginx" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            pids.append(pid)
    return sorted(pids)


def resident_kib(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def instance_tree(server: LiveServer) -> set[int]:
    tree = set()
    for pid in instance_pids(server):
        tree |= {pid} | child_pids(pid)
    return tree


# --- the config -------------------------------------------------------------------------------


def test_printed_proxy_config_is_accepted_by_nginx(tmp_path: Path) -> None:
    """`govkg proxy-config` prints an http block that nginx itself accepts (nginx -t)."""
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "govkg",
            "proxy-config",
            "--port",
            "8089",
            "--upstream",
            "127.0.0.1:5001",
            "--upstream",
            "127.0.0.1:5002",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "proxy_next_upstream error non_idempotent;" in printed
    assert "client_max_body_size 212992;" in printed
    temp = "".join(
        f"{kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\nhttp {{\n{temp}{printed}}}\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [find_nginx(), "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_timed_out_requests_are_never_retried_elsewhere() -> None:
    """nginx retries a request only when an instance failed (error), never on a time-out or a 503."""
    config = http_config(load_settings({}), ["/run/a.sock", "/run/b.sock"], "127.0.0.1:80")
    retry = next(line for line in config.splitlines() if line.strip().startswith("proxy_next_upstream "))
    assert retry.split()[1:] == ["error", "non_idempotent;"]


# --- item 4: a CPU flood of refused SERVICE queries ---------------------------------------------


def test_a_flood_of_refused_service_queries_leaves_healthz_prompt(public: LiveServer) -> None:
    """16 clients send 57 KB SERVICE-shaped queries (calls, calls in comments, one call after
    a long group) for 4 s (rdflib's check had pushed /healthz to 9.6 s): each is refused 400 by
    the instance's linear check, or 503 with Retry-After by nginx's per-client limits; /healthz
    answers within 2 s throughout, ordinary queries are answered, and the target is never
    called."""
    target = Listener()
    calls = f"SERVICE <{target.url}sparql> {{ ?s ?p ?o }} "
    comments = f"# SERVICE <{target.url}sparql> {{ ?s ?p ?o }}\n"
    floods = [
        "SELECT * { " + calls * (57_000 // len(calls)) + "}",
        "SELECT * { ?s ?p ?o } " + comments * (57_000 // len(comments)),
        "ASK { " + "?s <urn:x:service> ?o . " * (57_000 // 24) + f"SERVICE <{target.url}sparql> {{ }} }}",
    ]
    refused: list[int] = []
    unexpected: list[tuple[int, str]] = []
    stop = threading.Event()

    def flood(query: str) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(public.sparql_url, data={"query": query}, timeout=30)
                if response.status_code == 400 and "is not allowed" in response.text:
                    refused.append(400)
                elif response.status_code == 503 and response.headers.get("Retry-After"):
                    refused.append(503)
                else:
                    unexpected.append((response.status_code, response.text[:200]))

    health: list[float] = []
    answered = 0
    threads = [threading.Thread(target=flood, args=(floods[n % 3],)) for n in range(16)]
    try:
        for thread in threads:
            thread.start()
        assert eventually(lambda: len(refused) >= 16, within=20), "the flood is not being answered"
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert_healthy(public)
            health.append(time.monotonic() - started)
            response = ask(public)
            assert response.status_code in (200, 503), response.text[:200]
            answered += response.status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        target.barrier()
        target.close()
        # nginx's rate bucket for this client address (a burst of 2 s of client_rate) is full
        # now; it empties in 2 s by nginx's clock: the next test's burst of requests is not
        # refused for this one's.
        time.sleep(2.2)
    assert unexpected == []
    assert refused.count(400) >= 16 and answered >= 4, (refused.count(400), refused.count(503), answered)
    assert len(health) >= 4 and max(health) < HEALTH_WITHIN, sorted(health)[-3:]
    assert target.connections == 0


# --- item 5: slow readers ---------------------------------------------------------------------


def test_slow_readers_hold_nginx_not_the_instances(public: LiveServer) -> None:
    """40 clients ask for a large answer and read none of it (8 threads per worker were held
    before): nginx buffers the answers, the instances are free, /healthz and queries answer."""
    path = "/sparql?" + urllib.parse.urlencode({"query": BIG_QUERY})
    request = head(public, "GET", path, "Accept: application/sparql-results+xml")
    logged = f'"GET {path} HTTP/1.1"'  # each instance's access log line for one of them

    def answered() -> int:
        return public.log().count(logged)

    before = answered()
    with held([connect(public, receive_buffer=4096) for _ in range(40)]) as readers:
        for sock in readers:
            sock.sendall(request)
        # The instances have answered all 40 (into nginx's buffers: no reader has read a byte).
        assert eventually(lambda: answered() == before + 40, within=30), (before, answered())
        for _ in range(3):
            assert_healthy(public)
            assert ask(public).json()["boolean"] is True


# --- item 6: desync of the request reader -----------------------------------------------------


def test_sixteen_digit_content_length_is_refused_at_once(public: LiveServer) -> None:
    with held([connect(public)]) as (sock,):
        sock.sendall(
            head(
                public,
                "POST",
                "/sparql",
                "Content-Type: application/x-www-form-urlencoded",
                "Content-Length: 1000000000000000",
            )
            + b"query=ASK"
        )
        assert read_status(sock) == 413
    assert_healthy(public)


def test_last_chunk_inside_chunk_data_is_data(public: LiveServer) -> None:
    """`0\\r\\n\\r\\n` inside a chunk's data does not end the body: the instance gets the whole body,
    framed by nginx with a Content-Length, only once the real last chunk has come."""
    body = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode() + b"&x=0\r\n\r\n" + b"y" * 10
    with held([connect(public)]) as (sock,):
        sock.sendall(
            chunked_form_post(public, "Accept: application/sparql-results+json")
            + f"{len(body):x}\r\n".encode()
            + body[:-5]
        )
        assert eventually(lambda: nginx_has_read(public, 1))
        assert_healthy(public)
        sock.sendall(body[-5:] + b"\r\n0\r\n\r\n")
        assert read_status(sock) == 200


def test_stalled_and_slow_chunked_senders_do_not_delay_others(public: LiveServer) -> None:
    """20 stalled desync-shaped requests and 20 chunked slow senders: a normal ASK and /healthz
    still answer within 2 s, while they hold."""
    stop = threading.Event()
    with ExitStack() as stack:
        stalled = stack.enter_context(held([connect(public) for _ in range(20)]))
        for sock in stalled:
            sock.sendall(chunked_form_post(public) + b"100\r\nquery=ASK%7B%7D&x=0\r\n\r\n")
        slow = stack.enter_context(held([connect(public) for _ in range(20)]))
        for sock in slow:
            sock.sendall(chunked_form_post(public))

        def trickle() -> None:
            while not stop.is_set():
                for sock in slow:
                    try:
                        sock.sendall(b"1\r\nx\r\n")
                    except OSError:
                        pass
                stop.wait(0.5)

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            for _ in range(3):
                assert_healthy(public)
                assert ask(public).json()["boolean"] is True
                time.sleep(0.3)
        finally:
            stop.set()
            trickler.join()


def test_slow_header_senders_wait_at_nginx_and_are_dropped(public: LiveServer) -> None:
    """50 clients send their request line and headers a byte at a time (8 threads per worker
    were held before): /healthz answers within 2 s meanwhile, and nginx drops them at
    request_timeout (3 s here) whatever their pace."""
    stop = threading.Event()
    request = head(public, "GET", "/readyz")
    sent = threading.Event()
    with held([connect(public) for _ in range(50)]) as slow:

        def trickle() -> None:
            for byte in request[:-1]:
                for sock in slow:
                    try:
                        sock.send(bytes([byte]))
                    except OSError:
                        pass
                sent.set()
                if stop.wait(0.5):
                    return

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            assert sent.wait(5) and eventually(lambda: nginx_has_read(public, 50))
            for _ in range(3):
                assert_healthy(public)
                time.sleep(0.2)
            slow[0].settimeout(6)
            try:
                assert slow[0].recv(4096) == b""  # closed, not answered
            except ConnectionResetError:
                pass  # reset_timedout_connection: nginx resets what timed out
        finally:
            stop.set()
            trickler.join()


# --- item 7: idle floods ----------------------------------------------------------------------


def test_idle_flood_does_not_stop_accepting(public: LiveServer) -> None:
    """2,100 silent connections (the old design stopped accepting at 1,000 per worker)."""
    with held([]) as idle:
        for _ in range(2100):
            idle.append(connect(public))
        assert_healthy(public)
        assert ask(public).json()["boolean"] is True


# --- item 8: buffered bodies ------------------------------------------------------------------


def test_oversized_bodies_are_refused_before_they_are_read(public: LiveServer) -> None:
    """300 clients each announce a 1 MB body, send 64 KB and stall; 20 more send one chunked:
    each is refused with 413 by nginx, and the instances do not grow."""
    before = resident_kib(instance_tree(public))
    with held([connect(public) for _ in range(300)]) as clients:
        for sock in clients:
            sock.sendall(
                head(
                    public,
                    "POST",
                    "/sparql",
                    "Content-Type: application/x-www-form-urlencoded",
                    "Content-Length: 1048576",
                )
                + b"query="
                + b"x" * 65536
            )
        assert all(read_status(sock) == 413 for sock in clients[:20])
        assert_healthy(public)
    with held([connect(public) for _ in range(20)]) as chunked:
        for sock in chunked:
            sock.sendall(chunked_form_post(public))
            try:
                for _ in range(16):
                    sock.sendall(b"10000\r\n" + b"x" * 65536 + b"\r\n")
            except OSError:
                pass  # refused and closed by nginx before all of it was sent
        assert all(read_status(sock) == 413 for sock in chunked)
    assert resident_kib(instance_tree(public)) - before < 64 * 1024
    assert_healthy(public)


def test_bodies_within_the_limit_wait_at_nginx(public: LiveServer) -> None:
    """64 clients each send half of a body within the limit and stall: none reaches an instance
    (their requests are not in its access log), and every request beyond a client's
    connection limit is answered 503 with Retry-After at once."""
    with held([connect(public) for _ in range(64)]) as stalled:
        for number, sock in enumerate(stalled):
            sock.sendall(
                head(
                    public,
                    "POST",
                    f"/sparql?stalled={number}",
                    "Content-Type: application/x-www-form-urlencoded",
                    "Content-Length: 100000",
                )
                + b"query="
                + b"x" * 50000
            )
        assert eventually(lambda: nginx_has_read(public, 64))
        refused = ask(public)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert_healthy(public)
    assert '"POST /sparql?stalled=' not in public.log()  # no instance's access log has one


# --- item 11: fairness under long queries ------------------------------------------------------


def test_long_query_flood_leaves_healthz_and_answers_503_with_retry_after(public: LiveServer) -> None:
    """32 clients each send a query that would run for minutes: each instance runs 2 and queues
    4; every other query is answered 503 with Retry-After at once, /healthz within 2 s, and the
    long ones 503 with Retry-After at the 3 s limit (none is resent to the other instance)."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with ThreadPoolExecutor(32) as pool:
        started = time.monotonic()
        floods = [
            pool.submit(requests.get, public.sparql_url, params={"query": f"{runaway} #{n}"}, timeout=30)
            for n in range(32)
        ]
        assert eventually(lambda: nginx_has_read(public, 32))
        for _ in range(3):
            assert_healthy(public)
        small = ask(public)
        assert small.status_code in (200, 503)
        if small.status_code == 503:
            assert small.headers["Retry-After"]
        answers = [future.result() for future in floods]
    assert {answer.status_code for answer in answers} == {503}
    assert all(answer.headers.get("Retry-After") for answer in answers)
    busy = [answer for answer in answers if "busy" in answer.text]
    assert len(busy) >= 32 - 2 * (2 + 4)  # refused at once: past what 2 instances run and queue
    assert time.monotonic() - started < 3 + 3  # the long ones stopped at the limit, not retried
    timed_out = len([answer for answer in answers if "timed out" in answer.text])
    assert timed_out <= 2 * (2 + 4)
    # The instances serve again once the kernel has ended the runaways' query processes.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and ask(public, timeout=5).status_code != 200:
        time.sleep(0.2)
    assert ask(public).json()["boolean"] is True


def test_a_query_goes_to_the_instance_with_room(public: LiveServer) -> None:
    """8 long queries, each followed by a quick request: nginx sends each query to the instance
    with the fewest requests in progress, so each instance gets 4 (2 run, 2 wait) and none is
    refused at once for a full queue. A round robin sent every long one to the same instance
    (the quick requests took the other's turns), which refused 2 at once while the other had
    room."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with ThreadPoolExecutor(8) as pool:
        floods = []
        for number in range(8):
            params = {"query": f"{runaway} #{number}"}
            floods.append(pool.submit(requests.get, public.sparql_url, params=params, timeout=30))
            assert eventually(lambda sent=number + 1: nginx_has_read(public, sent))  # gone to an instance
            assert_healthy(public)  # a quick request, to an instance too
        answers = [future.result() for future in floods]
    assert [answer.status_code for answer in answers] == [503] * 8
    # Each was run or waited for a query process (then "timed out" or "stayed busy" at 3 s);
    # none was refused at once for a full queue.
    assert not [answer.text for answer in answers if "queries wait" in answer.text]
    assert eventually(lambda: ask(public, timeout=5).status_code == 200, within=5)


# --- item 13: forwarded headers ----------------------------------------------------------------


def test_a_clients_script_name_and_forwarded_headers_do_not_pass_nginx(public: LiveServer) -> None:
    """The instances trust their only peer, nginx (a unix socket in a private folder): what a
    client sends as SCRIPT_NAME or X-Forwarded-* must not reach them (``Location: //evil.example/``
    was issue 17's item 13). nginx drops header names with an underscore and overwrites the
    forwarded ones."""
    assert_client_headers_do_not_move_the_app(public, HEALTH_WITHIN)


# --- an instance dies -------------------------------------------------------------------------


def test_killing_an_instance_under_load_fails_no_request(public: LiveServer) -> None:
    """4 clients query (20 a second each); one instance is killed (SIGKILL, master and workers):
    every request is answered 200 (nginx resends what failed there), and the instance is forked
    again."""
    before = instance_pids(public)
    assert len(before) == 2
    stop = threading.Event()
    statuses: list[int] = []  # every client's, in the order they were answered

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.get(
                    public.sparql_url, params={"query": "SELECT * { ?s ?p ?o } LIMIT 50"}, timeout=10
                )
                statuses.append(response.status_code)
                stop.wait(0.05)  # 4 clients stay under the per-client rate limit (100/s)

    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(client) for _ in range(4)]
        assert eventually(lambda: len(statuses) >= 20, within=20), "the clients are not served"
        victim = before[0]
        for pid in [victim, *child_pids(victim)]:
            os.kill(pid, signal.SIGKILL)
        killed_at = len(statuses)
        # The clients go on through the failover: 40 more answers (nginx resends to the other
        # instance what failed on the killed one).
        assert eventually(lambda: len(statuses) >= killed_at + 40, within=20), "the clients stalled"
        stop.set()
        for future in running:
            future.result()
    assert len(statuses) > 40 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(instance_pids(public)) < 2:
        time.sleep(0.1)
    after = instance_pids(public)
    assert len(after) == 2 and victim not in after
