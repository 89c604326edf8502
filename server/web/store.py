"""The loaded graph as the Flask app sees it: opened by :func:`init_app`, read by :func:`loaded_graph`."""

from __future__ import annotations

from flask import Flask, current_app
from govkg.store.loaded import LoadedGraph, open_knowledge_graph, open_persistent_store, temporary_folder

EXTENSION_KEY = "govkg"


def init_app(app: Flask) -> None:
    """Open the knowledge graph for ``app`` (once, at start-up), where the ``store`` setting says."""
    location = app.config.get("STORE") or ""
    if location.startswith("sparql:"):
        from govkg.store.remote import open_remote_store

        loaded = open_remote_store(app.config["GOVKG_SETTINGS"])
        app.before_request(loaded.backend.store.forget)  # what a request thread fetched is not kept
    elif location:
        loaded = open_persistent_store(location, app.config["BASE_IRI"], app.config["DATA"])
    else:
        loaded = open_knowledge_graph(app.config["BASE_IRI"], app.config["DATA"])
        # The dumps and counts are built on first request, into files every worker shares:
        # a folder of the server's, made before the workers are forked, removed at exit.
        loaded.store_directory = temporary_folder("govkg-cache-")[0]
    if hasattr(loaded.backend, "query_workers"):
        loaded.backend.query_workers = app.config["GOVKG_SETTINGS"]["query_workers"]
    app.extensions[EXTENSION_KEY] = loaded


def loaded_graph() -> LoadedGraph:
    """The graph of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
