"""What a resource page's look-ups cost against a remote store (``govkg serve --store sparql:URL``).

Starts a real ``oxigraph serve`` (union default graph) and a real Virtuoso (as the tests do:
:mod:`tests.stores`), pushes the article graphs into each with ``govkg load --into``, then times,
for each store:

* the closure fetch the pages make (:meth:`govkg.store.remote.RemoteBackend.fetch_closures`: a
  resource's triples and blank-node closure, by graph) for the city, the article, an observation,
  an annotation (blank nodes two deep) and a chunk of 100 resources (what ``prefetch`` sends),
  median and minimum of ``--repeat`` calls, the store's answer parsed;
* the article's HTML page through ``govkg serve --store`` (one web worker), median and minimum of
  ``--repeat`` requests.

Each figure comes after :data:`WARM_UP` untimed calls.

Both stores are stopped at the end (by PID). Not timed by the test suite; the machine's load
average is printed first: say it with the figures.

    python benchmarks/remote_pages.py --repeat 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(PROJECT_ROOT))

import pyoxigraph as ox  # noqa: E402
import requests  # noqa: E402
from govkg.settings import DEFAULT_BASE_IRI  # noqa: E402
from govkg.store.remote import RemoteBackend  # noqa: E402

from tests.conftest import start_server, stop_server  # noqa: E402
from tests.stores import (  # noqa: E402
    RunningStore,
    push_article,
    start_oxigraph_store,
    start_virtuoso,
    stop_store,
    store_env,
)

BASE = DEFAULT_BASE_IRI
#: Untimed calls before each figure: a store just loaded (Virtuoso) is slower for a while.
WARM_UP = 3
ARTICLE_PAGE = "id/article-text/xijiang-daily-zhaoqing-rule-of-law"
SINGLE = {
    "city": "id/place/zhaoqing",
    "article": "id/article/xijiang-daily-zhaoqing-rule-of-law",
    "observation": "id/observation/matters-run-at-most-once",
    "annotation": "id/annotation/matters-run-at-most-once",
}


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and minimum wall time of ``call`` in ms, after :data:`WARM_UP` untimed calls."""
    for _ in range(WARM_UP):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def _hundred_resources(backend: RemoteBackend) -> list[ox.NamedNode]:
    """The first 100 IRI subjects of the facts graph, in IRI order."""
    rows = backend.select(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH <{BASE}graph/facts> {{ ?s ?p ?o }} FILTER isIRI(?s) }} "
        "ORDER BY ?s LIMIT 100"
    )
    return [row["s"] for row in rows]


def measure(store: RunningStore, repeat: int, workdir: Path) -> None:
    """Print the closure and page timings for one store."""
    backend = RemoteBackend(store.query_url, BASE)
    backend.credentials = None  # reads need no account
    backend.probe()
    cases = {name: [ox.NamedNode(BASE + path)] for name, path in SINGLE.items()}
    cases["100 resources"] = _hundred_resources(backend)
    for name, resources in cases.items():
        quads = sum(len(found) for found in backend.fetch_closures(resources).values())
        median, fastest = _timed(lambda resources=resources: backend.fetch_closures(resources), repeat)
        figures = f"{median:7.1f} ms median {fastest:7.1f} ms min, {quads} quads"
        print(f"{store.name:9} closures {name:14} {figures}")
    store_option = f"sparql:{store.query_url}"
    server = start_server(workdir, "--store", store_option, "--base-iri", BASE, env=store_env(store))
    try:
        url = server.url + ARTICLE_PAGE

        def page() -> None:
            response = requests.get(url, headers={"Accept": "text/html"}, timeout=120)
            response.raise_for_status()

        median, fastest = _timed(page, repeat)
        print(f"{store.name:9} article HTML page        {median:7.1f} ms median {fastest:7.1f} ms min")
    finally:
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed calls per figure")
    arguments = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="govkg-remote-pages-") as folder:
        for start in (start_oxigraph_store, start_virtuoso):
            workdir = Path(folder) / start.__name__
            store = start(workdir)
            try:
                pushed = push_article(store, BASE)
                if pushed.returncode != 0:
                    raise SystemExit(pushed.stderr)
                measure(store, arguments.repeat, workdir)
            finally:
                stop_store(store, grace=30)


if __name__ == "__main__":
    main()
