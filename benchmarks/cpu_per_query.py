"""Server CPU per query of ours and the naive app, side by side, on a machine that may be busy.

Load distorts queries per second, much less the CPU each server spends per query (user + system
time of its whole process tree, from ``/proc``). This starts ours (``govkg serve --data``) and the
naive app (``benchmarks/naive_app.py``) on the same bench data, warms both up, then sends the
benchmark's mix (every request with its own comment: every query evaluated) ``--requests`` times
from ``--clients`` keep-alive clients to each in turn, ``--repeats`` times, alternating the order,
and prints each system's CPU ms per query (median and spread), p50 / p99 latency per repeat (and
ours ÷ naive p99 within each repeat) and PSS. Not the protocol (``benchmarks/run.py``): no q/s
claims from it.

``--baseline DIR`` adds another build of ours, ``govkg-base``: ``DIR/govkg`` holds its ``server/``
folder (``git archive main server | tar -x -C DIR && mv DIR/server DIR/govkg``), put first on
``PYTHONPATH``. So a change and the build before it are measured in one run, alternately, each
against the naive app in the same repeat.

``--env SYSTEM:NAME=VALUE`` starts one system with one more environment variable, e.g.
``--env govkg:LD_PRELOAD=libjemalloc.so.2``. A system may be listed twice under two labels,
``naive-flask`` and ``naive-flask@jemalloc``: the same server, started twice, each with its own
``--env``.

``--without describe`` leaves that query (or a comma-separated list) out of the mix.

``govkg-remote-oxigraph`` is ours in front of an ``oxigraph serve`` in memory (``--union-default-graph
--timeout-s`` ``--oxigraph-timeout``), loaded as the ``oxigraph-mem`` peer is, through ``govkg serve
--store sparql:URL``: its CPU and PSS are both process trees' summed (``govkg serve`` and ``oxigraph
serve``; as for every system, the ``--serve-option`` arguments go to ``govkg serve`` only).

    python benchmarks/cpu_per_query.py --size 100k --requests 2000
    python benchmarks/cpu_per_query.py --size 1M --serve-option=--store-threshold=0
    python benchmarks/cpu_per_query.py --size 1M --systems govkg,govkg-remote-oxigraph,oxigraph-mem
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import generate, loadgen, protocol, queries, run  # noqa: E402
from benchmarks.processes import stop_process_group  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "govkg-bench")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--systems", default="govkg,naive-flask")
    parser.add_argument("--workers", default="auto", help="ours: --workers")
    parser.add_argument(
        "--serve-option", action="append", default=[], help="ours: one more `govkg serve` argument"
    )
    parser.add_argument("--baseline", type=Path, help="a folder holding govkg/: another build of ours")
    parser.add_argument(
        "--env", action="append", default=[], help="SYSTEM:NAME=VALUE, one more variable for SYSTEM"
    )
    parser.add_argument(
        "--oxigraph-timeout", type=float, default=10, help="govkg-remote-oxigraph: oxigraph's --timeout-s"
    )
    parser.add_argument("--without", default="", help="queries of the mix left out, e.g. describe")
    args = parser.parse_args(argv)

    triples = generate.parse_size(args.size)
    data_path = args.data_dir / f"bench-{args.size}-seed{args.seed}.nt"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    manifest = generate.ensure_dataset(data_path, triples, args.seed)
    skipped = set(filter(None, args.without.split(",")))
    built = queries.build_mix(manifest.seed, manifest.complete_cities)
    mix = [sets for query, sets in built.items() if query not in skipped]
    names = args.systems.split(",")
    if args.baseline is not None:
        names.append(BASELINE)
    print(f"load average at start: {protocol.load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="govkg-cpu-") as scratch:
        workdir = Path(scratch)
        article = run.dump_article(workdir)
        running: dict[str, run.Running] = {}
        try:
            for name in names:
                folder = workdir / name.replace("@", "-")
                folder.mkdir()
                inputs = run.Inputs(data_path, article, folder, triples)
                with _environment(args.env, name):
                    if name == run.OURS:
                        system = _start_ours(inputs, args.workers, args.serve_option)
                    elif name == BASELINE:
                        system = _start_baseline(inputs, args.workers, args.serve_option, args.baseline)
                    elif name.split("@")[0] == REMOTE:
                        system = start_remote_oxigraph(
                            inputs, args.workers, args.serve_option, args.oxigraph_timeout
                        )
                    else:
                        system = run.STARTERS[name.split("@")[0]](inputs)
                running[name] = system
                print(f"{name}: ready in {system.load_seconds:.2f} s", flush=True)
                errors = loadgen.warm_up(system.endpoint, mix, rounds=2)
                if errors:
                    print(f"{name}: {errors} errors in the warm-up", flush=True)
            spent: dict[str, list[float]] = {name: [] for name in names}
            tails: dict[str, list[float]] = {name: [] for name in names}
            rates: dict[str, list[float]] = {name: [] for name in names}
            for repeat in range(args.repeats):
                for name in protocol.rotated(names, repeat):
                    system = running[name]
                    others = [extra.pid for extra in system.extra_processes]
                    others_before = sum(loadgen.tree_cpu_seconds(pid) for pid in others)
                    result = loadgen.run_scenario(
                        system.endpoint,
                        mix,
                        args.clients,
                        3600,
                        max_requests=args.requests,
                        server_pid=system.process.pid,
                    )
                    others_spent = sum(loadgen.tree_cpu_seconds(pid) for pid in others) - others_before
                    cpu_seconds = (result.server_cpu_seconds or 0) + others_spent
                    per_query = cpu_seconds / max(result.completed, 1) * 1000
                    if others:
                        engine = others_spent / max(result.completed, 1) * 1000
                        by_query = result.median_by_query().items()
                        medians = ", ".join(f"{query} {seconds * 1000:.1f}" for query, seconds in by_query)
                        print(
                            f"  {name}: of which the engine's tree {engine:.3f} ms; "
                            f"p50 ms by query: {medians}",
                            flush=True,
                        )
                    spent[name].append(per_query)
                    p50, p99 = (result.percentile(f) or 0.0 for f in (0.50, 0.99))
                    tails[name].append(p99 * 1000)
                    rates[name].append(result.throughput)
                    print(
                        f"  {name}: {result.completed} answered, {result.errors} errors, "
                        f"{per_query:.3f} ms CPU/query, p50 / p99 {p50 * 1000:.2f} / "
                        f"{p99 * 1000:.2f} ms, {rates[name][-1]:.0f} q/s, "
                        f"load {protocol.load_average()[0]:.2f}",
                        flush=True,
                    )
            for name in names:
                system = running[name]
                pss = sum(
                    loadgen.tree_memory(process.pid).pss_mib
                    for process in [system.process, *system.extra_processes]
                )
                values = spent[name]
                print(
                    f"{name}: CPU ms/query median {statistics.median(values):.3f} "
                    f"({min(values):.3f}-{max(values):.3f}), "
                    f"q/s median {statistics.median(rates[name]):.0f}, "
                    f"PSS {pss:.0f} MiB"
                )
            if REMOTE in spent:
                for peer in (run.OURS, "oxigraph-mem", "naive-flask"):
                    if peer not in spent:
                        continue
                    for what, figures in (("CPU per query", spent), ("q/s", rates), ("p99", tails)):
                        pairs = zip(figures[REMOTE], figures[peer], strict=True)
                        ratios = [mine / theirs for mine, theirs in pairs]
                        print(
                            f"{REMOTE} / {peer} {what}: {statistics.median(ratios):.2f}x "
                            f"({min(ratios):.2f}-{max(ratios):.2f}), each within one repeat"
                        )
            for ours in (run.OURS, BASELINE):
                if ours not in spent or "naive-flask" not in spent:
                    continue
                label = "ours" if ours == run.OURS else BASELINE
                for what, figures in (("CPU per query", spent), ("p99", tails)):
                    pairs = zip(figures[ours], figures["naive-flask"], strict=True)
                    ratios = [mine / naive for mine, naive in pairs]
                    print(
                        f"{label} / naive {what}: {statistics.median(ratios):.2f}x "
                        f"({min(ratios):.2f}-{max(ratios):.2f}), each within one repeat"
                    )
        finally:
            for system in running.values():
                system.stop()
    return 0


BASELINE = "govkg-base"
REMOTE = "govkg-remote-oxigraph"


def start_remote_oxigraph(
    inputs: run.Inputs, workers: str, options: list[str], timeout_s: float | None
) -> run.Running:
    """``oxigraph serve`` in memory (with ``--timeout-s`` unless ``None``), loaded as the
    ``oxigraph-mem`` peer, with ours in front of it (``govkg serve --store sparql:URL``); the engine
    is in :attr:`run.Running.extra_processes`."""
    binary = shutil.which("oxigraph")
    if binary is None:
        raise run.Unavailable("the oxigraph server is not installed (pip install oxigraph)")
    engine, (port,), _ = run.serve_on_free_ports(
        lambda ports: [
            binary,
            "serve",
            "--bind",
            f"127.0.0.1:{ports[0]}",
            "--union-default-graph",
            *([] if timeout_s is None else ["--timeout-s", f"{timeout_s:g}"]),
        ],
        inputs.workdir / "oxigraph-engine.log",
        lambda ports: run.sparql_answers(ports[0], "/query"),
        60,
        "oxigraph serve",
    )
    try:
        started = time.perf_counter()
        if inputs.data is not None:
            run.post_file(port, "/store?default", inputs.data, "application/n-triples")
        if inputs.article is not None:
            run.post_file(port, "/store", inputs.article, "application/n-quads")
        loaded = time.perf_counter() - started
        front = dataclasses.replace(inputs, data=None)
        store = [f"--store=sparql:http://127.0.0.1:{port}/query"]
        system = _start_ours(front, workers, [*store, *options])
    except BaseException:
        stop_process_group(engine)
        raise
    return dataclasses.replace(
        system,
        name=REMOTE,
        load_seconds=loaded + system.load_seconds,
        extra_processes=[*system.extra_processes, engine],
    )


def _start_baseline(inputs: run.Inputs, workers: str, options: list[str], folder: Path) -> run.Running:
    """Ours from ``folder``'s ``govkg`` package (another build)."""
    path = os.pathsep.join(filter(None, [str(folder.resolve()), os.environ.get("PYTHONPATH")]))
    with _environment([f"{BASELINE}:PYTHONPATH={path}"], BASELINE):
        system = _start_ours(inputs, workers, options)
    return dataclasses.replace(system, name=BASELINE)


@contextlib.contextmanager
def _environment(settings: list[str], name: str) -> Iterator[None]:
    """``os.environ`` with the ``SYSTEM:NAME=VALUE`` settings for the system labelled ``name``."""
    changed = {}
    for setting in settings:
        system, _, assignment = setting.partition(":")
        if system == name:
            key, _, value = assignment.partition("=")
            changed[key] = value
    saved = {key: os.environ.get(key) for key in changed}
    os.environ.update(changed)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value


def _start_ours(inputs: run.Inputs, workers: str, options: list[str]) -> run.Running:
    if not options:
        return run.start_govkg(inputs, workers)
    original = run.spawn_logged

    def spawn(command: list[str], *rest: object, **kwargs: object) -> object:
        return original([*command, *options], *rest, **kwargs)

    run.spawn_logged = spawn  # type: ignore[assignment]
    try:
        return run.start_govkg(inputs, workers)
    finally:
        run.spawn_logged = original  # type: ignore[assignment]


if __name__ == "__main__":
    raise SystemExit(main())
