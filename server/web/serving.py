"""Run the application under gunicorn, the production server.

Stalled clients. A gthread worker has 8 threads, and a thread that writes an answer
blocks until the client has read it: a client that stops reading a large dump (or stops
sending its request) would hold the thread for ever, and a few such clients would stop the
worker. So every connection gets kernel send and receive time-outs (``SO_SNDTIMEO``,
``SO_RCVTIMEO``, set on the listening sockets, which accepted connections inherit) of
``client_timeout`` seconds: a send or receive that makes *no progress* for that long fails,
the connection is dropped and the thread is free again. A slow client that keeps reading,
however slowly, is never cut off. Each drop is logged as one warning line.

Closing. Gunicorn (25 and later) closes a connection it will not keep alive gracefully:
it half-closes it and waits up to 2 s for the client to close its side. It waits on the
worker's main loop, which accepts and dispatches every connection, so each client that does
not close — a dropped staller, or any client that sends ``Connection: close`` and then sits
still — would stop the whole worker for 2 s (five such clients: 10 s for everyone). Here that
wait runs in a short-lived thread of its own (at most :data:`LINGERING_CLOSES` at once; past
that, a plain close).

Runaway queries. Queries run on threads of the worker (:mod:`govkg.sparql.threads`), which
cannot be stopped from outside; when one passes the time limit its client gets 503 at once
and the worker asks to retire: the arbiter forks a replacement and, once that one is up
(:class:`_Arbiter`), stops the old one, which answers what it has in flight and exits. So some
worker always accepts. The master keeps the app it built (a replacement starts in
milliseconds) unless the store is a big in-memory one: reading that writes to its pages, so the
worker would end up with a second copy beside the master's. Then the master lets its copy go
once the first workers are forked, and a replacement loads the data itself (seconds per
million triples), while the old worker serves on with its runaway query still running.

Stopping. SIGTERM to the master drains: requests in flight are answered (for at most
``graceful_timeout``), then the processes exit with status 0. Gunicorn's workers would keep
their listening sockets open until they exit, so a connection made during the drain would sit
in the backlog unanswered and then be reset; here each worker closes them as soon as it gets
SIGTERM, so new connections are refused at once and a client can go elsewhere.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from govkg.malloc import limit_arenas, release_free_memory
from govkg.sparql.threads import set_runaway_handler
from govkg.web.app import create_app
from govkg.web.store import EXTENSION_KEY
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

#: Threads of each gunicorn web worker: the requests one worker serves at once.
THREADS = 8
#: Graceful closes (each waits up to 2 s for the client) that may run at once in one worker.
LINGERING_CLOSES = 32


class _GunicornApplication(BaseApplication):
    """Gunicorn configured from govkg settings instead of its own command line."""

    def __init__(self, settings: dict[str, Any], app: Flask) -> None:
        self.settings = settings
        self.app: Flask | None = app
        super().__init__()

    def run(self) -> None:
        _Arbiter(self).run()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{_bracket_ipv6(self.settings['host'])}:{self.settings['port']}")
        self.cfg.set("workers", self.settings["workers"])
        # Threads let a worker answer other requests while some wait on their queries, which
        # run on the worker's query threads (pyoxigraph releases the GIL while it works).
        self.cfg.set("worker_class", _ThreadWorker)
        self.cfg.set("threads", THREADS)
        # A worker that is busy with a long query must not be killed for that.
        self.cfg.set("timeout", int(self.settings["query_timeout"]) + 30)
        self.cfg.set("graceful_timeout", int(self.settings["query_timeout"]) + 5)
        self.cfg.set("accesslog", "-")
        self.cfg.set("logger_class", _AccessLogger)
        # Shareable query links carry the whole query in the URL; allow gunicorn's maximum.
        # Longer queries go by POST (max_query_bytes bounds them).
        self.cfg.set("limit_request_line", 8190)
        # The app (and its store) is built once in the master and shared copy-on-write
        # by the forked workers: less memory, and a bad data file stops the start-up
        # with one clear message instead of failing in every worker.
        self.cfg.set("preload_app", True)
        self.cfg.set("when_ready", _client_timeouts(self.settings["client_timeout"]))
        self.cfg.set("post_worker_init", _worker_up)
        # Gunicorn 25+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl),
        # shared by every instance on the machine; govkg is run by signals alone.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        # In a worker forked after the master let its app go: this worker's own.
        return self.app if self.app is not None else create_app(self.settings)

    def release_big_store(self) -> None:
        """In the master, once the first workers are forked: drop a big in-memory store (see above)."""
        if self.app is None:
            return
        backend = self.app.extensions[EXTENSION_KEY].backend
        big_in_memory = backend.in_memory and backend.large
        del backend  # the last reference here must go before the store can be freed
        if big_in_memory:
            self.app = self.callable = None
            gc.collect()
            release_free_memory()
            logging.getLogger("gunicorn.error").info(
                "Big in-memory store: left to the workers (a replacement worker loads the data itself)."
            )


class _Arbiter(Arbiter):
    """Gunicorn's arbiter, which also replaces a worker that asks to retire before stopping it.

    A worker that must end (a query it cannot stop ran past its limit) writes ``R`` and its
    PID to :attr:`messages` and wakes the arbiter (SIGCHLD, whose handler only reaps). The
    arbiter forks a replacement at once and lets the old worker serve on until the new one
    writes ``U`` (up: app loaded, about to accept); then it sends the old one SIGTERM. So
    there is always a worker accepting connections, even while a replacement loads a big
    store. A replacement that does not come up within :data:`RETIRE_WAIT` seconds does not
    keep the old one alive longer.
    """

    messages: tuple[int, int] | None = None  # the pipe workers write to, made before any fork

    def start(self) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        _Arbiter.messages = (read_end, write_end)
        self._retiring: dict[int, float] = {}  # PID: when it asked; until it is told to stop
        self._stopping: set[int] = set()  # retired workers told to stop, until they have exited
        self._awaited = 0  # replacements forked that have not said they are up
        super().start()

    def manage_workers(self) -> None:
        self._read_messages()
        self._stopping &= set(self.WORKERS)
        for pid in [pid for pid in self._retiring if pid not in self.WORKERS]:
            del self._retiring[pid]
        for pid, asked in list(self._retiring.items()):
            if time.monotonic() - asked > RETIRE_WAIT:
                self._stop(pid)
        if not self._retiring:
            self._awaited = 0
        serving = len(self.WORKERS) - len(self._retiring) - len(self._stopping)
        for _ in range(self.num_workers - serving):
            self.spawn_worker()
        if serving > self.num_workers and not self._retiring and not self._stopping:
            super().manage_workers()  # after TTOU: gunicorn stops the oldest
        self.app.release_big_store()

    def _read_messages(self) -> None:
        try:
            data = os.read(self.messages[0], 4096) if self.messages else b""
        except BlockingIOError:
            return
        for offset in range(0, len(data) - len(data) % _MESSAGE.size, _MESSAGE.size):
            kind, pid = _MESSAGE.unpack_from(data, offset)
            if (
                kind == b"R"
                and pid in self.WORKERS
                and pid not in self._retiring
                and pid not in self._stopping
            ):
                self.log.info("Worker %s retires; forking its replacement.", pid)
                self._retiring[pid] = time.monotonic()
                self._awaited += 1
                self.spawn_worker()
            elif kind == b"U" and self._retiring and self._awaited:
                self._awaited -= 1
                self._stop(min(self._retiring, key=self._retiring.__getitem__))

    def _stop(self, pid: int) -> None:
        del self._retiring[pid]
        self._stopping.add(pid)
        self.kill_worker(pid, signal.SIGTERM)


#: Seconds a retiring worker serves on while its replacement loads.
RETIRE_WAIT = 120.0
_MESSAGE = struct.Struct("=cI")  # a kind (R: retire me, U: I am up) and a PID


def _tell_arbiter(kind: bytes) -> None:
    """From a worker: write a message to the arbiter's pipe and wake it up."""
    if _Arbiter.messages is None:
        return
    os.write(_Arbiter.messages[1], _MESSAGE.pack(kind, os.getpid()))
    os.kill(os.getppid(), signal.SIGCHLD)


def _worker_up(worker: Any) -> None:
    """Gunicorn's ``post_worker_init`` hook: the worker has its app and is about to accept."""
    _tell_arbiter(b"U")


def _client_timeouts(seconds: float) -> Callable[[Any], None]:
    """A gunicorn ``when_ready`` hook: stalled-client time-outs on every listening socket."""
    timeval = struct.pack("ll", int(seconds), int(seconds % 1 * 1_000_000))

    def when_ready(arbiter: Any) -> None:
        for listener in arbiter.LISTENERS:
            for option in (socket.SO_SNDTIMEO, socket.SO_RCVTIMEO):
                listener.sock.setsockopt(socket.SOL_SOCKET, option, timeval)
        logging.getLogger("gunicorn.error").addFilter(_StalledClientLog(seconds))

    return when_ready


class _StalledClientLog(logging.Filter):
    """Turn gunicorn's traceback for a send/receive time-out (EAGAIN) into one warning line."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BlockingIOError):
            record.msg = "Dropped a client that stalled for %g s (client_timeout)."
            record.args = (self.seconds,)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class _ThreadWorker(ThreadWorker):
    """Gunicorn's gthread worker that closes off its main loop, stops listening on SIGTERM,
    and retires itself when a query runs past its time limit."""

    retiring = False

    def init_process(self) -> None:
        set_runaway_handler(self.retire)
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app = self.wsgi

        def closing_when_retiring(environ: dict, start_response: Callable[..., Any]) -> Any:
            body = app(environ, start_response)
            if self.retiring:  # the client should come back to the replacement, not here
                response = getattr(start_response, "__self__", None)  # gunicorn's Response
                if hasattr(response, "force_close"):
                    response.force_close()
            return body

        self.wsgi = closing_when_retiring

    def retire(self) -> None:
        """Stop as on SIGTERM (requests in flight are answered); the arbiter forks a fresh worker.

        Called from a request thread: the signal runs the handler on the main thread.
        """
        if self.alive and not self.retiring:
            self.retiring = True
            self.log.warning("Retiring worker %s: a query ran past its time limit.", os.getpid())
            _tell_arbiter(b"R")

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)  # stop the main loop; requests in flight carry on
        self.set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()

    def finish_request(self, conn: Any, fs: Any) -> None:
        if "close" not in vars(conn):
            conn.close = partial(_close_off_the_loop, conn.close)
        super().finish_request(conn, fs)


_lingering = threading.BoundedSemaphore(LINGERING_CLOSES)


def _close_off_the_loop(close: Callable[..., None], graceful: bool = False) -> None:
    """Run a graceful close in a thread of its own; a plain close when too many already wait."""
    if not graceful or not _lingering.acquire(blocking=False):
        close()
        return

    def linger() -> None:
        try:
            close(graceful=True)
        finally:
            _lingering.release()

    threading.Thread(target=linger, name="govkg-close", daemon=True).start()


class _AccessLogger(Logger):
    """Gunicorn's logger, with its default access line written without its generic formatter.

    Gunicorn builds a dictionary of every environ entry and header for each request, whatever
    the format uses (about a tenth of the CPU of a small query's request). This writes the same
    line, in gunicorn's default combined format (quotes in values escaped as gunicorn does).
    """

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if self.cfg.access_log_format != self.cfg.settings["access_log_format"].default:
            super().access(resp, req, environ, request_time)
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        sent = getattr(resp, "sent", None)
        fields = (
            environ.get("REMOTE_ADDR", "-"),
            self._get_user(environ) or "-",
            self.now(),
            f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            str(status),
            str(sent) if sent is not None else "-",
            environ.get("HTTP_REFERER", "-"),
            environ.get("HTTP_USER_AGENT", "-"),
        )
        try:
            self.access_log.info('%s - %s %s "%s" %s %s "%s" "%s"', *(f.replace('"', '\\"') for f in fields))
        except Exception:  # noqa: BLE001 - as gunicorn: a logging failure is reported, not raised
            self.exception("access log")


def _bracket_ipv6(host: str) -> str:
    """IPv6 literals need brackets in a bind address.

    >>> _bracket_ipv6("::1")
    '[::1]'
    """
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class CannotListen(Exception):
    """The server's address cannot be listened on (the port is taken, the host is not this machine's)."""


def check_can_listen(host: str, port: int) -> None:
    """Bind the address once and let go, so that a taken port is one clear error before anything starts.

    gunicorn binds it again a moment later (SO_REUSEADDR, as gunicorn does).
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise CannotListen(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def run_server(settings: dict[str, Any]) -> None:
    """Load the data, then serve until stopped; SIGTERM lets requests in flight finish first.

    Raises :class:`CannotListen` if the address is taken, and
    :class:`govkg.graph.knowledge_graph.DataFileError` before listening if a data file is bad.
    """
    check_can_listen(settings["host"], settings["port"])
    limit_arenas()  # before any thread allocates; the workers inherit it
    application = _GunicornApplication(settings, create_app(settings))  # the only reference to the app
    print(f"govkg: serving on http://{_bracket_ipv6(settings['host'])}:{settings['port']}/", flush=True)
    application.run()
