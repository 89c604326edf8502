"""Evaluate SPARQL queries on threads of the calling process: the CLI and the in-process app.

The web server runs its queries in query processes that the OS stops at their bounds
(:mod:`govkg.sparql.processes`). Here, where no server runs (``govkg query``, the in-process
test client, the W3C harness), a query runs on one of a few threads of the process, which
pyoxigraph lets run in parallel (it releases the GIL while it parses, evaluates and
serializes). A thread cannot be stopped from outside and pyoxigraph cannot cancel a query, so
past the time limit the caller gets 503 (:class:`govkg.errors.QueryTimedOut`) at once and the
query runs on to its end, logged; no memory bound applies.

* ``size`` threads, each with a :data:`QUERY_STACK_BYTES` stack, since pyoxigraph recurses once
  per level of query nesting. A caller takes a free slot (waiting at most the time limit: then
  503 with ``Retry-After``), hands the job over and waits for the answer until the deadline.
* A query still running after :data:`DEMOTE_AFTER` seconds runs at niceness
  :data:`DEMOTED_NICENESS` (Linux schedules threads one by one); its thread takes niceness 0
  back when the query ends (or is replaced, where raising a priority is not allowed). These
  figures and the call are shared with the server's query processes (:mod:`govkg.sparql.scheduling`).

Why not forked processes here: reading pyoxigraph's in-memory store writes to its pages, so a
process that reads a store it shares copy-on-write ends up with a private copy of what it read
(measured with pyoxigraph 0.5.13 at 1M triples: after a ``COUNT(*)`` a forked child had 299 of
its 380 MB private). The server's query processes pay that once each, not once per query.
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
from govkg.sparql.scheduling import DEMOTE_AFTER, DEMOTED_NICENESS, QUERY_STACK_BYTES, set_niceness

log = logging.getLogger(__name__)

_STACK_SIZE_LOCK = threading.Lock()
#: How often the query threads' heap is given back to the kernel, when no query runs.
TRIM_IDLE_SECONDS = 1.0


class _Done:
    """A one-shot event on a bare lock, held until :meth:`set`; what ``threading.Event`` does for a
    task, without its ``Condition`` (Python code on both sides of every query's hand-off).

    >>> done = _Done(); done.wait(0), done.set(), done.set(), done.wait(0), done.wait(0)
    (False, None, None, True, True)
    """

    __slots__ = ("_lock", "_guard", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._guard = threading.Lock()
        self._set = False

    def set(self) -> None:
        with self._guard:
            if not self._set:
                self._set = True
                self._lock.release()

    def wait(self, timeout: float) -> bool:
        if self._lock.acquire(timeout=timeout):
            self._lock.release()  # it stays set for a later wait
            return True
        return False


@dataclass(eq=False)
class _Task:
    job: QueryJob
    done: _Done = field(default_factory=_Done)
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
                    task.demoted = set_niceness(task.thread_id, DEMOTED_NICENESS)
            finished = task.done.wait(max(deadline - time.monotonic(), 0))
        if not finished:
            with task.lock:
                abandoned = task.outcome is None
            if abandoned:
                log.warning(
                    "query answered 503 after %g s; it runs on to its end: %.200r", timeout, job.query
                )
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
                _forget_frames(error)
                outcome = (False, error)
            with task.lock:
                task.outcome = outcome
                demoted = task.demoted
            with self._lock:
                self._in_flight -= 1
            task.done.set()
            self._slots.release()
            if demoted and not set_niceness(0, 0):
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


def _forget_frames(error: BaseException) -> None:
    """Drop the tracebacks of ``error`` and the exceptions it chains.

    Their frames hold the query's pyoxigraph objects (a failed SERVICE call leaves its
    ``QuerySolutions`` there), which may only be dropped on the thread that made them: handed
    to the request thread inside the exception, they were dropped there, and pyo3 logged
    "PyQuerySolutions is unsendable, but is being dropped on another thread".
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.__traceback__ = None
        following = error.__cause__ or error.__context__
        error.__context__ = None
        error.__cause__ = None
        error = following
