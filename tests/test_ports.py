"""benchmarks.processes.start_listening, how the tests start servers: a server that loses its port
to another process is started again on another port, and counts as ready only when it holds its
listening socket itself (pytest-xdist runs two workers that start servers at the same time)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from benchmarks.processes import listening_pids, listens, start_listening, stop_process_group


def _http_server(port: int, tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(tmp_path),
        str(port),
    ]


def _answers(ports: tuple[int, ...]) -> bool:
    return requests.get(f"http://127.0.0.1:{ports[0]}/", timeout=2).status_code == 200


def _lists_directory(ports: tuple[int, ...]) -> bool:
    """Ready only when http.server itself answers (the other process's empty 200 does not count)."""
    return "Directory listing" in requests.get(f"http://127.0.0.1:{ports[0]}/", timeout=2).text


class _Other:
    """Another worker's server: takes the port it is given and answers 200 to every GET."""

    def __init__(self) -> None:
        self.server: http.server.ThreadingHTTPServer | None = None

    def take(self, port: int) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Ok)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def other() -> Iterator[_Other]:
    other = _Other()
    yield other
    other.stop()


def test_a_server_that_exits_because_its_port_was_taken_is_started_on_another(tmp_path, other):
    launched: list[tuple[int, ...]] = []

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        if not launched:
            other.take(ports[0])  # between free_ports() and the server's bind
        launched.append(ports)
        return subprocess.Popen(
            _http_server(ports[0], tmp_path), start_new_session=True, stderr=subprocess.DEVNULL
        )

    process, ports = start_listening(launch, _lists_directory, timeout=20)
    try:
        assert len(launched) == 2 and ports == launched[1] != launched[0]
        assert listens(process.pid, ports[0]) and not listens(process.pid, launched[0][0])
    finally:
        stop_process_group(process, grace=5)


def test_an_answer_from_another_process_on_the_port_is_not_readiness(tmp_path, other):
    launched: list[subprocess.Popen] = []

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        if not launched:
            other.take(ports[0])
            # A server that could not bind but keeps running (gunicorn retries its bind for a while).
            process = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
            )
        else:
            process = subprocess.Popen(
                _http_server(ports[0], tmp_path), start_new_session=True, stderr=subprocess.DEVNULL
            )
        launched.append(process)
        return process

    process, ports = start_listening(launch, _answers, timeout=20)
    try:
        assert len(launched) == 2 and process is launched[1]
        assert launched[0].poll() is not None  # the one that was answered for was stopped
        assert listens(process.pid, ports[0]) and process.pid in listening_pids(ports[0])
    finally:
        stop_process_group(process, grace=5)


def test_a_server_that_says_its_port_was_in_use_is_started_on_another(tmp_path):
    # The other worker's free_ports() held the port a moment, without listening: only the log tells.
    launched: list[tuple[int, ...]] = []
    log = tmp_path / "server.log"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        launched.append(ports)
        if len(launched) == 1:
            refused = "import sys; print('OSError: [Errno 98] Address already in use'); sys.exit(1)"
            with log.open("w") as out:
                return subprocess.Popen([sys.executable, "-c", refused], stdout=out, start_new_session=True)
        return subprocess.Popen(
            _http_server(ports[0], tmp_path), start_new_session=True, stderr=subprocess.DEVNULL
        )

    process, ports = start_listening(launch, _answers, timeout=20, log=lambda ports: log.read_text())
    try:
        assert len(launched) == 2 and ports == launched[1]
        assert listens(process.pid, ports[0])
    finally:
        stop_process_group(process, grace=5)


def test_a_server_that_fails_otherwise_is_not_retried(tmp_path):
    launched: list[tuple[int, ...]] = []

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        launched.append(ports)
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)

    with pytest.raises(RuntimeError, match="exited with 3"):
        start_listening(launch, _answers, timeout=20, log=lambda ports: "its log")
    assert len(launched) == 1


def test_two_ports_are_distinct_and_both_must_be_held(tmp_path, other):
    launched: list[tuple[int, ...]] = []

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        if not launched:
            other.take(ports[1])  # the second port (Virtuoso's HTTP port, say) is lost
        launched.append(ports)
        code = (
            "import socket, sys, time\n"
            "first = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
            "second = socket.create_server(('127.0.0.1', int(sys.argv[2])))\n"
            "time.sleep(60)\n"
        )
        command = [sys.executable, "-c", code, *map(str, ports)]
        return subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)

    ready = lambda ports: all(listening_pids(port) for port in ports)  # noqa: E731
    process, ports = start_listening(launch, ready, ports=2, timeout=20)
    try:
        assert len(launched) == 2 and ports == launched[1] and len(set(ports)) == 2
        assert all(listens(process.pid, port) for port in ports)
    finally:
        stop_process_group(process, grace=5)
