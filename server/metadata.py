"""Dataset metadata: VoID, DCAT-AP and the SPARQL service description (built at load time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from .store import LoadedGraph


def dataset_metadata_quads(loaded: LoadedGraph) -> list[ox.Quad]:
    """The quads of the ``{base}graph/metadata`` named graph, built from the loaded data."""
    return []
