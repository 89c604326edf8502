"""Run the application under gunicorn, the production server.

Stalled clients. A gthread worker has 8 threads, and a thread that writes an answer
blocks until the client has read it: a client that stops reading a large dump (or stops
sending its request) would hold the thread for ever, and a few such clients would stop the
worker. So every connection gets kernel send and receive time-outs (``SO_SNDTIMEO``,
``SO_RCVTIMEO``, set on the listening sockets, which accepted connections inherit) of
``client_timeout`` seconds: a send or receive that makes *no progress* for that long fails,
the connection is dropped and the thread is free again. A slow client that keeps reading,
however slowly, is never cut off. Each drop is logged as one warning line.

Slow senders. A client sending its request a byte at a time would hold a thread for as long as
it keeps sending (eight such clients held every thread). So a worker reads each request on its
main loop, without blocking, into a buffer, and hands it to a thread only once it is complete
(headers, and the body of its ``Content-Length`` or up to the last chunk; at most
:data:`READ_AHEAD_BYTES`, past which the thread reads the rest, for the app to refuse). A
request not complete within ``request_timeout`` seconds of its first wait is answered 408 and
its connection closed, whatever its pace: a deadline for the whole request, not for progress.

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
import re
import selectors
import signal
import socket
import struct
import sys
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
from gunicorn.http import get_parser
from gunicorn.workers.gthread import ThreadWorker

#: Threads of each gunicorn web worker: the requests one worker serves at once.
THREADS = 8
#: Graceful closes (each waits up to 2 s for the client) that may run at once in one worker.
LINGERING_CLOSES = 32
#: Bytes of one request read on a worker's main loop before a thread takes over.
READ_AHEAD_BYTES = 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"\r?\ncontent-length[ \t]*:[ \t]*+(\d{1,12})", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r?\ntransfer-encoding[ \t]*:[^\r\n]*+chunked", re.IGNORECASE)
_REQUEST_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"X-Content-Type-Options: nosniff\r\nContent-Length: 42\r\n\r\n"
    b"The request was not sent within the limit\n"
)


#: Web workers that ``workers = auto`` gives a small in-memory store (see :func:`web_workers`).
SMALL_STORE_WORKERS = 2


def web_workers(setting: str | int, app: Flask | None) -> int:
    """The number of web workers: the ``workers`` setting, or for ``auto`` one sized to the store.

    A small in-memory store is copied cheaply into a second worker (copy-on-write, then each
    worker's own pages as it reads them), and a second interpreter lets the request path's
    Python use the second core: issue 14's runs measured 1.4x the queries per second at 100k
    triples, at the same CPU per query. A big in-memory store (over
    :data:`govkg.store.backends.LARGE_IN_MEMORY` quads) would be held twice, and a store on
    disk or behind a SPARQL endpoint gains nothing from it here: 1.
    """
    if setting != "auto":
        return int(setting)
    if app is None:
        return 1
    backend = app.extensions[EXTENSION_KEY].backend
    return SMALL_STORE_WORKERS if backend.in_memory and not backend.large else 1


class _GunicornApplication(BaseApplication):
    """Gunicorn configured from govkg settings instead of its own command line."""

    def __init__(
        self, settings: dict[str, Any], app: Flask, unix_socket: str | None = None, keepalive: int = 0
    ) -> None:
        self.settings = settings
        self.app: Flask | None = app
        self.unix_socket = unix_socket  # behind the public profile's nginx (govkg.web.public)
        self.keepalive = keepalive
        super().__init__()

    def run(self) -> None:
        _Arbiter(self).run()

    def load_config(self) -> None:
        if self.unix_socket is not None:
            self.cfg.set("bind", f"unix:{self.unix_socket}")
            self.cfg.set("keepalive", self.keepalive)
        else:
            self.cfg.set("bind", f"{_bracket_ipv6(self.settings['host'])}:{self.settings['port']}")
        self.cfg.set("workers", web_workers(self.settings["workers"], self.app))
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
        # SCRIPT_NAME and X-Forwarded-* change the app's URLs (a Location of //evil.example/):
        # only from the proxies named in trusted_proxies, not from any local process as by default.
        self.cfg.set("forwarded_allow_ips", ",".join(self.settings["trusted_proxies"]))
        # The app (and its store) is built once in the master and shared copy-on-write
        # by the forked workers: less memory, and a bad data file stops the start-up
        # with one clear message instead of failing in every worker.
        self.cfg.set("preload_app", True)
        self.cfg.set("when_ready", _client_timeouts(self.settings["client_timeout"]))
        self.cfg.set("post_worker_init", _worker_up)
        self.cfg.set("worker_exit", _leave_at_once)
        _ThreadWorker.request_timeout = self.settings["request_timeout"]
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
    request_timeout = 10.0

    def init_process(self) -> None:
        self._reading: dict[Any, _RequestBuffer] = {}  # connections whose request is being read
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

    def enqueue_req(self, conn: Any) -> None:
        """Read the request on the main loop first; a thread gets it only when it is complete."""
        if self.cfg.is_ssl or getattr(conn, "govkg_read", False):
            conn.govkg_read = False
            super().enqueue_req(conn)
            return
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        buffer = _RequestBuffer(time.monotonic() + self.request_timeout, held)
        if buffer.complete():
            self._hand_over(conn, buffer)
            return
        conn.sock.setblocking(False)
        self._reading[conn] = buffer
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_more, conn))

    def _read_more(self, conn: Any, _client: Any) -> None:
        buffer = self._reading[conn]
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.poller.unregister(conn.sock)
        del self._reading[conn]
        if not data:  # the client went away
            self.nr_conns -= 1
            conn.close()
            return
        buffer.add(data)
        if buffer.complete():
            self._hand_over(conn, buffer)
        else:
            self._reading[conn] = buffer
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_more, conn))

    def _hand_over(self, conn: Any, buffer: _RequestBuffer) -> None:
        if conn.parser is None:
            conn.parser = get_parser(self.cfg, conn.sock, conn.client)
            conn.initialized = True
        conn.parser.unreader.unread(bytes(buffer.data))
        conn.data_ready = True
        conn.govkg_read = True
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn, buffer in self._reading.items() if buffer.deadline <= now]:
            del self._reading[conn]
            try:
                self.poller.unregister(conn.sock)
                conn.sock.send(_REQUEST_TIMEOUT_ANSWER)  # best effort: the socket does not block
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            conn.close()
            self.log.warning(
                "Dropped a client that did not send its request within %g s.", self.request_timeout
            )

    def finish_request(self, conn: Any, fs: Any) -> None:
        if "close" not in vars(conn):
            conn.close = partial(_close_off_the_loop, conn.close)
        super().finish_request(conn, fs)


class _RequestBuffer:
    r"""The bytes of one request read so far, and whether they are all of it.

    >>> buffer = _RequestBuffer(0.0, b"POST /sparql HTTP/1.1\r\nContent-Length: 3\r\n\r\nab")
    >>> buffer.complete(), buffer.add(b"c"), buffer.complete()
    (False, None, True)
    """

    def __init__(self, deadline: float, data: bytes = b"") -> None:
        self.deadline = deadline
        self.data = bytearray(data)
        self._head_end = -1  # where the body starts, once the blank line is seen
        self._searched = 0
        self._body_length: int | None = None
        self._chunked = False

    def add(self, data: bytes) -> None:
        self.data += data

    def complete(self) -> bool:
        if len(self.data) > READ_AHEAD_BYTES:
            return True  # the thread reads the rest (and the app refuses what is too big)
        if self._head_end < 0:
            # Searched from where the last search stopped: linear however the bytes trickle in.
            found = self.data.find(b"\n\r\n", max(self._searched - 2, 0))
            bare = self.data.find(b"\n\n", max(self._searched - 1, 0))
            self._searched = len(self.data)
            ends = [
                end for end in (found + 3 if found >= 0 else -1, bare + 2 if bare >= 0 else -1) if end >= 0
            ]
            if not ends:
                return False
            self._head_end = min(ends)
            head = bytes(self.data[: self._head_end])
            length = _CONTENT_LENGTH.search(head)
            self._body_length = int(length.group(1)) if length else 0
            self._chunked = _CHUNKED.search(head) is not None
            self._searched = self._head_end
            if self._body_length > READ_AHEAD_BYTES:
                return True  # too big to wait for: the app refuses it without reading it
        if self._chunked:
            found = self.data.find(b"0\r\n\r\n", max(self._searched - 4, self._head_end))
            self._searched = len(self.data)
            return found >= 0
        return len(self.data) - self._head_end >= min(self._body_length or 0, READ_AHEAD_BYTES)


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


def serve_instance(settings: dict[str, Any], app: Flask, unix_socket: str, keepalive: int) -> None:
    """One instance of the public profile (:mod:`govkg.web.public`): ``app``, already loaded,
    served on ``unix_socket`` until SIGTERM, keeping idle connections ``keepalive`` seconds."""
    _GunicornApplication(settings, app, unix_socket, keepalive).run()
