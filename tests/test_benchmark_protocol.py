"""The benchmark protocol (issue 21): refusal on a busy machine, rotation, ratio arithmetic, INVALID.

Nothing here is timed and nothing is faked: the refusal is triggered on this machine's real
``/proc/loadavg`` by a threshold no load average can meet, and a busy process is a real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import loadgen, protocol, run
from tests.conftest import eventually


def _cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has burnt so far (utime + stime, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_refuses_to_start_above_the_load_threshold(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--max-load",
            "-1",
            "--size",
            "2000",
            "--output-dir",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("run.py: refusing to measure: 1-minute load average ")
    assert "> -1.0" in lines[0] and "--allow-load" in lines[0]
    assert "dataset" not in completed.stdout  # refused before generating or starting anything
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(
    not Path("/proc/loadavg").exists(),
    reason=("needs Linux /proc/loadavg: naming a busy process in a benchmark run is left untested"),
)
def test_a_busy_process_is_named_unless_it_is_one_of_the_run() -> None:
    spinner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "# spinner\nimport time\nend = time.time() + 30\nwhile time.time() < end: pass",
        ]
    )
    try:
        assert eventually(lambda: _cpu_seconds(spinner.pid) > 0.05), "the spinner does not spin"
        found = {process.pid: process for process in protocol.busy_processes(1.0, 0.05)}
        assert spinner.pid in found  # above 5 % of a core unless the machine is beyond busy
        assert " -c # spinner import time " in found[spinner.pid].command  # its command line, on one line
        assert str(found[spinner.pid]).startswith(f"pid {spinner.pid} ")
        own = loadgen.process_tree(os.getpid())
        assert spinner.pid not in {process.pid for process in protocol.busy_processes(1.0, 0.05, own)}
    finally:
        spinner.kill()
        spinner.wait(timeout=10)


def test_busy_between_ignores_a_reused_pid_and_the_run_itself() -> None:
    before = {1: ("a", 0), 2: ("b", 0), 3: ("c", 0)}
    after = {1: ("a", 200), 2: ("other", 500), 3: ("c", 300), 4: ("new", 900)}
    # CPU in hundredths of a second, as clock ticks.
    before, after = (
        {pid: (name, value * os.sysconf("SC_CLK_TCK") // 100) for pid, (name, value) in ticks.items()}
        for ticks in (before, after)
    )
    found = protocol.busy_between(before, after, seconds=5.0, min_share=0.2)
    # Busiest first; pid 2 is another process now, pid 4 was not there before.
    assert found == [protocol.BusyProcess(3, "c", 0.6), protocol.BusyProcess(1, "a", 0.4)]
    assert protocol.busy_between(before, after, seconds=5.0, min_share=0.2, exclude=[3]) == found[1:]
    assert (
        protocol.busy_between(before, after, seconds=10.0, min_share=0.2, exclude=[3]) == []
    )  # 0.2: not above


def test_peers_rotate_so_each_leads_and_takes_every_place_once() -> None:
    peers = ["govkg", "naive-flask", "oxigraph-mem", "virtuoso"]
    orders = [protocol.rotated(peers, turn) for turn in range(len(peers))]
    assert [order[0] for order in orders] == peers
    for place in range(len(peers)):
        assert sorted(order[place] for order in orders) == sorted(peers)
    assert protocol.rotated(peers, len(peers)) == peers
    assert protocol.rotated([], 3) == []


def test_ratios_are_taken_within_a_round_then_summarized() -> None:
    # Ratios 0.5, 0.6, 0.9: not the ratio of the medians (100 / 200 = 0.5).
    assert protocol.ratio_spread([100.0, 120.0, 90.0], [200.0, 200.0, 100.0]) == protocol.Spread(
        0.6, 0.5, 0.9
    )
    # A round where a figure is missing or the peer's is zero gives no ratio.
    assert protocol.ratio_spread([1.0, None, 3.0, 4.0], [2.0, 2.0, 0.0, 4.0]) == protocol.Spread(
        0.75, 0.5, 1.0
    )
    assert protocol.ratio_spread([None], [1.0]) is None
    with pytest.raises(ValueError):
        protocol.ratio_spread([1.0, 2.0], [1.0])
    assert protocol.spread([4.0, 1.0]) == protocol.Spread(2.5, 1.0, 4.0)
    assert protocol.Spread(1023.4, 990.0, 1100.0).format(0) == "1,023 (990–1,100)"
    assert protocol.Spread(0.515, 0.515, 0.515).format(unit="×") == "0.52×"


def _run(valid: bool) -> dict:
    def results(qps: float) -> dict:
        return {
            "throughput_qps": qps,
            "cpu_ms_per_query": 1.0,
            "p50_ms": 2.0,
            "p99_ms": 9.0,
            "pss_mib": 100.0,
        }

    rounds = [
        {
            "round": number,
            "order": protocol.rotated(["govkg", "naive-flask"], number),
            "load_start": (0.1, 0.2, 0.3),
            "load_end": (0.2, 0.2, 0.3),
            "busy": [],
            "results": {"govkg": results(100.0 + number), "naive-flask": results(200.0)},
        }
        for number in range(3)
    ]
    return {
        "valid": valid,
        "invalid_reasons": [] if valid else ["--allow-load given", "1-minute load average 3.1 > 0.5"],
        "command": "python benchmarks/run.py --size 100k",
        "started": "2026-12-07 04:00 UTC",
        "load_before": (0.1, 0.2, 0.3),
        "conditions": {
            "cpu_model": "a CPU",
            "cpus": 2,
            "system": "Linux",
            "python": "3.11",
            "versions": {"pyoxigraph": "0.5.13"},
            "git_commit": "abc",
        },
        "sizes": [{"label": "100k", "systems": ["naive-flask", "govkg"], "rounds": rounds}],
    }


def test_the_table_keeps_the_issue_layout_with_medians_and_ratio_spread() -> None:
    markdown = protocol.render_protocol(_run(valid=True))
    lines = markdown.splitlines()
    assert "| | ours | naive Flask + pyoxigraph |" in lines
    assert "| 100k q/s | 101 | 200 |" in lines
    assert "| 100k p50 / p99 ms | 2.0 / 9.0 | 2.0 / 9.0 |" in lines
    assert "| 100k q/s | 0.51× (0.50–0.51) |" in lines
    assert "| 100k server CPU ms per query | 1.00× |" in lines
    assert "| 100k | 2 | naive-flask, govkg | 0.1/0.2/0.3 | 0.2/0.2/0.3 | none |" in lines
    assert "`python benchmarks/run.py --size 100k`" in markdown
    assert "git commit abc" in markdown and "INVALID" not in markdown


def test_an_invalid_run_says_so_in_every_table() -> None:
    markdown = protocol.render_protocol(_run(valid=False))
    lines = markdown.splitlines()
    headers = [lines[index - 1] for index, line in enumerate(lines) if line.startswith("|---")]
    assert len(headers) == 3
    assert all(header.startswith("| **INVALID**") for header in headers)
    assert "**INVALID**: --allow-load given; 1-minute load average 3.1 > 0.5." in lines
    assert protocol.mark_invalid(markdown) == markdown  # marked once


def test_busy_neighbours_cached_or_failed_answers_make_a_run_invalid() -> None:
    def mix(system: str, hits: int = 0, errors: int = 0) -> dict:
        return {"scenario": "mix", "system": system, "round": 0, "cache_hits": hits, "errors": errors}

    quiet = {"size_label": "100k", "rounds": [{"round": 0, "busy": []}], "scenarios": [mix("govkg")]}
    repeated = {"scenario": "repeated", "system": "govkg", "cache_hits": 900, "errors": 0}
    quiet["scenarios"].append(repeated)  # the cache scenario is meant to hit
    assert run.invalid_reasons([quiet], 0.2) == []
    noisy = {
        "size_label": "1M",
        "rounds": [{"round": 0, "busy": ["beside virtuoso 4c: pid 9 x at 50% of a core"]}],
        "scenarios": [mix("govkg", hits=3), mix("virtuoso", errors=2)],
    }
    assert run.invalid_reasons([quiet, noisy], 0.2) == [
        "1M round 1: other processes above 20% of a core (beside virtuoso 4c: pid 9 x at 50% of a core)",
        "1M round 1: govkg answered 3 mix queries from a cache",
        "1M round 1: virtuoso failed 2 mix queries",
    ]
