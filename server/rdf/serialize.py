"""Write the whole dataset in any registry format, deterministically.

Blank nodes are renamed by RDF Dataset Canonicalization (RDFC-1.0) and quads are
sorted, so the same data always gives the same bytes and dumps diff cleanly.
Turtle goes through rdflib's ``longturtle`` writer (pretty, one subject a block,
sorted, with the project's prefixes); every other format through pyoxigraph.
Numbers keep their exact lexical form: where Turtle's shorthand would change it
(``"90"^^xsd:decimal`` would become ``90.0``, a double's ``1.0E6`` would become
``1e+06``) the literal is written in full with its datatype.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox
from govkg.rdf.formats import RdfFormat
from govkg.rdf.namespaces import PREFIXES

if TYPE_CHECKING:
    import rdflib  # imported when Turtle is written: most processes never need it


def project_prefixes(base_iri: str) -> dict[str, str]:
    """The standard prefixes plus the project's own, under ``base_iri``.

    >>> project_prefixes("https://w3id.org/govkg/")["gov"]
    'https://w3id.org/govkg/ontology#'
    """
    return {
        **PREFIXES,
        "gov": f"{base_iri}ontology#",
        "govid": f"{base_iri}id/",
        "goveli": f"{base_iri}eli/",
    }


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The quads with canonical blank-node labels (RDFC-1.0), sorted by their N-Quads text."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def serialize_quads(quads: Iterable[ox.Quad], fmt: RdfFormat, base_iri: str) -> bytes:
    """Serialize quads in ``fmt``; formats without graphs get the union of the graphs."""
    quads = canonical_quads(quads)
    prefixes = project_prefixes(base_iri)
    if fmt.name == "ttl":
        return _pretty_turtle(quads, prefixes)
    if fmt.carries_graphs:
        return ox.serialize(quads, format=fmt.oxigraph, prefixes=prefixes)
    triples = _distinct_triples(quads)
    if fmt.name in ("nt",):
        return ox.serialize(triples, format=fmt.oxigraph)
    return ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes)


def serialize_triples(triples: Iterable[ox.Triple], fmt: RdfFormat, base_iri: str) -> bytes:
    """Serialize a graph (e.g. one resource's description) in ``fmt``."""
    graph = ox.DefaultGraph()
    return serialize_quads((ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples), fmt, base_iri)


def _distinct_triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    seen: set[ox.Triple] = set()
    triples = []
    for quad in quads:
        if quad.triple not in seen:
            seen.add(quad.triple)
            triples.append(quad.triple)
    return triples


def _pretty_turtle(quads: list[ox.Quad], prefixes: dict[str, str]) -> bytes:
    import rdflib

    graph = rdflib.Graph(bind_namespaces="none")
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, namespace)
    # Terms are carried over one by one (not re-parsed) so blank nodes keep their
    # canonical labels, which is what makes rdflib's output order stable.
    for triple in _distinct_triples(quads):
        graph.add(
            (to_rdflib_term(triple.subject), to_rdflib_term(triple.predicate), to_rdflib_term(triple.object))
        )
    return graph.serialize(format="longturtle", encoding="utf-8")


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """The rdflib term for a pyoxigraph term, blank-node label included.

    >>> to_rdflib_term(ox.Literal("肇庆", language="zh"))
    rdflib.term.Literal('肇庆', lang='zh')
    >>> to_rdflib_term(ox.BlankNode("c14n0"))
    rdflib.term.BNode('c14n0')

    Decimals and doubles are always written ``"lexical"^^datatype`` (see the module):

    >>> to_rdflib_term(ox.Literal("90", datatype=ox.NamedNode(_XSD_DECIMAL))).n3()
    '"90"^^<http://www.w3.org/2001/XMLSchema#decimal>'
    """
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == _XSD_STRING:
        return rdflib.Literal(term.value)  # a simple literal: rdflib leaves its datatype unset
    # normalize=False: the lexical form is the data; rdflib would rewrite e.g. "Z" as "+00:00".
    literal_class = _typed_literal() if datatype in _SHORTHAND_CHANGES_LEXICAL else rdflib.Literal
    return literal_class(term.value, datatype=rdflib.URIRef(datatype), normalize=False)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"
_SHORTHAND_CHANGES_LEXICAL = {_XSD_DECIMAL, "http://www.w3.org/2001/XMLSchema#double"}


@functools.cache
def _typed_literal() -> type[rdflib.Literal]:
    """The rdflib Literal class that Turtle writers must print as ``"lexical"^^datatype``, never as shorthand.

    Made on first use, so that importing this module does not import rdflib.
    """
    import rdflib

    class TypedLiteral(rdflib.Literal):
        def _literal_n3(self, use_plain: bool = False, qname_callback=None) -> str:  # noqa: ANN001
            return super()._literal_n3(False, qname_callback)

    return TypedLiteral
