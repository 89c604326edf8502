"""The ``workers`` setting's default, ``auto``: web workers sized to the store (issue 14)."""

from __future__ import annotations

import sys

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
