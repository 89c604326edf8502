"""How much of a loaded pyoxigraph store stays shared when forked processes query it.

The server forks its query processes from the process that loaded the store
(``govkg.sparql.processes``). This loads an N-Triples file into an in-memory store (or opens an
on-disk store read-only in each child), forks two children, lets each run a few queries (a
full scan among them), and prints each child's ``/proc/PID/smaps_rollup`` in MB:

    python benchmarks/generate.py --size 1M --output /tmp/bench-1M.nt
    python benchmarks/fork_pages.py /tmp/bench-1M.nt            # in memory, forked after load
    python benchmarks/fork_pages.py /tmp/bench-1M.nt --disk /tmp/bench-1M.store

Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pyoxigraph as ox

QUERIES = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 100",
    "SELECT ?o (COUNT(?s) AS ?c) WHERE { ?s a ?o } GROUP BY ?o",
)
FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty")


def rollup_mb(pid: int) -> dict[str, int]:
    """The memory fields of ``/proc/PID/smaps_rollup``, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        values[name.rstrip(":")] = int(value) // 1024
    return {name: values[name] for name in FIELDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="an N-Triples file")
    parser.add_argument(
        "--disk", type=Path, help="load into this on-disk store; each child opens it read-only"
    )
    args = parser.parse_args()
    store = None
    if args.disk is None:
        store = ox.Store()
        store.bulk_load(path=str(args.data), format=ox.RdfFormat.N_TRIPLES)
        print("loaded, parent:", rollup_mb(os.getpid()))
    elif not args.disk.exists():  # run again to measure children of a parent that held no store
        loading = ox.Store(str(args.disk))
        loading.bulk_load(path=str(args.data), format=ox.RdfFormat.N_TRIPLES)
        loading.flush()
        del loading
    children = []
    for _ in range(2):
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            mine = store if store is not None else ox.Store.read_only(str(args.disk))
            for query in QUERIES:
                mine.query(query, use_default_graph_as_union=True).serialize(
                    format=ox.QueryResultsFormat.JSON
                )
            os.write(ready_write, b"x")
            time.sleep(60)
            os._exit(0)
        os.close(ready_write)
        children.append((pid, ready_read))
    try:
        for _pid, ready_read in children:
            os.read(ready_read, 1)
        for pid, _ in children:
            print(f"child {pid} after the queries:", rollup_mb(pid))
    finally:
        for pid, _ in children:
            os.kill(pid, 9)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
