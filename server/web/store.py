"""The loaded graph as the Flask app sees it: opened by :func:`init_app`, read by :func:`loaded_graph`."""

from __future__ import annotations

from flask import Flask, current_app
from govkg.store.loaded import LoadedGraph, open_configured_store

EXTENSION_KEY = "govkg"


def init_app(app: Flask) -> None:
    """Open the knowledge graph for ``app`` (once, at start-up), where the ``store`` setting says."""
    loaded = open_configured_store(app.config["GOVKG_SETTINGS"])
    app.before_request(loaded.backend.start_request)
    app.extensions[EXTENSION_KEY] = loaded


def loaded_graph() -> LoadedGraph:
    """The graph of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
