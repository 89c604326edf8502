"""The loaded knowledge graph as the Flask app sees it, attached through :func:`init_app`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from flask import Flask, current_app

from . import knowledge_graph

EXTENSION_KEY = "govkg"


@dataclass
class LoadedGraph:
    """The store and what identifies the version of the data it holds.

    ``dataset_version`` changes whenever any loaded file (or the base IRI) changes;
    ETags, caches and the dumps are keyed on it.
    """

    store: ox.Store
    base_iri: str
    dataset_version: str
    last_modified: datetime
    source_files: tuple[Path, ...] = field(default=())

    def graph_iri(self, slug: str) -> ox.NamedNode:
        """The IRI of one of the dataset's named graphs, e.g. ``graph_iri("facts")``."""
        return ox.NamedNode(f"{self.base_iri}graph/{slug}")


def dataset_version(files: tuple[Path, ...], base_iri: str) -> str:
    """A short content hash of the loaded files and the base IRI."""
    digest = hashlib.sha256(base_iri.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def open_knowledge_graph(base_iri: str, data: Iterable[str] = ()) -> LoadedGraph:
    """Load ontology, facts and links, then add the dataset metadata built from them.

    ``data`` lists extra files (the ``data`` setting: ``FILE`` or ``GRAPH_IRI=FILE``),
    each loaded into its own named graph; a bad file raises
    :class:`~server.knowledge_graph.DataFileError` and nothing is loaded.
    """
    parts = knowledge_graph.graph_parts() + knowledge_graph.data_file_parts(data, base_iri)
    files = tuple(path for part in parts for path in part.files)
    store = knowledge_graph.load_store(base_iri, parts)
    loaded = LoadedGraph(
        store=store,
        base_iri=base_iri,
        dataset_version=dataset_version(files, base_iri),
        last_modified=datetime.fromtimestamp(max(p.stat().st_mtime for p in files), tz=UTC).replace(
            microsecond=0
        ),
        source_files=files,
    )
    from .metadata import dataset_metadata_quads  # late: metadata reads the loaded graph

    store.extend(dataset_metadata_quads(loaded))
    return loaded


def init_app(app: Flask) -> None:
    """Load the knowledge graph for ``app`` (once, at start-up)."""
    app.extensions[EXTENSION_KEY] = open_knowledge_graph(app.config["BASE_IRI"], app.config["DATA"])


def loaded_graph() -> LoadedGraph:
    """The graph of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
