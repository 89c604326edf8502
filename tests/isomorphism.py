"""Graph isomorphism for the tests, decided by RDFC-1.0 canonical blank-node labels (pyoxigraph).

Two graphs are isomorphic exactly when their canonical forms are equal. rdflib's own
``rdflib.compare`` answers the same question but takes 10-40 s on the article's graphs (hundreds
of blank nodes: evidence selectors, annotation targets); RDFC-1.0 takes well under a second. The
graphs are still parsed by rdflib where a test reads them with it: only the comparison moves.
"""

from __future__ import annotations

import pyoxigraph as ox
import rdflib
from govkg.rdf.serialize import canonical_quads


def canonical_triples(graph: rdflib.Graph) -> frozenset[str]:
    """``graph``'s triples in N-Triples, blank nodes labelled canonically (RDFC-1.0)."""
    triples = ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    quads = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return frozenset(str(quad.triple) for quad in canonical_quads(quads))


def isomorphic(first: rdflib.Graph, second: rdflib.Graph) -> bool:
    """Whether the two graphs are the same up to blank-node labels (as ``rdflib.compare.isomorphic``)."""
    return canonical_triples(first) == canonical_triples(second)


def differences(first: rdflib.Graph, second: rdflib.Graph) -> tuple[set[str], set[str]]:
    """The canonical triples only in ``first``, and only in ``second`` (empty both: isomorphic)."""
    a, b = canonical_triples(first), canonical_triples(second)
    return set(a - b), set(b - a)
