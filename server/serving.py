"""Run the application under gunicorn, the production server."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from . import create_app


class _GunicornApplication(BaseApplication):
    """Gunicorn configured from govkg settings instead of its own command line."""

    def __init__(self, settings: dict[str, Any], app: Flask) -> None:
        self.settings = settings
        self.app = app
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{_bracket_ipv6(self.settings['host'])}:{self.settings['port']}")
        self.cfg.set("workers", self.settings["workers"])
        # Threads let a worker keep answering while one of its requests waits on a
        # long query; the query itself runs in a separate, killable process.
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 8)
        # A worker that is busy with a long query must not be killed for that.
        self.cfg.set("timeout", int(self.settings["query_timeout"]) + 30)
        self.cfg.set("graceful_timeout", int(self.settings["query_timeout"]) + 5)
        self.cfg.set("accesslog", "-")
        # Shareable query links carry the whole query in the URL; allow gunicorn's maximum.
        # Longer queries go by POST (max_query_bytes bounds them).
        self.cfg.set("limit_request_line", 8190)
        # The app (and its store) is built once in the master and shared copy-on-write
        # by the forked workers: less memory, and a bad data file stops the start-up
        # with one clear message instead of failing in every worker.
        self.cfg.set("preload_app", True)

    def load(self) -> Flask:
        return self.app


def _bracket_ipv6(host: str) -> str:
    """IPv6 literals need brackets in a bind address.

    >>> _bracket_ipv6("::1")
    '[::1]'
    """
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def run_server(settings: dict[str, Any]) -> None:
    """Load the data, then serve until stopped; SIGTERM lets requests in flight finish first.

    Raises :class:`server.knowledge_graph.DataFileError` before listening if a data file is bad.
    """
    app = create_app(settings)
    print(f"govkg: serving on http://{_bracket_ipv6(settings['host'])}:{settings['port']}/", flush=True)
    _GunicornApplication(settings, app).run()
