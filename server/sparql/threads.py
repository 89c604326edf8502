"""Evaluate SPARQL queries on threads of the web worker, with a time limit that really stops them.

Why threads. pyoxigraph releases the GIL while it parses, evaluates and serializes (checked
with pyoxigraph 0.5: two threads evaluating at once take the time of one on two cores), so a
query on a thread runs beside the worker's other requests and beside other queries, on every
core. A thread also reads the one in-memory store the process holds: forked query
processes cannot, because reading pyoxigraph's in-memory store writes to its pages (reference
counts), so each process that reads a big store ends up with a private copy of it (at 1M
triples, one ``COUNT(*)`` in a fork made 300 of its 380 MB private).

Design
======

* **A small set of query threads per web worker process** (``query_workers`` of them, each
  with a :data:`QUERY_STACK_BYTES` stack, since pyoxigraph recurses once per level of query
  nesting). A request thread takes a free slot (waiting at most the time limit: then 503
  with ``Retry-After``), hands the job to a query thread and waits for the answer until
  the deadline. The query thread parses, evaluates *and serializes*, so the limit covers all
  the work.
* **A long query yields the CPU.** After :data:`DEMOTE_AFTER` seconds its thread runs at
  niceness :data:`DEMOTED_NICENESS` (Linux schedules threads one by one), so a heavy query
  slows the short ones beside it as little as possible; the thread takes niceness 0 back
  when the query ends (or is retired and replaced, where raising a priority is not allowed).
* **The limit really stops the work.** A thread cannot be stopped from outside, and
  pyoxigraph has no cancellation. So when the time is up the client gets 503 at once and
  the *process* is retired: :func:`set_runaway_handler` tells what that means. Under
  gunicorn (:mod:`govkg.web.serving`) the worker stops accepting, finishes the requests it has
  in flight and exits; the arbiter forks a fresh worker (from the master, which still holds
  a small store; a big in-memory store is loaded again, see :mod:`govkg.web.serving`). The
  runaway's CPU stops with the process. Until then its slot stays taken.
* **Row limit.** SELECT solutions and CONSTRUCT/DESCRIBE triples stop at
  ``max_result_rows`` (:mod:`govkg.sparql.runner`).

The CLI (``govkg query``) and the W3C test harness call :func:`govkg.sparql.runner.execute_query`
directly; only the web server goes through here.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
from govkg.errors import QueryTimedOut, ServerBusy
from govkg.malloc import release_free_memory
from govkg.rdf.serialize import project_prefixes
from govkg.sparql.runner import QueryAnswer, QueryJob, execute_query

log = logging.getLogger(__name__)

_STACK_SIZE_LOCK = threading.Lock()
#: A query still running after this many seconds yields the CPU: its thread runs at
#: :data:`DEMOTED_NICENESS` for the rest of its time (Linux gives a nice-10 thread about a
#: tenth of a CPU that a nice-0 one also wants). Its time limit is unchanged.
DEMOTE_AFTER = 0.5
DEMOTED_NICENESS = 10
#: The stack of each query thread. pyoxigraph recurses once per level of nesting (groups,
#: brackets, unary operators, long operator chains): on a thread's usual 8 MiB, 3,000 nested
#: groups (9 KB of query) overflowed it and killed the process. 512 MiB holds queries of
#: several hundred KB, far above ``max_query_bytes``; it is address space, and only what a
#: query really uses is touched.
QUERY_STACK_BYTES = 512 * 1024 * 1024
#: How often the query threads' heap is given back to the kernel, when no query runs.
TRIM_IDLE_SECONDS = 1.0


def _log_runaway() -> None:
    log.warning("a query passed its time limit; without a process manager it runs on to its end")


_runaway_handler: Callable[[], None] = _log_runaway


def set_runaway_handler(handler: Callable[[], None]) -> None:
    """What to do when a query passes its time limit: the web server retires the process."""
    global _runaway_handler
    _runaway_handler = handler


@dataclass(eq=False)
class _Task:
    job: QueryJob
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcome: tuple[bool, QueryAnswer | BaseException] | None = None
    thread_id: int | None = None  # the native ID of the thread evaluating it
    demoted: bool = False


class QueryThreads:
    """``size`` threads evaluating queries on ``store_of()``; see the module docstring.

    ``store_of`` is called on a query thread for each query (a disk store's handle is opened
    lazily, once per process); ``base_iri`` gives the prefixes of serialized answers. The
    threads belong to the process that made them (``owner_pid``): a fork makes its own.
    """

    def __init__(self, store_of: Callable[[], ox.Store], base_iri: str, size: int) -> None:
        self.owner_pid = os.getpid()
        self.size = size
        self._store_of = store_of
        self._prefixes = project_prefixes(base_iri)
        self._slots = threading.BoundedSemaphore(size)
        self._tasks: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._retired = 0  # threads that ended demoted, to be replaced
        self._in_flight = 0
        self._ran_since_trim = False
        for _ in range(size):
            self._start_thread()
        threading.Thread(target=self._trim_when_idle, name="govkg-trim", daemon=True).start()

    def run(self, job: QueryJob, timeout: float) -> QueryAnswer:
        """Answer ``job`` on a query thread; 503 when it takes longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        if self._retired:
            self._replace_retired_threads()
        if not self._slots.acquire(timeout=timeout):
            raise ServerBusy(f"All {self.size} query threads stayed busy for {timeout:g} s; try again later.")
        task = _Task(job)
        self._tasks.put(task)
        finished = task.done.wait(min(DEMOTE_AFTER, max(deadline - time.monotonic(), 0)))
        if not finished and deadline - time.monotonic() > 0:
            with task.lock:
                if task.outcome is None and task.thread_id is not None:
                    task.demoted = _set_niceness(task.thread_id, DEMOTED_NICENESS)
            finished = task.done.wait(max(deadline - time.monotonic(), 0))
        if not finished:
            with task.lock:
                abandoned = task.outcome is None
            if abandoned:
                log.warning("query stopped after %g s: %.200r", timeout, job.query)
                _runaway_handler()
                raise QueryTimedOut(
                    f"Query timed out: it ran longer than the {timeout:g} s limit and was stopped. "
                    "Narrow it down (more specific patterns, a LIMIT) and try again."
                )
        succeeded, value = task.outcome  # type: ignore[misc] - set before done
        if succeeded:
            return value  # type: ignore[return-value]
        raise value  # type: ignore[misc]

    def _replace_retired_threads(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, 0
        for _ in range(retired):
            self._start_thread()

    def _start_thread(self) -> None:
        # The stack size is the process's setting for new threads: one caller at a time.
        with _STACK_SIZE_LOCK:
            previous = threading.stack_size(QUERY_STACK_BYTES)
            try:
                threading.Thread(target=self._serve, name="govkg-query", daemon=True).start()
            finally:
                threading.stack_size(previous)

    def _serve(self) -> None:
        """The body of a query thread: evaluate tasks until the process ends."""
        store_of = self._store_of
        while True:
            task = self._tasks.get()
            with self._lock:
                self._in_flight += 1
                self._ran_since_trim = True
            with task.lock:
                task.thread_id = threading.get_native_id()
            try:
                outcome: tuple[bool, QueryAnswer | BaseException] = (
                    True,
                    execute_query(store_of(), task.job, self._prefixes),
                )
            except BaseException as error:  # noqa: BLE001 - handed to the request thread as is
                outcome = (False, error)
            with task.lock:
                task.outcome = outcome
                demoted = task.demoted
            with self._lock:
                self._in_flight -= 1
            task.done.set()
            self._slots.release()
            if demoted and not _set_niceness(0, 0):
                # Raising a priority needs a privilege: this thread ends, and the next request
                # starts a fresh one (a thread inherits the niceness of the thread starting it).
                with self._lock:
                    self._retired += 1
                return

    def _trim_when_idle(self) -> None:
        """Give the heap that queries freed back to the kernel, once they have all ended.

        glibc keeps freed memory for reuse: after a busy while, a worker with a million
        triples in memory held 70 MB more than at start, freed but not returned. Trimming
        walks the whole heap (about 30 ms at 1M triples, the GIL released) and holds the
        allocator meanwhile, so it waits for a moment with no query running.
        """
        while True:
            time.sleep(TRIM_IDLE_SECONDS)
            with self._lock:
                idle = self._in_flight == 0 and self._ran_since_trim
                if idle:
                    self._ran_since_trim = False
            if idle:
                release_free_memory()


def _set_niceness(thread_id: int, niceness: int) -> bool:
    """Set a thread's niceness (0: the calling thread); False if the system refuses."""
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
    except OSError:
        return False
    return True
