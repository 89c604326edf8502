"""Time the start-up of a large ``--data`` part by part: the load, each VoID count, the search index.

The data is loaded as ``govkg serve --data FILE`` loads it (the article's graphs and the file,
in memory); then each query of :data:`govkg.store.metadata.STATISTICS_QUERIES` is run alone on
the engine, with the text :func:`~govkg.store.metadata.large_statistics` gives it; then the
counts as the server makes them (:func:`~govkg.store.metadata.precompute_statistics`), then the
search index (:func:`~govkg.store.search_index.build_search_index`); then both again, side by side
as the server makes them (:func:`~govkg.store.opening.prepare_for_workers`). Usage::

    python benchmarks/generate.py --size 1M --output bench-1M.nt
    python benchmarks/void_counts.py bench-1M.nt

The load average (``os.getloadavg``, one minute) is printed with each figure: on a shared
machine wall times are noisy.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from govkg.settings import DEFAULT_BASE_IRI
from govkg.store import metadata
from govkg.store.dumps import dataset_graphs
from govkg.store.opening import open_knowledge_graph, prepare_for_workers
from govkg.store.search_index import build_search_index


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def main(data: list[str]) -> None:
    """Load ``data`` with the article, then time each count, all the counts, the search index, and
    the counts and the index side by side."""
    print(f"before: {_load()}")
    started = time.perf_counter()
    loaded = open_knowledge_graph(DEFAULT_BASE_IRI, data)
    print(f"load: {time.perf_counter() - started:.2f} s, {len(loaded.store):,} quads ({_load()})")
    graphs = dataset_graphs(loaded)
    sizes = dict.fromkeys((graph.value for graph in graphs), 0)  # from "graph_properties", the first
    for name in metadata.STATISTICS_QUERIES:
        # the graphs ranked as large_statistics ranks them: the largest first
        ranked = sorted(graphs, key=lambda graph: -sizes[graph.value])
        started = time.perf_counter()
        rows = list(loaded.store.query(metadata.statistics_query(name, ranked, loaded.base_iri)))
        print(f"query {name}: {time.perf_counter() - started:.2f} s, {len(rows)} rows ({_load()})")
        if name == "graph_properties":
            for row in rows:
                sizes[row[0].value] += int(row[2].value)
    with tempfile.TemporaryDirectory() as folder:
        loaded.store_directory = Path(folder, "one-after-the-other")
        started = time.perf_counter()
        metadata.precompute_statistics(loaded)
        counted = time.perf_counter()
        print(f"all the counts (precompute_statistics): {counted - started:.2f} s ({_load()})")
        build_search_index(loaded.store, loaded.store_directory / "search.sqlite")
        print(f"then the search index: {time.perf_counter() - counted:.2f} s ({_load()})")
        loaded.store_directory = Path(folder, "side-by-side")
        started = time.perf_counter()
        prepare_for_workers(loaded)
        print(f"both side by side (prepare_for_workers): {time.perf_counter() - started:.2f} s ({_load()})")


if __name__ == "__main__":
    main(sys.argv[1:])
