"""What identifies a version of the data: content hashes of the loaded files and the base IRI."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from govkg.graph.knowledge_graph import GraphPart, graph_parts


def dataset_version(files: tuple[Path, ...], base_iri: str) -> str:
    """A short content hash of the loaded files and the base IRI."""
    digest = hashlib.sha256(base_iri.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def article_version(base_iri: str, parts: Sequence[GraphPart] | None = None) -> str:
    """A hash of the article's files (ontology, facts, links) and the base IRI."""
    parts = graph_parts() if parts is None else parts
    return dataset_version(tuple(path for part in parts for path in part.files), base_iri)
