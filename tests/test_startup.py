"""Start-up does no whole-dataset work: dumps and counts wait for their first request (real server, HTTP).

The server keeps its dumps in a temporary folder of its own (``govkg-cache-*`` in the
system's temp folder, here the test's ``TMPDIR``), so what was built is seen on disk as
well as in each download's ``X-Govkg-Cache`` header (``miss``: this request built it).
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests

from benchmarks.generate import write_ntriples
from tests.conftest import LiveServer, start_server, stop_server

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture()
def temp() -> Iterator[Path]:
    """A temp folder of the server's own, with a short path: the query processes' unix socket
    goes in it, and a socket's path has at most 107 bytes (pytest's tmp_path, under a
    pytest-xdist worker's folder, can be longer)."""
    with tempfile.TemporaryDirectory(prefix="govkg-tmp-") as folder:
        yield Path(folder)


def _start(tmp_path: Path, temp: Path, *args: str) -> tuple[LiveServer, Path]:
    """A fresh server whose temp folder is ``temp``; returns it and that folder."""
    return start_server(tmp_path, *args, env={"TMPDIR": str(temp)}), temp


def _built_files(temp: Path) -> list[str]:
    """The dump files in the server's cache folder (locks and checksum files left out)."""
    (folder,) = temp.glob("govkg-cache-*")  # made at start-up, before the workers fork
    return sorted(p.name for p in folder.rglob("govkg.*") if p.suffix != ".sha256")


def _sparql_ask(server: LiveServer, query: str) -> bool:
    response = requests.post(
        server.sparql_url,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


@pytest.fixture(scope="module")
def extra_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 triples of the benchmark generator, as a ``--data`` file."""
    path = tmp_path_factory.mktemp("data") / "extra.nt"
    with path.open("wb") as out:
        write_ntriples(out, 2_000)
    return path


def test_ready_before_any_dump_or_count_is_built(tmp_path: Path, temp: Path, extra_data: Path) -> None:
    server, temp = _start(tmp_path, temp, "--data", str(extra_data))
    try:
        assert _built_files(temp) == []  # ready, and nothing built
        metadata = f"{server.url}graph/metadata"
        # The stored metadata graph holds no figure not computed: no counts, no sizes.
        assert not _sparql_ask(server, f"ASK {{ GRAPH <{metadata}> {{ ?d <{VOID.triples}> ?n }} }}")
        assert not _sparql_ask(server, f"ASK {{ GRAPH <{metadata}> {{ ?d <{DCAT.byteSize}> ?n }} }}")
        assert _sparql_ask(server, f"ASK {{ GRAPH <{metadata}> {{ ?d <{DCAT.downloadURL}> ?u }} }}")

        first = requests.get(
            server.url + "dumps/govkg.nt", headers={"Accept-Encoding": "identity"}, timeout=60
        )
        assert first.status_code == 200 and first.headers["X-Govkg-Cache"] == "miss"
        assert _built_files(temp) == ["govkg.nt"]  # that file alone
        second = requests.get(
            server.url + "dumps/govkg.nt", headers={"Accept-Encoding": "identity"}, timeout=60
        )
        assert second.headers["X-Govkg-Cache"] == "hit"
        assert second.content == first.content
        for header in ("ETag", "Repr-Digest", "Content-Length"):
            assert second.headers[header] == first.headers[header]
        assert len(first.content.splitlines()) > 2_000  # the extra file is in the dump

        # The served documents compute their figures on first request.
        void = rdflib.Graph().parse(data=requests.get(server.url + ".well-known/void", timeout=60).text)
        dataset = rdflib.URIRef(server.url + "id/dataset/zhaoqing-rule-of-law")
        assert int(void.value(dataset, VOID.triples)) > 2_000
        assert _built_files(temp) == ["govkg.nt"]  # VoID needs no dump
        catalogue = rdflib.Graph().parse(data=requests.get(server.url + "catalog.ttl", timeout=120).text)
        assert len(list(catalogue.objects(None, DCAT.byteSize))) == 12
        assert len(_built_files(temp)) == 12  # the catalogue describes every file: all built
    finally:
        stop_server(server)


def test_concurrent_first_requests_of_a_dump_get_the_same_bytes(
    tmp_path: Path, temp: Path, extra_data: Path
) -> None:
    # Two web workers: the lock is across processes too. Turtle is the test: its writer may
    # order blank nodes differently from one build to the next.
    server, temp = _start(tmp_path, temp, "--data", str(extra_data), "--workers", "2")
    try:
        clients = 8
        barrier = threading.Barrier(clients)
        answers: list[requests.Response] = []
        errors: list[BaseException] = []

        def download() -> None:
            try:
                barrier.wait(timeout=30)
                answers.append(
                    requests.get(
                        server.url + "dumps/govkg.ttl", headers={"Accept-Encoding": "identity"}, timeout=120
                    )
                )
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=download) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert all(answer.status_code == 200 for answer in answers)
        assert len({answer.content for answer in answers}) == 1
        assert len({answer.headers["ETag"] for answer in answers}) == 1
        assert Counter(answer.headers["X-Govkg-Cache"] for answer in answers) == {
            "miss": 1,
            "hit": clients - 1,
        }
        assert _built_files(temp) == ["govkg.ttl"]
        # The catalogue (whichever worker answers) gives the checksum of those very bytes.
        import hashlib

        catalogue = rdflib.Graph().parse(data=requests.get(server.url + "catalog.ttl", timeout=120).text)
        checksums = {
            str(value)
            for value in catalogue.objects(None, rdflib.URIRef("http://spdx.org/rdf/terms#checksumValue"))
        }
        assert hashlib.sha256(answers[0].content).hexdigest() in checksums
    finally:
        stop_server(server)


def test_the_start_up_benchmark_times_a_start() -> None:
    from benchmarks.startup import time_to_ready

    assert 0 < time_to_ready([], timeout=60) < 60
