"""The persistent on-disk store: ``govkg load FILE… --store DIR`` and ``govkg serve --store DIR``."""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import shutil
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import run_govkg, start_server, stop_server

BASE = "https://w3id.org/govkg/"
CSV = "text/csv"


def _write_nt(path: Path, count: int, start: int = 0) -> Path:
    lines = [
        f'<https://bench.example/id/{i}> <http://www.w3.org/2000/01/rdf-schema#label> "item {i}" .\n'
        for i in range(start, start + count)
    ]
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.writelines(lines)
    else:
        path.write_text("".join(lines), encoding="utf-8")
    return path


def _count(url: str, query: str) -> int:
    response = requests.post(url + "sparql", data={"query": query}, headers={"Accept": CSV}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.text.split()[1])


def _graph_counts(store_dir: Path) -> dict[str, int]:
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_dir / "oxigraph"))
    try:
        rows = store.query("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {row[0].value: int(row[1].value) for row in rows}
    finally:
        del store


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("persistent")
    big = _write_nt(folder / "big.nt", 20000)
    small = _write_nt(folder / "small.nt.gz", 300, start=50000)
    completed = run_govkg("load", str(big), f"urn:test:small={small}", "--store", str(folder / "store"))
    assert completed.returncode == 0, completed.stderr
    assert "20,000 triples into <https://w3id.org/govkg/graph/data/big>" in completed.stderr
    return folder / "store"


def test_load_puts_each_file_in_its_graph_with_the_article(loaded_store: Path) -> None:
    counts = _graph_counts(loaded_store)
    assert counts[BASE + "graph/data/big"] == 20000
    assert counts["urn:test:small"] == 300
    assert {BASE + f"graph/{slug}" for slug in ("ontology", "facts", "links")} <= set(counts)
    state = json.loads((loaded_store / "state.json").read_text())
    assert state["graphs"][BASE + "graph/data/big"]["triples"] == 20000
    assert not (loaded_store / "rollback").exists()


def test_a_bad_line_stops_the_load_and_leaves_the_store_as_it_was(loaded_store: Path, tmp_path: Path) -> None:
    before_counts = _graph_counts(loaded_store)
    before_state = (loaded_store / "state.json").read_text()
    bad = _write_nt(tmp_path / "bad.nt", 5000)
    with bad.open("a", encoding="utf-8") as out:
        out.write('<https://bench.example/x> <https://bench.example/p> "unterminated .\n')
    replacement = _write_nt(tmp_path / "big.nt", 10)  # would replace graph/data/big, loaded first
    completed = run_govkg("load", str(replacement), str(bad), "--store", str(loaded_store))
    assert completed.returncode == 1
    assert f"{bad}, line 5001" in completed.stderr or "bad.nt, line 5001" in completed.stderr
    assert "the store is unchanged" in completed.stderr
    assert _graph_counts(loaded_store) == before_counts
    assert (loaded_store / "state.json").read_text() == before_state
    assert not (loaded_store / "rollback").exists()


def test_a_failed_first_load_says_the_new_store_is_empty(tmp_path: Path) -> None:
    """A new store had nothing to put back: the messages say it is empty, not "as it was"."""
    bad = tmp_path / "bad.nt"
    bad.write_text('<https://bench.example/x> <https://bench.example/p> "unterminated .\n', encoding="utf-8")
    for attempt in range(2):  # a second try finds the empty store the first one left
        completed = run_govkg("load", str(bad), "--store", str(tmp_path / "new"))
        assert completed.returncode == 1, attempt
        assert "the first load into this store did not finish; the store is empty" in completed.stderr
        assert "(nothing was loaded: the new store is empty)" in completed.stderr
        assert "put back" not in completed.stderr and "unchanged" not in completed.stderr
    assert not (tmp_path / "new" / "state.json").exists()
    good = _write_nt(tmp_path / "good.nt", 10)
    assert run_govkg("load", str(good), "--store", str(tmp_path / "new")).returncode == 0
    completed = run_govkg("load", str(bad), "--store", str(tmp_path / "new"))
    assert "put back as it was before the last load" in completed.stderr
    assert "(the store is unchanged)" in completed.stderr


def test_an_unfinished_load_is_rolled_back_when_the_store_is_next_opened(tmp_path: Path) -> None:
    from govkg.store.persistent import StoreDirectory, load_files

    folder = StoreDirectory(tmp_path / "store")
    load_files(folder, [str(_write_nt(tmp_path / "a.nt", 100))], BASE, progress=False)
    import pyoxigraph as ox

    store = folder.open_read_write()
    store.backup(str(folder.rollback))  # what a load does first; then it "dies" halfway
    store.bulk_load(b'<urn:x:s> <urn:x:p> "half" .', ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:x:g"))
    del store
    assert folder.recover()
    assert "urn:x:g" not in _graph_counts(folder.path)
    assert _graph_counts(folder.path)[BASE + "graph/data/a"] == 100


def test_serve_starts_without_parsing_and_answers_from_the_store(loaded_store: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    # One web worker may be handed all 8 concurrent queries below (the kernel picks who accepts), so its
    # queue holds them all: this test is about shared store handles, not admission (tested in test_workers).
    server = start_server(
        tmp_path,
        *("--store", str(loaded_store), "--workers", "2", "--base-iri", BASE),
        *("--query-timeout", "3", "--query-queue", "8"),
    )
    try:
        assert time.monotonic() - started < 15  # a Python start; the data is not read
        ready = requests.get(server.url + "readyz", timeout=10).json()
        assert ready["store"] == "disk"
        assert _count(server.url, "SELECT (COUNT(*) AS ?n) { GRAPH <urn:test:small> { ?s ?p ?o } }") == 300
        page = requests.get(server.url + "id/place/zhaoqing", headers={"Accept": "text/turtle"}, timeout=10)
        assert page.status_code == 200 and "Zhaoqing" in page.text
        # Many queries at once, over both web workers and their query processes (each has its own handle).
        query = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } FILTER (?g = <%s>) }" % (
            BASE + "graph/data/big"
        )
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            counts = list(pool.map(lambda _: _count(server.url, query), range(40)))
        assert counts == [20000] * 40
        # The time limit still kills a runaway query on a disk store.
        slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        response = requests.post(
            server.url + "sparql", data={"query": slow}, headers={"Accept": CSV}, timeout=60
        )
        assert response.status_code == 503
        assert _count(server.url, query) == 20000
        dump = requests.get(server.url + "dumps/govkg.nq.gz", timeout=60)
        assert dump.status_code == 200
        assert gzip.decompress(dump.content).count(b"<urn:test:small>") == 300
        void = requests.get(server.url + ".well-known/void", headers={"Accept": "text/turtle"}, timeout=60)
        assert void.status_code == 200 and "void:triples" in void.text
    finally:
        stop_server(server)


def test_each_process_reads_through_its_own_handle(loaded_store: Path) -> None:
    """A RocksDB handle is never used across fork(): the child opens its own (see govkg.store.persistent)."""
    import os

    from govkg.store.persistent import PersistentStore, StoreDirectory

    handle = PersistentStore(StoreDirectory(loaded_store))
    parent_store = handle.store
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new handle, which answers
        try:
            child_store = handle.store
            count = len(list(child_store.quads_for_pattern(None, None, None, None)))
            os.write(write, f"{child_store is parent_store} {count}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        same, count = answer.read().split()
    assert same == "False" and int(count) > 20000
    assert handle.store is parent_store


def test_load_shows_progress_with_triples_per_second(tmp_path: Path) -> None:
    data = _write_nt(tmp_path / "some.nt", 1000)
    completed = run_govkg("load", str(data), "--store", str(tmp_path / "store"), "--progress")
    assert completed.returncode == 0, completed.stderr
    assert "1,000 triples" in completed.stderr and "triples/s" in completed.stderr


def test_an_xml_bomb_is_refused_before_loading(loaded_store: Path, tmp_path: Path) -> None:
    before = _graph_counts(loaded_store)
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>&b;'
        "</rdf:Description></rdf:RDF>\n",
        encoding="utf-8",
    )
    completed = run_govkg("load", str(bomb), "--store", str(loaded_store))
    assert completed.returncode == 1
    assert "bomb.rdf, line 2" in completed.stderr and "the store is unchanged" in completed.stderr
    assert _graph_counts(loaded_store) == before


def test_an_interrupted_load_leaves_the_bar_where_it_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C mid-load: the bar says how far the reading got, never 100 %; a finished load counts triples."""
    import io

    from govkg.store.persistent import _Progress

    data = b"<urn:a> <urn:b> <urn:c> .\n" * 100
    reader = _Progress(io.BytesIO(data), Path("some.nt"), len(data), line_based=True, terminal=True)
    reader.read(len(data) // 4)
    reader.close(None)  # what bulk_load_file does when the load raised (KeyboardInterrupt too)
    stopped = capsys.readouterr().err
    assert "stopped" in stopped and "100%" not in stopped
    reader = _Progress(io.BytesIO(data), Path("some.nt"), len(data), line_based=True, terminal=True)
    reader.read()
    reader.close(100)
    assert "100 triples loaded" in capsys.readouterr().err


def test_twenty_stops_on_a_disk_store_all_end_cleanly(loaded_store: Path, tmp_path: Path) -> None:
    """Issue 17, item 17: about 3 of 40 stops ended in SIGSEGV or SIGABRT (``std::system_error
    Invalid argument``): a worker's exit ran RocksDB's destructors for thread pools that only
    the master had. Every stop here: exit status 0 and no worker killed by a signal."""
    failures = []

    def stops(lane: int) -> None:
        """10 of the 20 stops, one after the other, on a copy of the store of this lane's own."""
        store = shutil.copytree(loaded_store, tmp_path / f"store-{lane}")
        for cycle in range(lane, 20, 2):
            server = start_server(tmp_path, "--store", str(store), "--workers", "2", "--base-iri", BASE)
            try:
                for query in ("ASK { ?s ?p ?o }", "SELECT * { ?s ?p ?o } LIMIT 3"):
                    assert requests.get(server.sparql_url, params={"query": query}, timeout=30).ok
            finally:
                server.process.send_signal(signal.SIGTERM)  # to the master, as an operator stops it
                status = server.process.wait(timeout=60)
                stop_server(server)
            log = server.log()
            if status != 0 or "was sent SIG" in log or "system_error" in log:
                failures.append((cycle, status, [line for line in log.splitlines() if "SIG" in line][:3]))

    # Two servers at a time, each on its own store (a store is one server's): the 20 stops in
    # about half the time.
    with concurrent.futures.ThreadPoolExecutor(2) as lanes:
        for lane in [lanes.submit(stops, lane) for lane in range(2)]:
            lane.result()
    assert failures == []
