"""What identifies a version of the data: content hashes of the loaded files and the base IRI."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from govkg.graph.knowledge_graph import GraphPart, graph_parts


def dataset_version(files: tuple[Path, ...], base_iri: str) -> str:
    """A short content hash of the loaded files and the base IRI.

    Each file is read 1 MiB at a time (a big ``--data`` file is never held whole; hashlib
    releases the GIL while it hashes so much, so this can run beside a load).
    """
    digest = hashlib.sha256(base_iri.encode())
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def article_version(base_iri: str, parts: Sequence[GraphPart] | None = None) -> str:
    """A hash of the article's files (ontology, facts, links) and the base IRI."""
    parts = graph_parts() if parts is None else parts
    return dataset_version(tuple(path for part in parts for path in part.files), base_iri)
