"""The ``workers`` setting's default, ``auto``: web workers sized to the store (issue 14)."""

from __future__ import annotations

import http.client
import os
import sys
import time
from pathlib import Path

import pytest
import requests
from govkg.settings import load_settings
from govkg.store import backends
from govkg.web.app import create_app
from govkg.web.serving import web_workers

from tests.conftest import start_server, stop_server, wait_for_web_workers

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason=("needs Linux /proc: the auto worker count is left untested")
)


def test_auto_is_the_default():
    assert load_settings(environ={})["workers"] == "auto"
    assert load_settings({"workers": "3"}, environ={})["workers"] == 3
    with pytest.raises(ValueError, match="workers"):
        load_settings({"workers": "0"}, environ={})


def test_auto_gives_a_small_in_memory_store_two_workers_and_a_big_one_one(monkeypatch):
    assert web_workers("auto", create_app()) == 2
    assert web_workers(1, create_app()) == 1
    # The same store counted as big: the article graph's few thousand quads over a lowered bar.
    monkeypatch.setattr(backends, "LARGE_IN_MEMORY", 100)
    big = create_app()
    assert web_workers("auto", big) == 1
    assert web_workers(3, big) == 3


def test_a_server_started_with_auto_serves_on_two_workers(tmp_path):
    server = start_server(tmp_path, "--workers", "auto")
    try:
        assert len(wait_for_web_workers(server, 2)) == 2, server.log()
        for _ in range(4):
            response = requests.post(server.sparql_url, data={"query": "ASK {}"}, timeout=10)
            assert response.status_code == 200
            assert response.json()["boolean"] is True
    finally:
        stop_server(server)


def _established(pids: set[int], port: int) -> dict[int, int]:
    """The connections to ``port`` each of ``pids`` holds open, from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    held = {}
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:  # closed meanwhile
                pass
        held[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return held


def test_kept_alive_connections_are_shared_out_up_to_each_workers_query_processes(tmp_path):
    """Issue 21: two web workers of 2 query processes each, 4 kept-alive clients: 2 and 2 (gunicorn
    alone often gives 3 and 1, and one of the three waits for a query process while one is idle);
    connections past that are still taken."""
    server = start_server(tmp_path, "--workers", "2", "--query-workers", "2")
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    try:
        workers = wait_for_web_workers(server, 2)
        assert len(workers) == 2, server.log()
        for _ in range(3):
            connections = []
            try:
                for count in range(6):
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    assert response.status == 200
                    connections.append(connection)
                    if count == 3:
                        assert sorted(_established(workers, port).values()) == [2, 2], server.log()
                assert sum(_established(workers, port).values()) == 6
            finally:
                for connection in connections:
                    connection.close()
            deadline = time.monotonic() + 10
            while sum(_established(workers, port).values()) and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop_server(server)
