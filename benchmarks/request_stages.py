"""CPU of one ``/sparql`` request, stage by stage, in-process (Flask test client, no HTTP).

Each stage is a function of the request path wrapped with a timer; the mix is the benchmark's
(``benchmarks/queries.py``), POSTed form-encoded with a unique comment each (every query evaluated,
the result cache off). Figures move with the machine's load: compare two trees run alternately.

    python benchmarks/request_stages.py --data DIR/bench-100k-seed42.nt --requests 1100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import queries  # noqa: E402


def _timed(label: str, function: Callable, spent: dict[str, list[int]]) -> Callable:
    def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any stage
        started = time.perf_counter_ns()
        try:
            return function(*args, **kwargs)
        finally:
            spent.setdefault(label, []).append(time.perf_counter_ns() - started)

    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a bench data file (benchmarks/generate.py)")
    parser.add_argument("--cities", type=int, default=242, help="complete cities of the data (its manifest)")
    parser.add_argument("--requests", type=int, default=1100)
    args = parser.parse_args(argv)

    from govkg.sparql import executor, runner
    from govkg.store import backends
    from govkg.web import sparql_protocol
    from govkg.web.app import create_app

    app = create_app({"data": args.data, "base_iri": "https://w3id.org/govkg/", "result_cache_bytes": 0})
    spent: dict[str, list[int]] = {}
    stages = [
        (sparql_protocol, ["_read_operation", "_answer", "check_query", "choose_format", "plan_query",
                           "_answer_key", "protocol_headers", "conditional"]),
        (executor, ["operation_form", "allowed_service_calls"]),
        (runner, ["has_dataset_clause", "_prepare", "serialize_solutions", "serialize_graph", "_execute"]),
    ]  # fmt: skip
    for module, names in stages:
        for name in names:
            label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            setattr(module, name, _timed(label, getattr(module, name), spent))
    backends.MemoryBackend.run_query = _timed("backend.run_query", backends.MemoryBackend.run_query, spent)

    mix = queries.build_mix(42, args.cities)
    texts = [instance.text for instances in mix.values() for instance in instances]
    requests = [
        (
            urllib.parse.urlencode({"query": f"{text}\n# govkg-bench 0.{index}"}),
            "application/n-triples"
            if queries.query_form(text) in ("construct", "describe")
            else "application/sparql-results+json",
        )
        for index, text in enumerate(texts)
    ]
    client = app.test_client()

    def send(count: int) -> None:
        for index in range(count):
            body, accept = requests[index % len(requests)]
            headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
            response = client.post("/sparql", data=body, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")

    send(len(requests) * 2)  # warm-up
    spent.clear()
    cpu = time.process_time()
    send(args.requests)
    cpu = time.process_time() - cpu
    print(f"whole request (test client included): CPU {cpu / args.requests * 1e6:.0f} us/request")
    for label, values in sorted(spent.items(), key=lambda item: -sum(item[1])):
        print(f"{label:36s} n={len(values):5d}  mean {statistics.mean(values) / 1000:8.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
