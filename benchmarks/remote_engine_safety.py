"""Which of the serving issue's safety properties hold with an ``oxigraph serve`` as the engine.

Starts ``oxigraph serve`` in memory (``--union-default-graph``, with or without ``--timeout-s``)
loaded with the bench data and the article, and ours in front of it (``govkg serve --store
sparql:URL``), then checks, each printed with what was seen:

* a runaway query (a four-way cross join) sent to ours: its answer, when, and whether the engine
  still burns CPU after ours answered (the engine's CPU seconds over the next seconds);
* a query that grows the engine's memory (``DISTINCT`` over a cross join): the engine's peak RSS
  while it runs (the engine is killed by this script past ``--rss-cap-mib``, to spare the machine);
* SERVICE and a file ``LOAD``, sent to ours and straight to the engine's port.

    python benchmarks/remote_engine_safety.py --size 100k
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import cpu_per_query, generate, loadgen, run  # noqa: E402

RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
GROWING = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?a ?c ?d ?f { ?a ?b ?c . ?d ?e ?f } }"
SERVICE = "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
LOAD_FILE = "LOAD <file:///etc/hostname> INTO GRAPH <urn:x-local:file>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "govkg-bench")
    parser.add_argument("--query-timeout", type=float, default=3, help="ours: --query-timeout")
    parser.add_argument("--rss-cap-mib", type=float, default=2048)
    args = parser.parse_args(argv)
    triples = generate.parse_size(args.size)
    data_path = args.data_dir / f"bench-{args.size}-seed{args.seed}.nt"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    generate.ensure_dataset(data_path, triples, args.seed)
    with tempfile.TemporaryDirectory(prefix="govkg-remote-safety-") as scratch:
        workdir = Path(scratch)
        article = run.dump_article(workdir)
        for engine_timeout in (None, args.query_timeout):
            folder = workdir / f"timeout-{engine_timeout}"
            folder.mkdir()
            inputs = run.Inputs(data_path, article, folder, triples)
            system = cpu_per_query.start_remote_oxigraph(
                inputs, "auto", [f"--query-timeout={args.query_timeout:g}"], engine_timeout
            )
            try:
                _probe(system, engine_timeout, args.rss_cap_mib)
            finally:
                system.stop()
    return 0


def _probe(system: run.Running, engine_timeout: float | None, rss_cap_mib: float) -> None:
    engine = system.extra_processes[-1]
    engine_url = _engine_url(system)
    ours = system.endpoint.url
    print(f"== oxigraph serve --timeout-s {engine_timeout}; ours at {ours}, engine at {engine_url}")
    # A runaway query.
    before = loadgen.tree_cpu_seconds(engine.pid)
    started = time.monotonic()
    reply = requests.post(ours, data={"query": RUNAWAY}, timeout=120)
    answered = time.monotonic() - started
    print(f"runaway via ours: {reply.status_code} after {answered:.1f} s: {reply.text[:120]!r}")
    spent = [loadgen.tree_cpu_seconds(engine.pid) - before]
    for _ in range(8):
        time.sleep(1)
        spent.append(loadgen.tree_cpu_seconds(engine.pid) - before)
    steps = ", ".join(f"{value:.1f}" for value in spent)
    print(f"  engine CPU s since the query was sent, at its answer then each second after: {steps}")
    _wait_idle(engine.pid, 60)
    # Memory.
    peak, stopped = _peak_rss_while(engine.pid, ours, GROWING, rss_cap_mib)
    print(f"growing query via ours: {stopped}; engine peak RSS {peak:.0f} MiB")
    if engine.poll() is not None:
        print("  the engine is gone: nothing more to probe")
        return
    _wait_idle(engine.pid, 60)
    # SERVICE and files.
    for label, url, field, text in (
        ("SERVICE via ours", ours, "query", SERVICE),
        ("SERVICE to the engine", engine_url + "/query", "query", SERVICE),
        ("file LOAD via ours", ours, "update", LOAD_FILE),
        ("file LOAD to the engine", engine_url + "/update", "update", LOAD_FILE),
    ):
        reply = requests.post(url, data={field: text}, timeout=60)
        print(f"{label}: {reply.status_code} {reply.text[:160]!r}")
    reply = requests.post(
        engine_url + "/update", data={"update": "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"}, timeout=60
    )
    print(f"INSERT DATA straight to the engine: {reply.status_code}")


def _engine_url(system: run.Running) -> str:
    engine = system.extra_processes[-1]
    for port in _listening_ports(engine.pid):
        return f"http://127.0.0.1:{port}"
    raise RuntimeError("the engine listens on no port")


def _listening_ports(pid: int) -> list[int]:
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:
            ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_idle(pid: int, limit: float) -> None:
    """Until the engine spends under 0.1 s of CPU in a second (a query it still runs has ended)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = loadgen.tree_cpu_seconds(pid)
        time.sleep(1)
        if loadgen.tree_cpu_seconds(pid) - before < 0.1:
            return
    print(f"  the engine was still busy {limit:.0f} s later")


def _peak_rss_while(pid: int, url: str, query: str, cap_mib: float) -> tuple[float, str]:
    outcome: list[str] = []

    def send() -> None:
        started = time.monotonic()
        try:
            reply = requests.post(url, data={"query": query}, timeout=120)
            outcome.append(f"{reply.status_code} after {time.monotonic() - started:.1f} s")
        except requests.RequestException as error:
            outcome.append(f"{type(error).__name__} after {time.monotonic() - started:.1f} s")

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    peak = 0.0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        peak = max(peak, _rss_mib(pid))
        if peak > cap_mib:
            os.kill(pid, signal.SIGKILL)
            sender.join(30)
            return peak, f"engine past {cap_mib:.0f} MiB, killed by this script ({outcome})"
        if not sender.is_alive():
            # the engine may keep going after ours answered: watch it a few seconds more
            for _ in range(50):
                time.sleep(0.1)
                peak = max(peak, _rss_mib(pid))
            break
        time.sleep(0.1)
    sender.join(30)
    return peak, outcome[0] if outcome else "no answer"


if __name__ == "__main__":
    raise SystemExit(main())
