"""Run SPARQL queries in killable worker processes, with a time limit and a row limit.

Design
======

Each web worker process (a gunicorn gthread worker) owns a small :class:`QueryPool` of
``query_workers`` query processes. The pool is created lazily, by the first query, in the
process that runs it; it remembers that process's PID, and a process that finds a pool made
by another PID (its parent, before a fork) makes its own.

* **The union default graph.** The default graph is the union of the named graphs:
  queries run on the loaded store itself with pyoxigraph's ``use_default_graph_as_union``,
  never on a copy (a second copy of a big store per web worker would cost more memory than
  the store). That option overrides the query's own FROM / FROM NAMED, so it is only given
  to queries without a dataset clause (:func:`server.sparql_lexer.has_dataset_clause`);
  FROM / FROM NAMED then work natively, and ``default-graph-uri`` / ``named-graph-uri``
  become pyoxigraph's ``default_graph`` / ``named_graphs``. A triple stated in two graphs
  appears once per graph in the union (as in Oxigraph server); the article's own graphs
  are disjoint, so this only shows with extra ``data`` files that repeat triples.
  DESCRIBE reads its CBDs from the same store, like the resource pages.
* **Fork, never reload.** A query process is a plain ``os.fork()`` of the web worker, so it
  shares the in-memory store copy-on-write: nothing is loaded or copied per query
  process, and the store is never written after it is built, so its pages stay shared.
  The child closes every inherited descriptor but its own pipe (listening socket, client
  connections, its siblings' pipes), restores default signal handling (gunicorn's handlers
  would otherwise survive the fork), asks the kernel to kill it when the thread that forked
  it ends (``PR_SET_PDEATHSIG``; gthread threads live as long as their worker), and freezes
  the garbage collector so it never walks (and so copies) the parent's objects.
* **One query at a time per process.** A request thread takes an idle process from a
  queue, sends it a :class:`QueryJob` over a pipe and waits at most ``query_timeout``
  seconds. The process parses, evaluates *and serializes* the answer, so the time limit
  covers all the work, and sends back the bytes of the response body.
* **The limit really stops the work.** When the time is up the thread SIGKILLs the
  process, reaps it, forks a replacement and answers 503. The other processes and the
  other request threads carry on meanwhile. A process that dies by itself (a crash, the
  OOM killer) is replaced the same way and the client gets a 500.
* **Waiting for a free process** is bounded by the same ``query_timeout``; then the client
  gets 503 with ``Retry-After``.
* **Row limit.** SELECT solutions and CONSTRUCT/DESCRIBE triples stop at
  ``max_result_rows``; one more is read to know whether there were more, and the answer
  says so (the endpoint turns that into ``X-Govkg-Truncated: true``).

Serialization of SELECT results goes through the SPARQL JSON results format: the capped
rows are written as JSON (returned as is when JSON was asked for) and otherwise re-read and
written by pyoxigraph in the requested format, so XML, CSV and TSV are pyoxigraph's own.

Measured (2 CPUs, this graph of ~3.5k triples; tests/test_sparql_safety.py guards the first):

* a 5-row SELECT: 0.02 ms in pyoxigraph in-process, 0.14 ms through a query process (one
  pipe round trip); over HTTP, /sparql answers in 2.1 ms where /healthz takes 1.3 ms, so
  the endpoint adds about 0.8 ms to any request and 2 ms to in-process pyoxigraph;
* a runaway query with a 2 s limit is answered 503 after 2.015–2.02 s, its process gone;
* a query process holds 4–6 MiB privately; the other ~56 MiB of its 61 MiB are shared
  with its web worker. That holds while queries read little of the store: reading
  pyoxigraph's in-memory store writes to its pages, so a query process that scans a big
  store copies most of it (at 1M triples, one ``COUNT(*)`` makes 295 of its 370 MB
  private). Big data belongs in a persistent store (:mod:`server.persistent`), where each
  process has its own read-only handle and a bounded cache, and a query process frees
  the heap a query used (``malloc_trim``) after each answer.

Why processes and not threads: pyoxigraph keeps the GIL while it evaluates, so a query
in a thread would stall every other request of the web worker, and it cannot be stopped.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import json
import logging
import os
import queue
import re
import signal
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

import pyoxigraph as ox
from flask import current_app
from werkzeug.exceptions import ServiceUnavailable

from .describe import concise_bounded_description
from .errors import ClientError
from .formats import RdfFormat, ResultsFormat, rdf_format, results_format
from .serialize import project_prefixes
from .sparql_lexer import has_dataset_clause
from .store import LoadedGraph, loaded_graph

if TYPE_CHECKING:
    from .backends import Backend

log = logging.getLogger(__name__)

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")
_UNSUPPORTED_FUNCTION = re.compile(r"The custom function <([^>]*)> is not supported")
_MAX_UNSUPPORTED_FUNCTIONS = 16
# Signals whose handlers a fork inherits from gunicorn; a query process wants the defaults.
_RESET_SIGNALS = (
    "SIGTERM",
    "SIGINT",
    "SIGHUP",
    "SIGQUIT",
    "SIGUSR1",
    "SIGUSR2",
    "SIGWINCH",
    "SIGCHLD",
    "SIGABRT",
)
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class QueryJob:
    """Everything a query process needs to answer one query.

    ``format_name`` names a registry format (a results format for SELECT/ASK, an RDF
    format for CONSTRUCT/DESCRIBE). ``default_graphs``/``named_graphs`` are the protocol's
    ``default-graph-uri``/``named-graph-uri``: when either is given they make the dataset;
    otherwise the query's FROM / FROM NAMED do, or else the union default graph.
    """

    query: str
    form: str | None
    format_name: str | None
    max_rows: int
    base_iri: str | None = None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    federated: bool = False


@dataclass(frozen=True)
class QueryAnswer:
    """The serialized answer: body bytes, how many rows/triples, whether rows were cut."""

    body: bytes
    count: int
    truncated: bool


class _QueryFailed(Exception):
    """A query the process refuses or cannot answer, with the HTTP status to give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- evaluation (runs in the query process, or in-process for the CLI and benchmarks) -------


def dataset_options(job: QueryJob) -> dict:
    """pyoxigraph's dataset options for ``job``: the protocol's graphs, else the query's own, else the union.

    >>> dataset_options(QueryJob("SELECT * { ?s ?p ?o }", "SELECT", "json", 1))
    {'use_default_graph_as_union': True}
    >>> dataset_options(QueryJob("SELECT * FROM <urn:g> { ?s ?p ?o }", "SELECT", "json", 1))
    {}
    >>> job = QueryJob("SELECT * {}", "SELECT", "json", 1, default_graphs=("urn:g",))
    >>> dataset_options(job)["default_graph"]
    [<NamedNode value=urn:g>]
    """
    if job.default_graphs is not None or job.named_graphs is not None:
        return {
            "default_graph": [ox.NamedNode(iri) for iri in job.default_graphs or ()],
            "named_graphs": [ox.NamedNode(iri) for iri in job.named_graphs or ()],
        }
    if has_dataset_clause(job.query):
        return {}
    return {"use_default_graph_as_union": True}


def execute_query(store: ox.Store, job: QueryJob, prefixes: dict[str, str]) -> QueryAnswer:
    """Evaluate ``job`` on ``store`` and serialize the answer; raise :class:`ClientError` on failure.

    The default graph is the union of the named graphs unless the job or the query names
    a dataset (:func:`dataset_options`); DESCRIBE answers CBDs read from ``store``.
    """
    try:
        return _execute(store, job, prefixes)
    except _QueryFailed as failure:
        raise ClientError(failure.message, failure.status) from None


def _execute(store: ox.Store, job: QueryJob, prefixes: dict[str, str]) -> QueryAnswer:
    options: dict = {"base_iri": job.base_iri, **dataset_options(job)}
    result = _prepare(store, job, options)
    try:
        if isinstance(result, ox.QueryBoolean):
            _expect(job, ("ASK",))
            return QueryAnswer(result.serialize(format=results_format(job.format_name).oxigraph), 1, False)
        if isinstance(result, ox.QuerySolutions):
            _expect(job, ("SELECT",))
            return _serialize_solutions(result, results_format(job.format_name), job.max_rows)
        _expect(job, ("CONSTRUCT", "DESCRIBE"))
        if job.form == "DESCRIBE":
            triples: Iterable[ox.Triple] = _describe(store, result)
        else:
            triples = result
        return _serialize_graph(triples, rdf_format(job.format_name), job.max_rows, prefixes)
    except _QueryFailed:
        raise
    except Exception as error:  # noqa: BLE001 - evaluation errors become one clear message
        if job.federated and isinstance(error, OSError | RuntimeError):
            raise _QueryFailed(502, f"Query evaluation failed while calling a SERVICE: {error}") from None
        if isinstance(error, RuntimeError):  # the query's own doing, e.g. SERVICE on an unbound variable
            raise _QueryFailed(400, f"Query evaluation failed: {error}") from None
        log.exception("query evaluation failed")
        raise _QueryFailed(500, "Query evaluation failed; the incident was logged.") from None


def _prepare(store: ox.Store, job: QueryJob, options: dict) -> ox.QuerySolutions | ox.QueryTriples | bool:
    """Parse and plan the query; a call of a function the engine lacks evaluates to an error.

    Such a query is valid SPARQL (the W3C syntax test syntax-query/test_4 is one), so the
    call is treated as an expression error: a BIND leaves its variable unbound, a FILTER
    fails. pyoxigraph refuses the whole query instead, naming the function; each function
    it names is registered as one that always errs, and the query is planned again.
    """
    unsupported: dict[ox.NamedNode, object] = {}
    while True:
        try:
            return store.query(job.query, custom_functions=unsupported or None, **options)
        except SyntaxError as error:
            raise _QueryFailed(400, syntax_error_message(job.query, str(error))) from None
        except RuntimeError as error:  # valid syntax the engine refuses
            match = _UNSUPPORTED_FUNCTION.fullmatch(str(error))
            if match is None or len(unsupported) >= _MAX_UNSUPPORTED_FUNCTIONS:
                raise _QueryFailed(400, f"The query cannot be evaluated: {error}") from None
            unsupported[ox.NamedNode(match.group(1))] = _evaluation_error


def _evaluation_error(*_arguments: object) -> None:
    """An extension function this engine does not have: every call is an error (``None``)."""
    return None


def _expect(job: QueryJob, forms: tuple[str, ...]) -> None:
    if job.form not in forms or job.format_name is None:
        raise _QueryFailed(400, "Could not determine the query form (SELECT, ASK, CONSTRUCT or DESCRIBE).")


def syntax_error_message(query: str, message: str) -> str:
    """The parser's message, prefixed, with the offending line and a caret under the position.

    >>> print(syntax_error_message("SELECT ?x WHERE {\\n  ?x ?y \\n}", "error at 3:2: expected OPTIONAL"))
    Malformed query: error at 3:2: expected OPTIONAL (line 3, column 2)
    3 | }
      |  ^
    """
    match = _ERROR_POSITION.search(message)
    if not match:
        return f"Malformed query: {message}"
    line_number, column = int(match.group(1)), int(match.group(2))
    lines = query.splitlines() or [""]
    line = lines[min(line_number, len(lines)) - 1]
    gutter = " " * len(str(line_number))
    caret = " " * max(column - 1, 0) + "^"
    return (
        f"Malformed query: {message} (line {line_number}, column {column})\n"
        f"{line_number} | {line}\n{gutter} | {caret}"
    )


def _term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        encoded = {"type": "literal", "value": term.value}
        if term.language:
            encoded["xml:lang"] = term.language
            if term.direction:
                encoded["its:dir"] = term.direction.name.lower()
        elif term.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING, _RDF_DIR_LANG_STRING):
            encoded["datatype"] = term.datatype.value
        return encoded
    return {
        "type": "triple",
        "value": {
            "subject": _term_json(term.subject),
            "predicate": _term_json(term.predicate),
            "object": _term_json(term.object),
        },
    }


def _serialize_solutions(solutions: ox.QuerySolutions, fmt: ResultsFormat, max_rows: int) -> QueryAnswer:
    names = [variable.value for variable in solutions.variables]
    bindings = []
    truncated = False
    for solution in solutions:
        if len(bindings) == max_rows:
            truncated = True
            break
        row = {}
        for index, name in enumerate(names):
            term = solution[index]
            if term is not None:
                row[name] = _term_json(term)
        bindings.append(row)
    document = {"head": {"vars": names}, "results": {"bindings": bindings}}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt.oxigraph != ox.QueryResultsFormat.JSON:
        body = ox.parse_query_results(body, ox.QueryResultsFormat.JSON).serialize(format=fmt.oxigraph)
    return QueryAnswer(body, len(bindings), truncated)


def _describe(store: ox.Store, described: Iterable[ox.Triple]) -> Iterable[ox.Triple]:
    """The union of the CBDs of the resources pyoxigraph's DESCRIBE found (as on resource pages)."""
    resources = dict.fromkeys(
        triple.subject for triple in described if isinstance(triple.subject, ox.NamedNode | ox.BlankNode)
    )
    for resource in resources:
        yield from concise_bounded_description(store, resource)


def _serialize_graph(
    triples: Iterable[ox.Triple], fmt: RdfFormat, max_rows: int, prefixes: dict[str, str]
) -> QueryAnswer:
    distinct: dict[ox.Triple, None] = {}
    truncated = False
    for triple in triples:
        if triple in distinct:
            continue
        if len(distinct) == max_rows:
            truncated = True
            break
        distinct[triple] = None
    # Same-subject triples side by side, so Turtle and TriG group them.
    ordered = sorted(distinct, key=lambda t: str(t.subject))
    if fmt.carries_graphs:
        graph = ox.DefaultGraph()
        body = ox.serialize(
            [ox.Quad(t.subject, t.predicate, t.object, graph) for t in ordered],
            format=fmt.oxigraph,
            prefixes=prefixes,
        )
    elif fmt.oxigraph == ox.RdfFormat.N_TRIPLES:
        body = ox.serialize(ordered, format=fmt.oxigraph)
    else:
        body = ox.serialize(ordered, format=fmt.oxigraph, prefixes=prefixes)
    return QueryAnswer(body, len(ordered), truncated)


# --- the pool of query processes --------------------------------------------------------------


POOL_KEY = "govkg.query_pool"
#: A query still running after this many seconds yields the CPU: its process runs at
#: :data:`DEMOTED_NICENESS` for the rest of its time, so a runaway slows the short queries and
#: the pages served beside it as little as possible (Linux gives a nice-10 process about a tenth
#: of a CPU that a nice-0 one also wants). Its time limit is unchanged.
DEMOTE_AFTER = 0.5
DEMOTED_NICENESS = 10
_POOL_LOCK_KEY = "govkg.query_pool_lock"


def query_pool() -> QueryPool:
    """The current app's pool of query processes in this process, created on first use.

    A pool belongs to the process that created it: after a fork (gunicorn may fork after
    the app is built) the child finds a pool with another PID and creates its own.
    """
    app = current_app._get_current_object()
    pool = app.extensions.get(POOL_KEY)
    if pool is not None and pool.owner_pid == os.getpid():
        return pool
    with app.extensions.setdefault(_POOL_LOCK_KEY, threading.Lock()):
        pool = app.extensions.get(POOL_KEY)
        if pool is None or pool.owner_pid != os.getpid():
            pool = QueryPool(loaded_graph(), app.config["GOVKG_SETTINGS"]["query_workers"])
            app.extensions[POOL_KEY] = pool
    return pool


@dataclass
class _Worker:
    pid: int
    connection: Connection


class QueryPool:
    """``size`` forked query processes sharing ``loaded``'s store; see the module docstring."""

    def __init__(self, loaded: LoadedGraph, size: int) -> None:
        self.owner_pid = os.getpid()
        self.size = size
        self._backend = loaded.backend
        self._prefixes = project_prefixes(loaded.base_iri)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._live: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._spawn_lock = threading.Lock()
        self._closed = False
        self._refill()
        atexit.register(self.close)

    @property
    def pids(self) -> list[int]:
        """The PIDs of the live query processes."""
        return list(self._live)

    def run(self, job: QueryJob, timeout: float) -> QueryAnswer:
        """Answer ``job`` in a query process; 503 when it takes longer than ``timeout`` seconds."""
        self._refill()
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise ServiceUnavailable(
                f"All {self.size} query processes stayed busy for {timeout:g} s; try again shortly.",
                retry_after=2,
            ) from None
        healthy = demoted = False
        try:
            worker.connection.send(job)
            ready = worker.connection.poll(min(timeout, DEMOTE_AFTER))
            if not ready and timeout > DEMOTE_AFTER:
                demoted = _set_niceness(worker.pid, DEMOTED_NICENESS)
                ready = worker.connection.poll(timeout - DEMOTE_AFTER)
            if not ready:
                log.warning("query stopped after %g s: %.200r", timeout, job.query)
                raise ClientError(
                    f"Query timed out: it ran longer than the {timeout:g} s limit and was stopped. "
                    "Narrow it down (more specific patterns, a LIMIT) and try again.",
                    503,
                )
            reply = worker.connection.recv()
            healthy = True
        except (EOFError, OSError):
            log.error("query process %d died while answering %.200r", worker.pid, job.query)
            raise ClientError(
                "The query process failed (out of memory?); the incident was logged.", 500
            ) from None
        finally:
            if healthy and (not demoted or _set_niceness(worker.pid, 0)):
                self._idle.put(worker)
            else:  # dead, stopped, or demoted for good (raising a priority needs privileges)
                self._replace(worker)
        if reply[0] == "ok":
            return reply[1]
        raise ClientError(reply[2], reply[1])

    def close(self) -> None:
        """Kill every query process (at exit, or when the pool is dropped)."""
        if os.getpid() != self.owner_pid:
            return
        self._closed = True
        for worker in list(self._live.values()):
            self._kill(worker)

    # -- process management --

    def _spawn(self) -> _Worker:
        parent_end, child_end = Pipe(duplex=True)
        parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the query process
            try:
                _query_process(child_end, parent_pid, self._backend, self._prefixes)
            finally:
                os._exit(0)
        child_end.close()
        worker = _Worker(pid, parent_end)
        with self._lock:
            self._live[pid] = worker
        return worker

    def _kill(self, worker: _Worker) -> None:
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
        worker.connection.close()
        with self._lock:
            self._live.pop(worker.pid, None)

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self._refill()

    def _refill(self) -> None:
        """Fork processes until the pool has ``size`` again (after kills or a failed fork)."""
        with self._spawn_lock:
            while not self._closed and len(self._live) < self.size:
                try:
                    self._idle.put(self._spawn())
                except OSError:
                    log.exception("could not fork a query process")
                    return


def _set_niceness(pid: int, niceness: int) -> bool:
    """Set a query process's niceness; False if the system refuses (a process that is gone, no privilege)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        return False
    return True


def _query_process(
    connection: Connection, parent_pid: int, backend: Backend, prefixes: dict[str, str]
) -> None:
    """The body of a query process: answer jobs from ``connection`` until it closes.

    The store comes from ``backend`` after the fork: the shared in-memory Store, or a
    persistent store's own read-only handle for this process (never the parent's).
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends the loop
        pass
    if os.getppid() != parent_pid:
        return
    for name in _RESET_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    _close_inherited_descriptors(keep=connection.fileno())
    store = backend.store
    gc.freeze()
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", _on_a_deep_stack(_execute, store, job, prefixes))
        except _QueryFailed as failure:
            reply = ("error", failure.status, failure.message)
        except Exception:  # noqa: BLE001 - never let the process die on a bad job
            log.exception("query process failed")
            reply = ("error", 500, "Query evaluation failed; the incident was logged.")
        connection.send(reply)
        release_free_memory()


def release_free_memory() -> None:
    """Give the heap that a query freed back to the kernel (glibc keeps it otherwise, so a
    query process that once ran a big query would stay big). Linux/glibc only; else nothing."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


def _close_inherited_descriptors(keep: int) -> None:
    """Close every descriptor above stderr but ``keep``: sockets and pipes of the parent."""
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every possible descriptor, within reason
        descriptors = list(range(3, min(os.sysconf("SC_OPEN_MAX"), 65536)))
    for descriptor in descriptors:
        if descriptor > 2 and descriptor != keep:
            try:
                os.close(descriptor)
            except OSError:
                pass


#: The stack of the thread that parses and evaluates each query in a query process. pyoxigraph
#: recurses once per level of nesting (groups, brackets, unary operators, long operator chains):
#: on a thread's usual 8 MiB, 3,000 nested groups (9 KB of query) overflowed it and killed the
#: process (a 500). 512 MiB holds queries of several hundred KB, far above ``max_query_bytes``;
#: it is address space, and only what a query really uses is touched, then freed with the thread.
QUERY_STACK_BYTES = 512 * 1024 * 1024


def _on_a_deep_stack(function, *arguments):  # noqa: ANN001, ANN002, ANN202
    """``function(*arguments)`` in a thread with a :data:`QUERY_STACK_BYTES` stack: its value or its error.

    >>> _on_a_deep_stack(sum, [1, 2, 3])
    6
    """
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, function(*arguments)))
        except BaseException as error:  # noqa: BLE001 - handed to the caller as is
            outcome.append((False, error))

    previous = threading.stack_size(QUERY_STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="govkg-query")
        thread.start()
    except RuntimeError:  # no room for such a thread: the plain stack
        return function(*arguments)
    finally:
        threading.stack_size(previous)
    thread.join()
    succeeded, value = outcome[0]
    if succeeded:
        return value
    raise value
