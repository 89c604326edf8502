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
* **A memory bound.** While queries run, a watchdog thread reads the process's resident size
  (``/proc/self/statm``) every :data:`MEMORY_POLL_SECONDS`; when it passes the size the
  process had when it was last idle by more than ``query_memory_limit``, the queries running
  are stopped like runaways: their clients get 503 at once and the process retires. (Which
  query grew cannot be told: all those running are stopped.) If the process still grows by
  the bound again (at least 1 GiB more) before it has retired, it exits at once: the machine's
  memory is worth more than the requests in flight.
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
from govkg.errors import QueryOutOfMemory, QueryTimedOut, ServerBusy
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
#: How often the memory watchdog reads the process size while queries run.
MEMORY_POLL_SECONDS = 0.05
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """The resident size of this process (``/proc/self/statm``)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE_BYTES


def _log_runaway() -> None:
    log.warning("a query passed its time limit; without a process manager it runs on to its end")


_runaway_handler: Callable[[], None] = _log_runaway


def set_runaway_handler(handler: Callable[[], None]) -> None:
    """What to do when a query passes its time limit: the web server retires the process."""
    global _runaway_handler
    _runaway_handler = handler


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
        self._guard = threading.Lock()  # the query thread and the memory watchdog may both set
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
    stopped_for_memory: bool = False


class QueryThreads:
    """``size`` threads evaluating queries on ``store_of()``; see the module docstring.

    ``store_of`` is called on a query thread for each query (a disk store's handle is opened
    lazily, once per process); ``base_iri`` gives the prefixes of serialized answers. The
    threads belong to the process that made them (``owner_pid``): a fork makes its own.
    ``memory_limit`` bounds the process's growth while queries run (bytes; ``None``: no bound).
    """

    def __init__(
        self, store_of: Callable[[], ox.Store], base_iri: str, size: int, memory_limit: int | None = None
    ) -> None:
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
        self._running: set[_Task] = set()
        self._busy = threading.Event()  # set while a query runs: the memory watchdog looks
        self._idle_bytes = resident_bytes()
        self.memory_limit = memory_limit
        for _ in range(size):
            self._start_thread()
        threading.Thread(target=self._trim_when_idle, name="govkg-trim", daemon=True).start()
        if memory_limit is not None:
            threading.Thread(target=self._watch_memory, name="govkg-memory", daemon=True).start()

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
        if task.stopped_for_memory:
            log.warning("query stopped at the memory limit: %.200r", job.query)
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
                if self._in_flight == 0:
                    self._idle_bytes = resident_bytes()
                self._in_flight += 1
                self._ran_since_trim = True
                self._running.add(task)
                self._busy.set()
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
                if task.outcome is None:  # not already answered by the memory watchdog
                    task.outcome = outcome
                demoted = task.demoted
            with self._lock:
                self._in_flight -= 1
                self._running.discard(task)
                if not self._running:
                    self._busy.clear()
            task.done.set()
            self._slots.release()
            if demoted and not _set_niceness(0, 0):
                # Raising a priority needs a privilege: this thread ends, and the next request
                # starts a fresh one (a thread inherits the niceness of the thread starting it).
                with self._lock:
                    self._retired += 1
                return

    def _watch_memory(self) -> None:
        """Stop the running queries when the process grows past the memory bound (module docstring)."""
        limit = self.memory_limit or 0
        while True:
            self._busy.wait()
            time.sleep(MEMORY_POLL_SECONDS)
            grown = resident_bytes() - self._idle_bytes
            if grown <= limit:
                continue
            with self._lock:
                running = list(self._running)
            stopped = False
            for task in running:
                with task.lock:
                    if task.outcome is None:
                        task.stopped_for_memory = True
                        task.outcome = (False, _memory_limit_error(limit))
                        stopped = True
                task.done.set()
            if stopped:
                log.warning("queries stopped: the worker grew by %d MB, past query_memory_limit", grown >> 20)
                _runaway_handler()
            if grown > limit + max(limit, 1 << 30):
                log.error("the worker grew by %d MB, far past query_memory_limit: exiting now", grown >> 20)
                os._exit(70)

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


def _memory_limit_error(limit: int) -> QueryOutOfMemory:
    return QueryOutOfMemory(
        f"Query stopped: the queries running used more than the memory limit ({limit >> 20} MB). "
        "Narrow it down (more specific patterns, a LIMIT, no ORDER BY over everything) and try again."
    )


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


def _set_niceness(thread_id: int, niceness: int) -> bool:
    """Set a thread's niceness (0: the calling thread); False if the system refuses."""
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
    except OSError:
        return False
    return True
