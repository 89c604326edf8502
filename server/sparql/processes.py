"""Evaluate SPARQL queries in query processes that the OS stops at their time and memory bounds.

pyoxigraph cannot cancel a query, and a thread cannot be stopped from outside; a query that
allocates without bound takes down the process it runs in. So the web server evaluates each
query in a *query process* of its own, one query at a time, and lets the kernel enforce the
bounds:

* **time**: before each query the process sets a real-time interval timer
  (``setitimer(ITIMER_REAL)``) of ``query_timeout`` + :data:`HARD_BOUND_GRACE` seconds with
  ``SIGALRM`` left at its default action, so the kernel ends the process when the query is
  still running then, whoever is waiting for it;
* **memory**: the process runs under ``RLIMIT_AS`` (its size when idle plus
  ``query_memory_limit``), so an allocation past the bound fails and the process ends (Rust
  aborts on a failed allocation; Python raises ``MemoryError``, answered 503 too).

A query still running after :data:`DEMOTE_AFTER` seconds yields the CPU (its thread runs at nice
:data:`DEMOTED_NICENESS`), so the short queries beside it, in the other query processes, keep
their pace; afterwards the thread is set back to 0, or (where raising a priority needs a
privilege the server lacks) the process ends and a fresh one takes its place.

Only that process ends: the queries running in the other query processes, and the requests of
the web worker that was waiting for it, carry on. The worker answers its client 503 (with
``Retry-After``) and asks for a fresh process.

Where they come from. :func:`start_forker` forks, from the process that loaded the store and
before any thread runs, a small *forker* that holds the store and listens on a unix socket.
Each connection to it becomes a query process: the forker forks, and the child serves queries
on that connection. So a query process shares the loaded store with the server copy-on-write,
a fresh one starts in milliseconds, and the store is never loaded again. (Reading
pyoxigraph's in-memory store writes to its pages, so each query process ends up with a private
copy of what it reads: at 1M triples a full scan made 299 of 380 MB private. The on-disk store,
opened read-only by each process, keeps its pages in the kernel's page cache instead.)

Each web worker keeps :class:`QueryProcesses`: ``size`` query processes and a bounded queue.
A query takes a free process (or waits, while at most ``queue_limit`` others wait: past that,
503 with ``Retry-After`` at once), sends the job and waits until the client's deadline. A query
past its *client's* deadline (a ``timeout`` parameter shorter than ``query_timeout``, or the
time spent waiting) is answered 503 at that deadline. Its process gets :data:`HARD_BOUND_GRACE`
seconds more: a query nearly done finishes (its answer is dropped) and the process serves the
next, without a fork; one still running then is ended (SIGKILL) and a fresh process is forked
when a query needs one. So a client's ``timeout`` costs at most that much work: a short
``timeout`` on a cheap query costs no process, and one on a query that would run for minutes
does not hold a query process until ``query_timeout``.

The CLI and the in-process test client use :mod:`govkg.sparql.threads` instead.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import pickle
import resource
import select
import selectors
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import govkg.errors as errors
import pyoxigraph as ox
from govkg.rdf.serialize import project_prefixes
from govkg.sparql.runner import QueryAnswer, QueryJob, execute_query
from govkg.sparql.scheduling import DEMOTE_AFTER, DEMOTED_NICENESS, QUERY_STACK_BYTES, set_niceness

log = logging.getLogger(__name__)

#: Seconds past ``query_timeout`` the kernel lets a query process run before it ends it; and
#: past a client's deadline, the web worker (see ``QueryProcesses._drain_forever``).
HARD_BOUND_GRACE = 1.0
#: Seconds a web worker waits for the forker to hand it a new query process.
START_TIMEOUT = 10.0
#: The names of the forker and of the query processes in /proc/PID/comm (at most 15 bytes).
FORKER_NAME = b"govkg-forker"
QUERY_PROCESS_NAME = b"govkg-query"
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
_ANSWER = struct.Struct("=cQ?")  # kind (A: answer, E: error), count, truncated; then the body
_PID = struct.Struct("=II")  # the query process's PID and its query thread's native ID
_FAILED = errors.InternalError("Query evaluation failed; the incident was logged.")
_NO_PROCESS = "No query process could be started just now; try again in a second."


def _name_process(name: bytes) -> None:
    """Name this process in /proc/PID/comm and ``ps`` (Linux; elsewhere nothing): an operator can
    tell the forker and the query processes from the web workers."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _address_space_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * _PAGE_BYTES


# --- the forker and the query processes -------------------------------------------------------

#: The longest path a unix socket can be bound to on Linux (``sun_path`` holds 108 bytes with the NUL).
_SOCKET_PATH_BYTES = 107


@dataclass
class Forker:
    """The forker's socket address and PID, made by :func:`start_forker` in the server's main process."""

    address: str
    pid: int


def start_forker(
    store_of: Callable[[], ox.Store],
    base_iri: str,
    query_timeout: float,
    memory_limit: int | None,
    address: str | None = None,
) -> Forker:
    """Fork the forker (see the module docstring). Call it with no other thread running.

    It ends when the process that started it has gone (it looks once a second). ``address``:
    the socket of a forker that ended, to listen on again (the web workers know that one).
    """
    if address is None:
        address = os.path.join(tempfile.mkdtemp(prefix="govkg-queries-"), "forker.sock")
        if len(os.fsencode(address)) > _SOCKET_PATH_BYTES:
            os.rmdir(os.path.dirname(address))
            raise OSError(
                errno.ENAMETOOLONG,
                f"the query processes' socket path is longer than a unix socket allows "
                f"({_SOCKET_PATH_BYTES} bytes): set TMPDIR to a shorter folder",
                address,
            )
    elif os.path.exists(address):
        os.unlink(address)
    folder = os.path.dirname(address)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    parent = os.getpid()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid:
        listener.close()
        os.close(ready_write)
        os.read(ready_read, 1)  # once it has its name, an operator (or a test) can tell it apart
        os.close(ready_read)
        return Forker(address, pid)
    code = 0
    try:
        os.close(ready_read)
        _name_process(FORKER_NAME)
        os.write(ready_write, b"x")
        os.close(ready_write)
        _run_forker(listener, parent, store_of, base_iri, query_timeout, memory_limit)
    except SystemExit as stop:  # SIGTERM (see _run_forker): leave by the cleanup below
        code = stop.code if isinstance(stop.code, int) else 0
    except BaseException:  # noqa: BLE001 - a forked child never returns into its parent's code
        log.exception("the query process forker failed")
        code = 1
    finally:
        try:
            os.unlink(address)
            os.rmdir(folder)
        except OSError:
            pass
        os._exit(code)


def _run_forker(
    listener: socket.socket,
    parent: int,
    store_of: Callable[[], ox.Store],
    base_iri: str,
    query_timeout: float,
    memory_limit: int | None,
) -> None:
    for signum in (signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, signal.SIG_DFL)  # gunicorn's handlers are the master's, not ours
    # A SIGTERM to the whole process group (a service manager's stop, `kill -- -PGID`) must not
    # leave the socket's folder behind in the temporary directory: leave through the cleanup.
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C goes to the server, which stops
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # query processes are reaped by the kernel
    listener.settimeout(1.0)
    while os.getppid() == parent:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        child = os.fork()
        if child == 0:
            listener.close()
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ends at once, even inside the engine
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _name_process(QUERY_PROCESS_NAME)
                _serve_queries(connection, store_of, base_iri, query_timeout, memory_limit)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        connection.close()


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve_queries(
    sock: socket.socket,
    store_of: Callable[[], ox.Store],
    base_iri: str,
    query_timeout: float,
    memory_limit: int | None,
) -> None:
    """The body of a query process: answer jobs from one web worker until it goes away."""
    connection = Connection(sock.detach())
    prefixes = project_prefixes(base_iri)
    hard_bound = query_timeout + HARD_BOUND_GRACE

    def serve() -> None:
        store = store_of()
        # A process the kernel ends at its memory bound aborts: no core file of a store-sized process.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory_limit is not None:
            limit = _address_space_bytes() + memory_limit
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        connection.send_bytes(_PID.pack(os.getpid(), threading.get_native_id()))
        while True:
            try:
                job: QueryJob = pickle.loads(connection.recv_bytes())
            except (EOFError, OSError):
                return
            signal.setitimer(signal.ITIMER_REAL, hard_bound)
            ended = False
            try:
                answer = execute_query(store, job, prefixes)
                reply = _ANSWER.pack(b"A", answer.count, answer.truncated) + answer.body
            except MemoryError:
                ended = True  # the heap may be in pieces: answer, then make way for a fresh process
                reply = _error_reply(errors.QueryOutOfMemory(_memory_message(memory_limit)))
            except errors.ClientError as error:
                reply = _error_reply(error)
            except BaseException:  # noqa: BLE001 - one clear message, the details logged
                log.exception("query evaluation failed")
                reply = _error_reply(_FAILED)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            del job
            connection.send_bytes(reply)
            if ended:
                return

    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel ends the process at the hard bound
    threading.stack_size(QUERY_STACK_BYTES)
    worker = threading.Thread(target=serve, name="govkg-query")
    worker.start()
    worker.join()


def _error_reply(error: errors.ClientError) -> bytes:
    kind = type(error).__name__
    if not isinstance(getattr(errors, kind, None), type):
        kind = "ClientError"
    detail = pickle.dumps((kind, error.message, error.status))
    return _ANSWER.pack(b"E", 0, False) + detail


def _memory_message(memory_limit: int | None) -> str:
    bound = f" ({memory_limit >> 20} MB)" if memory_limit else ""
    return (
        f"Query stopped: it needed more than the memory limit of a query{bound}, or the query engine "
        "failed on it. Narrow it down (more specific patterns, a LIMIT, no ORDER BY over everything) "
        "and try again."
    )


def _rebuild_error(detail: bytes) -> errors.ClientError:
    kind, message, status = pickle.loads(detail)
    cls = getattr(errors, kind, errors.ClientError)
    if not (isinstance(cls, type) and issubclass(cls, errors.ClientError)) or cls is errors.ServerBusy:
        cls = errors.ClientError
    error = cls(message)
    error.status = status
    return error


# --- a web worker's pool -----------------------------------------------------------------------


@dataclass(eq=False)
class _QueryProcess:
    connection: Connection
    pid: int
    thread_id: int  # the thread that evaluates its queries
    hard_deadline: float = 0.0  # while a query runs: when the kernel ends it at the latest
    demoted: bool = False
    poller: select.poll = field(default_factory=select.poll)

    def __post_init__(self) -> None:
        self.poller.register(self.connection.fileno(), select.POLLIN)

    def answered_within(self, seconds: float) -> bool:
        """Whether its answer (or its end) is there within ``seconds``: ``Connection.poll`` without
        the selector that makes on every call (about a tenth of the hand-off's CPU)."""
        return bool(self.poller.poll(max(seconds, 0) * 1000))


@dataclass(eq=False)
class _Draining:
    """Query processes whose client has had its 503: their answers are dropped as they come."""

    processes: dict[int, _QueryProcess] = field(default_factory=dict)  # by connection fd
    wake_read: int = -1
    wake_write: int = -1


class QueryProcesses:
    """One web worker's query processes (``size``) and its queue of waiting queries (``queue_limit``).

    The pool belongs to the process that made it (``owner_pid``); processes come from the
    forker at ``address`` as they are first needed.
    """

    def __init__(
        self, address: str, size: int, queue_limit: int, query_timeout: float, memory_limit: int | None
    ) -> None:
        self.owner_pid = os.getpid()
        self.address = address
        self.size = size
        self.queue_limit = queue_limit
        self.memory_limit = memory_limit
        self._hard_bound = query_timeout + HARD_BOUND_GRACE
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._idle: list[_QueryProcess] = []
        self._alive = 0  # processes started or starting, idle, running or draining
        self._waiting = 0
        self._draining = _Draining()
        self._drainer: threading.Thread | None = None

    def run(self, job: QueryJob, timeout: float) -> QueryAnswer:
        """Answer ``job`` in a query process: 503 at ``timeout`` s, or at once when the queue is full."""
        deadline = time.monotonic() + timeout
        process = self._take(deadline, timeout)
        payload = pickle.dumps(job, pickle.HIGHEST_PROTOCOL)
        try:
            process.connection.send_bytes(payload)
        except OSError:  # it ended while idle (killed from outside): once more, on a fresh one
            self._lost(process)
            process = self._take(deadline, timeout)
            try:
                process.connection.send_bytes(payload)
            except OSError:  # that one ended too (the forker and its processes were killed)
                self._lost(process)
                raise errors.ServerBusy(_NO_PROCESS, retry_after=1) from None
        process.hard_deadline = time.monotonic() + self._hard_bound
        answered = process.answered_within(min(DEMOTE_AFTER, deadline - time.monotonic()))
        if not answered and deadline > time.monotonic():
            # A long query yields the CPU to the short ones beside it, in the other processes.
            process.demoted = set_niceness(process.thread_id, DEMOTED_NICENESS)
            answered = process.answered_within(deadline - time.monotonic())
        if not answered:
            # Nobody waits for this answer any more: a query nearly done finishes and its process
            # serves on, one still running HARD_BOUND_GRACE s later is ended by the drainer.
            process.hard_deadline = min(process.hard_deadline, time.monotonic())
            self._drain(process)
            log.warning("query answered 503 after %g s: %.200r", timeout, job.query)
            raise errors.QueryTimedOut(
                f"Query timed out: it ran longer than the {timeout:g} s limit and was stopped. "
                "Narrow it down (more specific patterns, a LIMIT) and try again."
            )
        try:
            reply = process.connection.recv_bytes()
        except (EOFError, OSError):
            self._lost(process)
            log.warning("query process %d ended in a query (memory or fault): %.200r", process.pid, job.query)
            raise errors.QueryOutOfMemory(_memory_message(self.memory_limit)) from None
        self._give_back(process)
        kind, count, truncated = _ANSWER.unpack_from(reply)
        if kind == b"A":
            return QueryAnswer(reply[_ANSWER.size :], count, truncated)
        raise _rebuild_error(reply[_ANSWER.size :])

    # --- taking and giving back -------------------------------------------------------------

    def _take(self, deadline: float, timeout: float) -> _QueryProcess:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._alive < self.size:
                self._alive += 1
            else:
                if self._waiting >= self.queue_limit:
                    raise errors.ServerBusy(
                        f"All {self.size} query processes are busy and {self.queue_limit} queries wait; "
                        "try again in a second.",
                        retry_after=1,
                    )
                self._waiting += 1
                try:
                    while not self._idle and self._alive >= self.size:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or not self._free.wait(remaining):
                            raise errors.ServerBusy(
                                f"All {self.size} query processes stayed busy for {timeout:g} s; "
                                "try again later.",
                                retry_after=2,
                            )
                    if self._idle:
                        return self._idle.pop()
                    self._alive += 1
                finally:
                    self._waiting -= 1
        try:
            return self._start()
        except BaseException:
            with self._lock:
                self._alive -= 1
                self._free.notify()
            raise

    def _give_back(self, process: _QueryProcess) -> None:
        if process.demoted:
            if not set_niceness(process.thread_id, 0):
                # Raising a priority needs a privilege: this process ends (it sees its connection
                # close), and the next query that needs one gets a fresh one.
                self._lost(process)
                return
            process.demoted = False
        with self._lock:
            self._idle.append(process)
            self._free.notify()

    def _lost(self, process: _QueryProcess) -> None:
        process.connection.close()
        with self._lock:
            self._alive -= 1
            self._free.notify()

    def _start(self) -> _QueryProcess:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(START_TIMEOUT)
            sock.connect(self.address)
            sock.settimeout(None)
        except OSError as error:  # the forker has ended: the master forks it again at once
            sock.close()
            log.error("no query process: the forker cannot be reached (%s)", error)
            raise errors.ServerBusy(_NO_PROCESS, retry_after=1) from None
        connection = Connection(sock.detach())
        if not connection.poll(START_TIMEOUT):
            connection.close()
            log.error("no query process: the forker did not hand one over within %g s", START_TIMEOUT)
            raise errors.ServerBusy(_NO_PROCESS, retry_after=1)
        try:
            pid, thread_id = _PID.unpack(connection.recv_bytes())
        except (EOFError, OSError):  # the forker ended after it accepted: no process came
            connection.close()
            log.error("no query process: the forker ended before it handed one over")
            raise errors.ServerBusy(_NO_PROCESS, retry_after=1) from None
        return _QueryProcess(connection, pid, thread_id)

    # --- draining the answers nobody waits for ------------------------------------------------

    def _drain(self, process: _QueryProcess) -> None:
        with self._lock:
            if self._drainer is None:
                self._draining.wake_read, self._draining.wake_write = os.pipe()
                self._drainer = threading.Thread(target=self._drain_forever, name="govkg-drain", daemon=True)
                self._drainer.start()
            self._draining.processes[process.connection.fileno()] = process
        os.write(self._draining.wake_write, b"x")

    def _drain_forever(self) -> None:
        """Return each draining process to the pool when its answer comes; drop it when it ends,
        and end it (SIGKILL) when no answer has come :data:`HARD_BOUND_GRACE` s after its deadline."""
        selector = selectors.DefaultSelector()
        selector.register(self._draining.wake_read, selectors.EVENT_READ)
        watched: set[int] = set()
        while True:
            with self._lock:
                processes = dict(self._draining.processes)
            for fd in processes.keys() - watched:
                selector.register(fd, selectors.EVENT_READ)
                watched.add(fd)
            now = time.monotonic()
            # Past its deadline (its client's, or the hard bound where the kernel ends it) and the
            # grace after it, a process still running its query is ended here.
            overdue = [p for p in processes.values() if now > p.hard_deadline + HARD_BOUND_GRACE]
            for process in overdue:
                try:
                    os.kill(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ends = [process.hard_deadline + HARD_BOUND_GRACE for process in processes.values()]
            next_check = min(ends, default=now + 60)
            for key, _ in selector.select(max(next_check - now, 0.05)):
                if key.fd == self._draining.wake_read:
                    os.read(self._draining.wake_read, 4096)
                    continue
                process = processes[key.fd]
                selector.unregister(key.fd)
                watched.discard(key.fd)
                with self._lock:
                    del self._draining.processes[key.fd]
                try:
                    process.connection.recv_bytes()  # the answer nobody waits for any more
                except (EOFError, OSError):
                    self._lost(process)
                    continue
                self._give_back(process)
