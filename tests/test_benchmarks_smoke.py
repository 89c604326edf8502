"""Smoke tests of the benchmark kit (not timed): deterministic data, valid queries, the memory reader,
and one tiny run of ``benchmarks/run.py`` on a busy machine (``--allow-load``: marked INVALID)."""

from __future__ import annotations

import doctest
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # `pytest` run from elsewhere than the project root
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import generate, loadgen, protocol, queries, run  # noqa: E402

SMALL = 2_000


def _generate(triples: int = SMALL, seed: int = generate.DEFAULT_SEED) -> tuple[bytes, generate.Manifest]:
    buffer = io.BytesIO()
    manifest = generate.write_ntriples(buffer, triples, seed)
    return buffer.getvalue(), manifest


@pytest.fixture(scope="module")
def small_dataset() -> tuple[bytes, generate.Manifest]:
    return _generate()


@pytest.fixture(scope="module")
def small_store(small_dataset: tuple[bytes, generate.Manifest]) -> ox.Store:
    store = ox.Store()
    store.load(small_dataset[0], format=ox.RdfFormat.N_TRIPLES)
    return store


def test_generator_is_deterministic(small_dataset: tuple[bytes, generate.Manifest]) -> None:
    data, manifest = small_dataset
    again, _ = _generate()
    assert data == again
    assert _generate(seed=7)[0] != data
    assert manifest.triples == SMALL == data.count(b"\n")
    assert manifest.complete_cities >= 1


def test_generated_data_is_valid_ntriples_without_duplicates(small_store: ox.Store) -> None:
    assert len(small_store) == SMALL


def test_gzip_output_is_deterministic(tmp_path: Path) -> None:
    first = generate.generate_file(tmp_path / "a.nt.gz", 500)
    second = generate.generate_file(tmp_path / "b.nt.gz", 500)
    assert (tmp_path / "a.nt.gz").read_bytes() == (tmp_path / "b.nt.gz").read_bytes()
    assert first == second
    assert generate.Manifest.read(tmp_path / "a.nt.gz") == first


def test_city_blocks_rebuild_what_was_written(small_dataset: tuple[bytes, generate.Manifest]) -> None:
    data, manifest = small_dataset
    block = generate.city_block(manifest.seed, 0)
    lines = [f"{s} {p} {o} .".encode() for s, p, o in generate.city_triples(block)]
    assert all(line in data for line in lines[:50])


def test_every_template_instantiates_into_sparql_that_runs(
    small_dataset: tuple[bytes, generate.Manifest], small_store: ox.Store
) -> None:
    manifest = small_dataset[1]
    mix = queries.build_mix(manifest.seed, manifest.complete_cities)
    assert set(mix) == {template.name for template in queries.TEMPLATES}
    for name, instances in mix.items():
        assert len(instances) >= 3, name  # a tiny dataset may not give ten distinct ones
        assert len({instance.text for instance in instances}) == len(instances), name
        for instance in instances:
            assert "{{" not in instance.text
            store_result = small_store.query(instance.text)  # raises SyntaxError if invalid
            expected = {"select": ox.QuerySolutions, "ask": ox.QueryBoolean}.get(
                instance.form, ox.QueryTriples
            )
            assert isinstance(store_result, expected), name
    assert queries.build_mix(manifest.seed, manifest.complete_cities) == mix


def test_anchor_queries_find_something(
    small_dataset: tuple[bytes, generate.Manifest], small_store: ox.Store
) -> None:
    mix = queries.build_mix(small_dataset[1].seed, small_dataset[1].complete_cities)
    for name in ("point_lookup", "join_numeric", "optional", "order_limit", "construct", "describe"):
        assert list(small_store.query(mix[name][0].text)), name


def test_competency_questions_are_read_when_present(tmp_path: Path) -> None:
    assert queries.competency_questions(tmp_path / "missing") == []
    (tmp_path / "b.rq").write_text("PREFIX x: <urn:x:>\nASK { ?s ?p ?o }\n", encoding="utf-8")
    (tmp_path / "a.rq").write_text("#+ summary: a\nCONSTRUCT WHERE { ?s ?p ?o }\n", encoding="utf-8")
    (tmp_path / "c.rq").write_text("SELECT * { SERVICE <https://example.org/s> { ?s ?p ?o } }\n")
    found = queries.competency_questions(tmp_path)
    assert [(q.name, q.form) for q in found] == [("cq:a", "construct"), ("cq:b", "ask")]


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/smaps_rollup").exists(),
    reason=("needs Linux /proc/PID/smaps_rollup: the PSS reader is left untested"),
)
def test_pss_reader_on_this_process() -> None:
    assert os.getpid() in loadgen.process_tree(os.getpid())
    counters = loadgen.smaps_rollup(os.getpid())
    assert counters["Rss"] >= counters["Pss"] > 0
    memory = loadgen.current_pid_memory()
    assert memory.processes >= 1
    assert memory.rss >= memory.pss > 10 * 2**20  # a Python with pyoxigraph loaded is well over 10 MiB


def test_load_generator_refuses_other_hosts() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        loadgen.run_scenario(loadgen.Endpoint("x", "http://198.51.100.7:80/sparql"), [], 1, 0.1)


def test_result_counting() -> None:
    select = loadgen.Response(200, b'{"head":{"vars":["x"]},"results":{"bindings":[{},{}]}}', "", 0.0)
    ask = loadgen.Response(200, b'{"head":{},"boolean":true}', "", 0.0)
    graph = loadgen.Response(
        200, b"<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> <urn:c> .\n", "text/plain", 0.0
    )
    assert loadgen.result_count(select, "select") == 2
    assert loadgen.result_count(ask, "ask") == 1
    assert loadgen.result_count(graph, "construct") == 1
    assert loadgen.result_count(loadgen.Response(500, b"", "", 0.0), "select") is None


@pytest.mark.parametrize("module", [generate, queries, loadgen, protocol, run])
def test_doctests(module: object) -> None:
    failures, _tried = doctest.testmod(module)
    assert failures == 0


def test_a_tiny_run_with_allow_load_is_marked_invalid_everywhere(tmp_path: Path) -> None:
    command = [
        sys.executable, "benchmarks/run.py", "--allow-load", "--size", "2000",
        "--systems", "govkg,oxigraph-mem", "--clients", "2", "--duration", "1", "--rounds", "2",
        "--no-article", "--no-competency",
        "--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "out"),
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    [json_path] = (tmp_path / "out").glob("protocol-2000-*.json")
    run_record = json.loads(json_path.read_text())
    assert run_record["valid"] is False
    assert run_record["invalid_reasons"][0] == "--allow-load given"
    assert "2 round(s), fewer than 3" in run_record["invalid_reasons"]
    [size] = run_record["sizes"]
    assert [round_["order"] for round_ in size["rounds"]] == [
        ["govkg", "oxigraph-mem"],
        ["oxigraph-mem", "govkg"],
    ]
    for round_ in size["rounds"]:
        assert len(round_["load_start"]) == len(round_["load_end"]) == 3
        for system in ("govkg", "oxigraph-mem"):
            figures = round_["results"][system]
            assert figures["errors"] == 0 and figures["cache_hits"] == 0
            assert figures["throughput_qps"] > 0 and figures["pss_mib"] > 0
            assert figures["cpu_ms_per_query"] > 0 and figures["p99_ms"] >= figures["p50_ms"] > 0
    assert not run_record["details"][0]["count_mismatches"]  # the same answers from both
    markdown = json_path.with_suffix(".md").read_text()
    lines = markdown.splitlines()
    headers = [lines[index - 1] for index, line in enumerate(lines) if line.startswith("|---")]
    assert len(headers) >= 5  # the protocol's three, the details' own
    assert all(header.startswith("| **INVALID**") for header in headers)
    assert "| 2000 q/s |" in markdown and "÷ Oxigraph server (memory)" in markdown
