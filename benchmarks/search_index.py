"""Time the search index's build at load: the graph (and ``--data`` files) in memory, then the index.

Usage::

    python benchmarks/generate.py --size 1M --output bench-1M.nt
    python benchmarks/search_index.py bench-1M.nt

Prints the load time, the index's build time (wall and CPU), its size, and the time of a few
searches. The machine's load is printed too: on a shared machine wall times are noisy.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from govkg.settings import DEFAULT_BASE_IRI
from govkg.store.opening import open_knowledge_graph
from govkg.store.search_index import build_search_index

QUERIES = ("零跑动", "肇商通", "enterprise opening", "法治")


def main(data: list[str]) -> None:
    """Load ``data`` with the article, build the index in a temporary folder, search it."""
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    loaded = open_knowledge_graph(DEFAULT_BASE_IRI, data)
    loaded_at = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.sqlite"
        cpu = time.process_time()
        index = build_search_index(loaded.store, path)
        built_at = time.perf_counter()
        cpu = time.process_time() - cpu
        size = path.stat().st_size / 2**20
        print(f"load {loaded_at - started:.2f} s; index {built_at - loaded_at:.2f} s wall, ", end="")
        print(f"{cpu:.2f} s CPU, {size:.1f} MiB")
        for query in QUERIES:
            searched = time.perf_counter()
            hits = index.search(query)
            print(f"{query}: {len(hits)} hits in {(time.perf_counter() - searched) * 1000:.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
