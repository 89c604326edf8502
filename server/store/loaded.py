"""The loaded knowledge graph: where its data lives (a backend) and what identifies its version.

The type every layer above reads; :mod:`govkg.store.opening` opens one where the settings say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from govkg.store.backends import Backend


@dataclass
class LoadedGraph:
    """Where the data lives (:mod:`govkg.store.backends`) and what identifies its version.

    ``dataset_version`` changes whenever any loaded file (or the base IRI) changes;
    ETags, caches and the dumps are keyed on it.
    """

    backend: Backend
    base_iri: str
    dataset_version: str
    last_modified: datetime
    source_files: tuple[Path, ...] = field(default=())
    store_directory: Path | None = None  # a persistent store's folder, or where the server keeps its dumps

    @property
    def store(self) -> ox.Store:
        """Term look-ups on the data: a pyoxigraph Store (or, for a remote store, a look-alike)."""
        return self.backend.store

    def graph_iri(self, slug: str) -> ox.NamedNode:
        """The IRI of one of the dataset's named graphs, e.g. ``graph_iri("facts")``."""
        return ox.NamedNode(f"{self.base_iri}graph/{slug}")
