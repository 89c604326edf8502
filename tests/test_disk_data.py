"""``disk_data_bytes``: big ``data`` files are served from a temporary on-disk store, removed at exit."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.conftest import query_process_pids, start_server, stop_server

QUERY = "SELECT ?o WHERE { <urn:x:a> <urn:x:p> ?o }"
_ON_DISK = re.compile(r"temporary on-disk store in (\S+) ")


def _answer(server) -> list[str]:  # noqa: ANN001
    response = requests.post(server.sparql_url, data={"query": QUERY}, timeout=10)
    assert response.status_code == 200, response.text
    return [row["o"]["value"] for row in response.json()["results"]["bindings"]]


def test_data_over_the_limit_is_served_from_a_temporary_disk_store(tmp_path):
    data = tmp_path / "extra.nt"
    data.write_text('<urn:x:a> <urn:x:p> "one" .\n', encoding="utf-8")
    server = start_server(tmp_path, "--data", str(data), "--disk-data-bytes", "1")
    try:
        assert _answer(server) == ["one"]
        assert query_process_pids(server)  # queries still run in query processes
        found = _ON_DISK.search(server.log())
        assert found, server.log()
        folder = Path(found.group(1))
        assert (folder / "store").is_dir()
    finally:
        stop_server(server)
    assert not folder.exists()


def test_data_within_the_limit_stays_in_memory(tmp_path):
    data = tmp_path / "extra.nt"
    data.write_text('<urn:x:a> <urn:x:p> "two" .\n', encoding="utf-8")
    server = start_server(tmp_path, "--data", str(data), "--disk-data-bytes", str(1 << 20))
    try:
        assert _answer(server) == ["two"]
        assert not _ON_DISK.search(server.log())
    finally:
        stop_server(server)
