"""Concise Bounded Descriptions: what the resource pages show and DESCRIBE returns.

One function serves both, so the HTML page, the resource's RDF and a SPARQL
DESCRIBE of the same IRI always agree.
"""

from __future__ import annotations

import pyoxigraph as ox


def concise_bounded_description(store: ox.Store, resource: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
    """The CBD of ``resource`` over the union of all graphs.

    Its triples as subject, and recursively the triples of every blank node they
    reach (https://www.w3.org/submission/CBD/), each triple once, in a stable order.
    """
    seen_triples: set[ox.Triple] = set()
    ordered: list[ox.Triple] = []
    pending = [resource]
    visited_blank_nodes: set[ox.BlankNode] = set()
    while pending:
        subject = pending.pop()
        for quad in store.quads_for_pattern(subject, None, None, None):
            triple = quad.triple
            if triple in seen_triples:
                continue
            seen_triples.add(triple)
            ordered.append(triple)
            obj = triple.object
            if isinstance(obj, ox.BlankNode) and obj not in visited_blank_nodes:
                visited_blank_nodes.add(obj)
                pending.append(obj)
    return ordered


def incoming_links(store: ox.Store, resource: ox.NamedNode, limit: int = 500) -> list[ox.Triple]:
    """Triples that point at ``resource`` (its inbound links), each once, at most ``limit``."""
    seen: set[ox.Triple] = set()
    result: list[ox.Triple] = []
    for quad in store.quads_for_pattern(None, None, resource, None):
        if quad.triple not in seen:
            seen.add(quad.triple)
            result.append(quad.triple)
            if len(result) >= limit:
                break
    return result
