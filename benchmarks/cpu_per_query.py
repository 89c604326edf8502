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

    python benchmarks/cpu_per_query.py --size 100k --requests 2000
    python benchmarks/cpu_per_query.py --size 1M --serve-option=--store-threshold=0
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import generate, loadgen, protocol, queries, run  # noqa: E402


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
    args = parser.parse_args(argv)

    triples = generate.parse_size(args.size)
    data_path = args.data_dir / f"bench-{args.size}-seed{args.seed}.nt"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    manifest = generate.ensure_dataset(data_path, triples, args.seed)
    mix = list(queries.build_mix(manifest.seed, manifest.complete_cities).values())
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
                inputs = run.Inputs(data_path, article, workdir, triples)
                if name == run.OURS:
                    system = _start_ours(inputs, args.workers, args.serve_option)
                elif name == BASELINE:
                    system = _start_baseline(inputs, args.workers, args.serve_option, args.baseline)
                else:
                    system = run.STARTERS[name](inputs)
                running[name] = system
                print(f"{name}: ready in {system.load_seconds:.2f} s", flush=True)
                errors = loadgen.warm_up(system.endpoint, mix, rounds=2)
                if errors:
                    print(f"{name}: {errors} errors in the warm-up", flush=True)
            spent: dict[str, list[float]] = {name: [] for name in names}
            tails: dict[str, list[float]] = {name: [] for name in names}
            for repeat in range(args.repeats):
                for name in protocol.rotated(names, repeat):
                    system = running[name]
                    result = loadgen.run_scenario(
                        system.endpoint,
                        mix,
                        args.clients,
                        3600,
                        max_requests=args.requests,
                        server_pid=system.process.pid,
                    )
                    per_query = (result.server_cpu_seconds or 0) / max(result.completed, 1) * 1000
                    spent[name].append(per_query)
                    p50, p99 = (result.percentile(f) or 0.0 for f in (0.50, 0.99))
                    tails[name].append(p99 * 1000)
                    print(
                        f"  {name}: {result.completed} answered, {result.errors} errors, "
                        f"{per_query:.3f} ms CPU/query, p50 / p99 {p50 * 1000:.2f} / "
                        f"{p99 * 1000:.2f} ms, load {protocol.load_average()[0]:.2f}",
                        flush=True,
                    )
            for name in names:
                memory = loadgen.tree_memory(running[name].process.pid)
                values = spent[name]
                print(
                    f"{name}: CPU ms/query median {statistics.median(values):.3f} "
                    f"({min(values):.3f}-{max(values):.3f}), PSS {memory.pss_mib:.0f} MiB"
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


def _start_baseline(inputs: run.Inputs, workers: str, options: list[str], folder: Path) -> run.Running:
    """Ours from ``folder``'s ``govkg`` package (another build), in a work folder of its own."""
    workdir = inputs.workdir / BASELINE
    workdir.mkdir(exist_ok=True)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder.resolve()), before]))
    try:
        system = _start_ours(dataclasses.replace(inputs, workdir=workdir), workers, options)
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    return dataclasses.replace(system, name=BASELINE)


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
