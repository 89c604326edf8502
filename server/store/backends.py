"""Where the knowledge graph lives, behind one small interface the blueprints use.

=======================  ==========================================================
:class:`MemoryBackend`   the default: an in-memory pyoxigraph Store, parsed at start
:class:`DiskBackend`     ``--store DIR``: a persistent RocksDB store (:mod:`govkg.store.persistent`)
:class:`RemoteBackend`   ``--store sparql:URL``: an existing SPARQL 1.1 store
                         (:mod:`govkg.store.remote`)
=======================  ==========================================================

Each gives:

* ``store`` — something with pyoxigraph's ``quads_for_pattern`` and ``named_graphs``, which
  the pages use to look terms up (a real ``Store`` for the first two);
* ``run_query(job, timeout)`` — the answer to a SPARQL query, with the time and row limits
  (:mod:`govkg.sparql.runner`);
* ``describe(resource)`` and ``incoming(resource, limit)`` — a resource's Concise Bounded
  Description and its inbound links, for the resource pages and DESCRIBE;
* ``large`` — whether the data is too big to be handled whole in Python: its dumps are
  streamed by pyoxigraph (not canonicalized), its counts are SPARQL aggregates, and the
  dumps index and catalogue list only the dumps built so far. Small or large, nothing of
  the kind is done at start-up: dumps and counts wait for their first request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox
from govkg.rdf.describe import concise_bounded_description, incoming_links
from govkg.settings import DEFAULT_BASE_IRI
from govkg.sparql.processes import QueryProcesses
from govkg.sparql.threads import QueryThreads

if TYPE_CHECKING:
    from govkg.sparql.runner import QueryAnswer, QueryJob
    from govkg.store.persistent import PersistentStore


class Backend(Protocol):
    """What the application needs of the place the data lives."""

    kind: str
    large: bool
    #: Whether the data lives in this process's memory (a fork copies it as it reads it).
    in_memory: bool

    @property
    def store(self) -> Any:  # noqa: ANN401 - an ox.Store or a look-alike
        """Term look-ups: ``quads_for_pattern(s, p, o, g)`` and ``named_graphs()``."""

    def run_query(self, job: QueryJob, timeout: float) -> QueryAnswer:
        """Answer ``job`` within ``timeout`` seconds (503 after), rows capped by ``job.max_rows``."""

    def describe(self, resource: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        """The Concise Bounded Description of ``resource``."""

    def incoming(self, resource: ox.NamedNode, limit: int) -> list[ox.Triple]:
        """Triples whose object is ``resource``, each once, at most ``limit``."""

    def quad_count(self) -> int | None:
        """How many quads, when that is cheap to know; else ``None``."""

    def start_request(self) -> None:
        """Called before each web request (a remote store forgets what the last one fetched)."""

    def prefetch(self, subjects: Iterable[object]) -> None:
        """A hint: this request is about to look ``subjects`` up in :attr:`store` (a remote
        store fetches the IRIs among them together; a local one has nothing to do)."""


#: Above this many quads an in-memory store is large (see ``large`` above).
LARGE_IN_MEMORY = 500_000


class MemoryBackend:
    """An embedded pyoxigraph Store: under the web server, queries run in the web worker's query
    processes (:mod:`govkg.sparql.processes`); elsewhere (the CLI, a test client) on query threads."""

    kind = "memory"
    large = False
    in_memory = True

    def __init__(self, store: ox.Store, base_iri: str = DEFAULT_BASE_IRI) -> None:
        self._store = store
        self.base_iri = base_iri
        self._quads: int | None = None
        self._query_threads: QueryThreads | None = None
        self._threads_lock = threading.Lock()
        # Counting walks the store once (about 0.1 s a million quads), at start-up only.
        self.large = len(store) > LARGE_IN_MEMORY

    @property
    def store(self) -> ox.Store:
        """The Store itself."""
        return self._store

    #: How many queries run at once in each process (the ``query_workers`` setting).
    query_workers = 8
    #: Where the query process forker listens, once the web server has started it (else None).
    query_processes_address: str | None = None
    _query_processes: QueryProcesses | None = None
    _query_settings: dict[str, Any] | None = None

    def query_threads(self) -> QueryThreads:
        """This process's query threads, made on first use (a forked worker makes its own)."""
        threads = self._query_threads
        if threads is None or threads.owner_pid != os.getpid():
            with self._threads_lock:
                threads = self._query_threads
                if threads is None or threads.owner_pid != os.getpid():
                    # a disk store's handle is opened lazily, once per process: look it up per query
                    threads = QueryThreads(lambda: self.store, self.base_iri, self.query_workers)
                    self._query_threads = threads
        return threads

    def use_query_processes(self, address: str, settings: dict[str, Any]) -> None:
        """From now on (and in processes forked from now on) run queries in query processes
        forked by the forker at ``address`` (``query_workers``, ``query_queue`` from ``settings``)."""
        self.query_processes_address = address
        self._query_settings = settings

    def query_processes(self) -> QueryProcesses:
        """This process's query processes, made on first use (a forked web worker makes its own)."""
        pool = self._query_processes
        if pool is None or pool.owner_pid != os.getpid():
            with self._threads_lock:
                pool = self._query_processes
                if pool is None or pool.owner_pid != os.getpid():
                    settings = self._query_settings or {}
                    pool = QueryProcesses(
                        self.query_processes_address or "",
                        settings["query_workers"],
                        settings["query_queue"],
                        settings["query_timeout"],
                        settings["query_memory_limit"],
                    )
                    self._query_processes = pool
        return pool

    def run_query(self, job: QueryJob, timeout: float) -> QueryAnswer:
        """In one of this process's query processes (under the web server), else on a query thread."""
        if self.query_processes_address is not None:
            return self.query_processes().run(job, timeout)
        return self.query_threads().run(job, timeout)

    def describe(self, resource: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        """The CBD, read from the store."""
        return concise_bounded_description(self.store, resource)

    def incoming(self, resource: ox.NamedNode, limit: int) -> list[ox.Triple]:
        """The inbound links, read from the store."""
        return incoming_links(self.store, resource, limit)

    def start_request(self) -> None:
        """Nothing to forget: the store is the process's own."""

    def prefetch(self, subjects: Iterable[object]) -> None:
        """Nothing to fetch: the store is the process's own."""

    def quad_count(self) -> int | None:
        """The number of quads, counted once (0.1 s a million quads; the store is not written
        once requests are served, and readiness probes ask often)."""
        if self._quads is None:
            self._quads = len(self.store)
        return self._quads


class DiskBackend(MemoryBackend):
    """A persistent RocksDB store folder, opened read-only once in each process that reads it."""

    kind = "disk"
    large = True
    in_memory = False

    def __init__(self, handle: PersistentStore, base_iri: str = DEFAULT_BASE_IRI) -> None:
        self.handle = handle
        self.base_iri = base_iri
        self._query_threads = None
        self._threads_lock = threading.Lock()

    @property
    def store(self) -> ox.Store:
        """This process's own read-only handle (a fork opens a new one on first use)."""
        return self.handle.store

    def quad_count(self) -> int | None:
        """Not counted: that would read the whole database."""
        return None
