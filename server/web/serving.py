"""Run the application under gunicorn, the production server.

This is ``govkg serve``: one gunicorn server, right on a laptop, in a test, or behind a proxy.
On the open internet, ``govkg serve-public`` (:mod:`govkg.web.public`) puts nginx in front of
several of these: the connection-level work (slow senders and readers, idle floods, bodies,
framing) is nginx's, as gunicorn's own deployment notes ask.

Workers. Gunicorn's gthread workers (``workers`` of them, forked after the app and its store are
loaded, so they share it copy-on-write) parse requests and run the app on a few threads each.
Queries do not run in them: each web worker hands its queries to ``query_workers`` query
processes of its own (:mod:`govkg.sparql.processes`), forked from a forker that the master
starts before the workers, which the kernel stops at their time and memory bounds. So a web
worker never has to be stopped for a query, and no query stops another.

Stalled clients. Every connection gets kernel send and receive time-outs (``SO_SNDTIMEO``,
``SO_RCVTIMEO``, set on the listening sockets, which accepted connections inherit) of
``client_timeout`` seconds: a send or receive that makes *no progress* for that long fails, the
connection is dropped and the thread is free again. (A client that keeps trickling holds a
thread for as long as it trickles: in front of the open internet, use ``serve-public``.)

Closing. Gunicorn (25 and later) closes a connection it will not keep alive gracefully: it
half-closes it and waits up to 2 s for the client to close its side, on the worker's main loop.
Here that wait runs in a short-lived thread of its own (at most :data:`LINGERING_CLOSES` at
once; past that, a plain close), so a client that does not close cannot stop the worker.

Stopping. SIGTERM to the master drains: requests in flight are answered (for at most
``graceful_timeout``), then the processes exit with status 0. Each worker closes its listening
sockets as soon as it gets SIGTERM, so new connections are refused at once and a client can go
elsewhere.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from govkg.malloc import limit_arenas
from govkg.sparql.processes import Forker, start_forker
from govkg.web.app import create_app
from govkg.web.store import EXTENSION_KEY
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

#: Request threads of a web worker besides those its queries may hold (running or waiting):
#: /healthz and the pages are answered while every query process is busy and its queue full.
SPARE_THREADS = 2
#: Graceful closes (each waits up to 2 s for the client) that may run at once in one worker.
LINGERING_CLOSES = 32
#: Seconds a request thread waits for the next request on its kept-alive connection before it
#: hands the connection back to the worker's poller (see ``_ThreadWorker.handle``), looking in
#: slices of :data:`NEXT_REQUEST_SLICE` s whether another connection waits for a thread.
NEXT_REQUEST_WAIT = 0.05
NEXT_REQUEST_SLICE = 0.005

#: Web workers that ``workers = auto`` gives a small in-memory store (see :func:`web_workers`).
SMALL_STORE_WORKERS = 2


def web_workers(setting: str | int, app: Flask | None) -> int:
    """The number of web workers: the ``workers`` setting, or for ``auto`` one sized to the store.

    A small in-memory store is copied cheaply into a second worker (copy-on-write, then each
    worker's own pages as it reads them), and a second interpreter lets the request path's
    Python use the second core: issue 14's runs measured 1.4x the queries per second at 100k
    triples, at the same CPU per query. A big in-memory store (over
    :data:`govkg.store.backends.LARGE_IN_MEMORY` quads), a store on disk or behind a SPARQL
    endpoint: 1 (the queries still run in ``query_workers`` processes, on every core).
    """
    if setting != "auto":
        return int(setting)
    if app is None:
        return 1
    backend = app.extensions[EXTENSION_KEY].backend
    return SMALL_STORE_WORKERS if backend.in_memory and not backend.large else 1


def request_threads(settings: dict[str, Any]) -> int:
    """Threads of each web worker: its queries running and waiting, and :data:`SPARE_THREADS`.

    >>> request_threads({"query_workers": 2, "query_queue": 4})
    8
    """
    return settings["query_workers"] + settings["query_queue"] + SPARE_THREADS


class _GunicornApplication(BaseApplication):
    """Gunicorn configured from govkg settings instead of its own command line."""

    def __init__(
        self, settings: dict[str, Any], app: Flask, unix_socket: str | None = None, keepalive: int = 0
    ) -> None:
        self.settings = settings
        self.app = app
        self.unix_socket = unix_socket  # behind the public profile's nginx (govkg.web.public)
        self.keepalive = keepalive
        super().__init__()

    def run(self) -> None:
        # The forker is forked here, in the master, before any worker or thread: it holds the
        # loaded store, and every query process of every worker is forked from it.
        backend = self.app.extensions[EXTENSION_KEY].backend
        if hasattr(backend, "use_query_processes"):
            self.forker = self._start_forker()
            backend.use_query_processes(self.forker.address, self.settings)
        _Arbiter(self).run()

    forker: Forker | None = None

    def _start_forker(self, address: str | None = None) -> Forker:
        backend = self.app.extensions[EXTENSION_KEY].backend
        return start_forker(
            lambda: backend.store,
            backend.base_iri,
            self.settings["query_timeout"],
            self.settings["query_memory_limit"],
            address,
        )

    def keep_forker(self) -> None:
        """In the master's loop: fork the forker again, on the same socket, if it has ended."""
        if self.forker is None:
            return
        try:
            os.kill(self.forker.pid, 0)
        except ProcessLookupError:  # ended, and reaped by the arbiter
            logging.getLogger("gunicorn.error").warning("The query process forker ended; forking it again.")
            self.forker = self._start_forker(self.forker.address)

    def load_config(self) -> None:
        if self.unix_socket is not None:
            self.cfg.set("bind", f"unix:{self.unix_socket}")
            self.cfg.set("keepalive", self.keepalive)
        else:
            self.cfg.set("bind", f"{_bracket_ipv6(self.settings['host'])}:{self.settings['port']}")
        self.cfg.set("workers", web_workers(self.settings["workers"], self.app))
        # Threads let a worker answer other requests while some wait on their query processes.
        self.cfg.set("worker_class", _ThreadWorker)
        self.cfg.set("threads", request_threads(self.settings))
        # A worker waits for its queries at most query_timeout; it is never busy longer.
        self.cfg.set("timeout", int(self.settings["query_timeout"]) + 30)
        self.cfg.set("graceful_timeout", int(self.settings["query_timeout"]) + 5)
        self.cfg.set("accesslog", "-")
        self.cfg.set("logger_class", _AccessLogger)
        # Shareable query links carry the whole query in the URL; allow gunicorn's maximum.
        # Longer queries go by POST (max_query_bytes bounds them).
        self.cfg.set("limit_request_line", 8190)
        # SCRIPT_NAME and X-Forwarded-* change the app's URLs (a Location of //evil.example/):
        # only from the proxies named in trusted_proxies, not from any local process as by default.
        # (On a unix socket, gunicorn trusts its peer: serve-public's nginx, alone in its folder.)
        self.cfg.set("forwarded_allow_ips", ",".join(self.settings["trusted_proxies"]))
        # The app (and its store) is built once in the master and shared copy-on-write
        # by the forked workers: less memory, and a bad data file stops the start-up
        # with one clear message instead of failing in every worker.
        self.cfg.set("preload_app", True)
        address = None if self.unix_socket is not None else self._address()
        self.cfg.set("when_ready", _when_listening(self.settings["client_timeout"], address))
        self.cfg.set("worker_exit", _leave_at_once)
        # Gunicorn 25+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl),
        # shared by every instance on the machine; govkg is run by signals alone.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Flask:
        return self.app

    def _address(self) -> str:
        return f"http://{_bracket_ipv6(self.settings['host'])}:{self.settings['port']}/"


class _Arbiter(Arbiter):
    """Gunicorn's arbiter, which also keeps the query process forker (see ``keep_forker``)."""

    def manage_workers(self) -> None:
        super().manage_workers()
        self.app.keep_forker()


def _leave_at_once(arbiter: Any, worker: Any) -> None:
    """Gunicorn's ``worker_exit`` hook: end the worker process now, with its exit status.

    A worker is a fork of the master, which opened the on-disk store (RocksDB) while it built
    the app: RocksDB's shared thread pools were started in the master and are not in the fork.
    The C++ destructors that run when a process exits normally join those threads, which fails
    in the fork (``std::system_error: Invalid argument``: SIGABRT, or SIGSEGV), at 20 of 20
    stops of a two-worker server on a disk store here. Leaving with ``os._exit`` once gunicorn's
    own clean-up is done skips them; there is nothing left to write (the store is read-only).
    """
    error = sys.exc_info()[1]
    status = error.code if isinstance(error, SystemExit) and isinstance(error.code, int) else 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _when_listening(seconds: float, address: str | None) -> Callable[[Any], None]:
    """A gunicorn ``when_ready`` hook (the master listens): stalled-client time-outs on every
    listening socket, then ``govkg: serving on ADDRESS`` (``None``: an instance, which says nothing).

    Said here, not before gunicorn starts: an error of the start-up (the query processes' socket,
    the port taken meanwhile) is then never preceded by a line that says the server serves.
    """
    timeval = struct.pack("ll", int(seconds), int(seconds % 1 * 1_000_000))

    def when_ready(arbiter: Any) -> None:
        for listener in arbiter.LISTENERS:
            for option in (socket.SO_SNDTIMEO, socket.SO_RCVTIMEO):
                listener.sock.setsockopt(socket.SOL_SOCKET, option, timeval)
        logging.getLogger("gunicorn.error").addFilter(_StalledClientLog(seconds))
        if address is not None:
            print(f"govkg: serving on {address}", flush=True)

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
    """Gunicorn's gthread worker that closes off its main loop and stops listening on SIGTERM."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)  # stop the main loop; requests in flight carry on
        self.set_accept_enabled(False)
        for listener in self.sockets:
            listener.close()

    def handle(self, conn: Any) -> Any:  # noqa: ANN401 - gunicorn's result
        """Answer a request; then, while the client sends its next one on the same connection
        within :data:`NEXT_REQUEST_WAIT` s, answer that one on this thread too (as long as no other
        connection waits for a thread: then it goes back to the poller at once).

        Gunicorn hands every kept-alive connection back to the worker's main loop between two
        requests (a callback queued for the main thread, the socket registered with the poller,
        then unregistered and the connection queued for a thread again): three thread wake-ups
        and about 0.2 ms of a small query's CPU. A client that sends at once (a script, a
        benchmark, a page's burst of requests) skips that round trip; one that does not frees
        the thread after the short wait, and its connection goes to the poller as before.
        """
        result = super().handle(conn)
        while result is True and self.alive and _next_request_waiting(conn, self._others_wait):
            result = super().handle(conn)
        return result

    def _others_wait(self) -> bool:
        """Whether a connection is queued for a request thread (then none lingers), or the worker stops."""
        return not self.alive or not self.tpool._work_queue.empty()

    def finish_request(self, conn: Any, fs: Any) -> None:
        if "close" not in vars(conn):
            conn.close = partial(_close_off_the_loop, conn.close)
        super().finish_request(conn, fs)


_lingering = threading.BoundedSemaphore(LINGERING_CLOSES)


def _next_request_waiting(conn: Any, others_wait: Callable[[], bool]) -> bool:  # noqa: ANN401
    """Whether the next request on a kept-alive connection is there, or comes within
    :data:`NEXT_REQUEST_WAIT` s while no other connection waits for a thread (``others_wait``)."""
    if conn.parser is None or conn.is_http2:
        return False
    if conn.parser.unreader.buf.getvalue():
        return True  # bytes read ahead: the next request has begun
    poller = select.poll()
    try:
        poller.register(conn.sock, select.POLLIN)
        deadline = time.monotonic() + NEXT_REQUEST_WAIT
        while not others_wait():
            if poller.poll(NEXT_REQUEST_SLICE * 1000):
                return True
            if time.monotonic() >= deadline:
                return False
    except (OSError, ValueError):  # closed meanwhile
        return False
    return False


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
            # On a unix socket (an instance behind serve-public's nginx) the client is nginx's word.
            environ.get("REMOTE_ADDR") or environ.get("HTTP_X_FORWARDED_FOR") or "-",
            self._get_user(environ) or "-",
            self.now(),
            f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            str(status),
            str(sent) if sent is not None else "-",
            environ.get("HTTP_REFERER", "-"),
            environ.get("HTTP_USER_AGENT", "-"),
        )
        try:
            line = '%s - %s %s "%s" %s %s "%s" "%s"' % tuple(f.replace('"', '\\"') for f in fields)  # noqa: UP031
            streams = self._plain_streams()
            if streams is None:
                self.access_log.info("%s", line)
                return
            for handler in streams:  # what StreamHandler.emit does, without a LogRecord
                with handler.lock:
                    handler.stream.write(line + handler.terminator)
                    handler.stream.flush()
        except Exception:  # noqa: BLE001 - as gunicorn: a logging failure is reported, not raised
            self.exception("access log")

    def _plain_streams(self) -> list[logging.StreamHandler] | None:
        """The access log's handlers when each just writes the message to a stream (gunicorn's
        own set-up, ``accesslog = "-"`` or a file), else ``None``: then logging writes the line."""
        log = self.access_log
        if log.filters or not log.isEnabledFor(logging.INFO):
            return None
        handlers = log.handlers
        for handler in handlers:
            if (
                type(handler) not in (logging.StreamHandler, logging.FileHandler)
                or handler.filters
                or handler.level > logging.INFO
                or handler.formatter is None
                or handler.formatter._fmt != "%(message)s"
                or handler.stream is None
            ):
                return None
        return handlers or None

    _now_second = -1
    _now_text = ""

    def now(self) -> str:
        """Gunicorn's access-log time, ``[07/Dec/2026:07:05:00 +0000]``, formatted once a second."""
        second = int(time.time())
        if second != self._now_second:
            self._now_text = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
            self._now_second = second
        return self._now_text


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
    application.run()  # says "serving on" once it listens (see _when_listening)


def serve_instance(settings: dict[str, Any], app: Flask, unix_socket: str, keepalive: int) -> None:
    """One instance of the public profile (:mod:`govkg.web.public`): ``app``, already loaded,
    served on ``unix_socket`` until SIGTERM, keeping idle connections ``keepalive`` seconds."""
    _GunicornApplication(settings, app, unix_socket, keepalive).run()
