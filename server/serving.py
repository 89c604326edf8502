"""Run the application under gunicorn, the production server."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from . import create_app


class _GunicornApplication(BaseApplication):
    """Gunicorn configured from govkg settings instead of its own command line."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
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

    def load(self):  # noqa: ANN201
        return create_app(self.settings)


def _bracket_ipv6(host: str) -> str:
    """IPv6 literals need brackets in a bind address.

    >>> _bracket_ipv6("::1")
    '[::1]'
    """
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def run_server(settings: dict[str, Any]) -> None:
    """Serve until stopped; SIGTERM lets requests in flight finish first."""
    print(f"govkg: serving on http://{_bracket_ipv6(settings['host'])}:{settings['port']}/", flush=True)
    _GunicornApplication(settings).run()
