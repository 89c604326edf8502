"""Time the parts of loading a large ``--data`` file into the in-memory store, one by one.

(a) pyoxigraph's path-based ``bulk_load``; (b) the same through a plain ``open(F, 'rb')``
stream; (c) through the progress stream of ``bulk_load_file``; (d) what ``serve --data``
does (``open_knowledge_graph``: the article, the file, the literal-rewrite check beside it);
(e) the literal-rewrite check alone. Each part runs in a fresh process, one after the other.

Usage::

    python benchmarks/generate.py --size 1M --output /tmp/bench-1M.nt
    python benchmarks/load_parts.py /tmp/bench-1M.nt [--parts abcde]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

GRAPH = "https://bench.govkg.invalid/graph/data"


def run_part(part: str, path: Path) -> float:
    """One part in this process: its seconds."""
    import pyoxigraph as ox

    started = time.monotonic()
    if part == "a":
        ox.Store().bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
    elif part == "b":
        with path.open("rb") as stream:
            ox.Store().bulk_load(stream, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
    elif part == "c":
        from govkg.store.persistent import bulk_load_file

        bulk_load_file(ox.Store(), path, GRAPH, None, progress=False)
    elif part == "d":
        from govkg.settings import DEFAULT_BASE_IRI
        from govkg.store.opening import open_knowledge_graph

        open_knowledge_graph(DEFAULT_BASE_IRI, [f"{GRAPH}={path}"])
    elif part == "e":
        from govkg.graph.knowledge_graph import file_literal_changes

        file_literal_changes(path, GRAPH)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--parts", default="abcde")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(f"{run_part(args.one, args.file):.2f}")
        return
    for part in args.parts:
        load = os.getloadavg()[0]
        command = [sys.executable, __file__, str(args.file), "--one", part]
        seconds = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
        print(f"({part}) {seconds} s  (load average before: {load:.2f})", flush=True)


if __name__ == "__main__":
    main()
