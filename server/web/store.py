"""The loaded graph as the Flask app sees it: opened by :func:`init_app`, read by :func:`loaded_graph`
(and its search index, by :func:`search_index`)."""

from __future__ import annotations

from flask import Flask, current_app
from govkg.store.loaded import LoadedGraph
from govkg.store.opening import open_configured_store, prepare_for_workers
from govkg.store.search_index import SearchIndex

EXTENSION_KEY = "govkg"
SEARCH_KEY = "govkg.search"


def init_app(app: Flask) -> None:
    """Open the knowledge graph for ``app`` (once, at start-up), where the ``store`` setting says."""
    loaded = open_configured_store(app.config["GOVKG_SETTINGS"])
    app.before_request(loaded.backend.start_request)
    app.extensions[EXTENSION_KEY] = loaded
    app.extensions[SEARCH_KEY] = prepare_for_workers(loaded)  # before the workers fork


def loaded_graph() -> LoadedGraph:
    """The graph of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]


def search_index() -> SearchIndex:
    """The full-text index of the graph of the app handling the current request."""
    return current_app.extensions[SEARCH_KEY]
