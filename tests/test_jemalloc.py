"""``govkg serve`` with jemalloc preloaded, as the README offers (issue 21): the allocator is the one
every process of the server uses, and a query's memory bound (``RLIMIT_AS``, which an allocator's
way of reserving address space could trip early or late) holds as with glibc's malloc."""

from __future__ import annotations

import ctypes.util
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import query_process_pids, start_server, stop_server, web_worker_pids
from tests.test_security import MEMORY_HOGS

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and LD_PRELOAD"),
    pytest.mark.skipif(
        ctypes.util.find_library("jemalloc") is None,
        reason="libjemalloc2 is not installed (scripts/install-test-deps.sh installs it)",
    ),
]

PRELOAD = {"LD_PRELOAD": "libjemalloc.so.2"}  # as the README writes it: the loader finds the library
TIMEOUT = 60


def _uses_jemalloc(pid: int) -> bool:
    return "libjemalloc" in Path(f"/proc/{pid}/maps").read_text()


def test_every_process_allocates_with_jemalloc_and_the_memory_bound_holds(tmp_path):
    server = start_server(
        tmp_path,
        "--query-memory-limit",
        str(200 * 1024 * 1024),
        "--query-timeout",
        "30",
        env=PRELOAD,
    )
    try:
        answer = requests.post(server.sparql_url, data={"query": "ASK { ?s ?p ?o }"}, timeout=TIMEOUT)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        (worker,) = web_worker_pids(server.process.pid)
        processes = query_process_pids(server)
        assert processes
        assert all(_uses_jemalloc(pid) for pid in {server.process.pid, worker, *processes})

        # Past the memory bound (RLIMIT_AS): the kernel ends that query process, the client gets 503.
        response = requests.get(server.sparql_url, params={"query": MEMORY_HOGS["sort"]}, timeout=TIMEOUT)
        assert response.status_code == 503
        assert "memory limit" in response.text
        assert web_worker_pids(server.process.pid) == {worker}
        again = requests.post(server.sparql_url, data={"query": "ASK { ?s ?p ?o }"}, timeout=TIMEOUT)
        assert again.status_code == 200
    finally:
        stop_server(server)
