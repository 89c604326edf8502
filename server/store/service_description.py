"""The SPARQL 1.1 Service Description of the ``/sparql`` endpoint.

``GET /sparql`` without a query answers with it (https://www.w3.org/TR/sparql11-service-description/),
and the metadata graph (``{base}graph/metadata``) can include the same quads, so the
description is built in one place from the loaded graph and the settings.

The service is ``<{base}sparql#service>``; its default dataset and the graphs in it are blank
nodes, so the CBD of the service (``DESCRIBE <{base}sparql#service>``) is the whole description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS
from govkg.rdf.namespaces import SD
from govkg.rdf.routes import endpoint_url
from govkg.store.loaded import LoadedGraph

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SIMPLE_ENTAILMENT = ox.NamedNode("http://www.w3.org/ns/entailment/Simple")
# pyoxigraph names JSON-LD by an IRI that is not in the W3C list at http://www.w3.org/ns/formats/.


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def endpoint_iri(loaded: LoadedGraph) -> str:
    """The endpoint's URL, which is also the base IRI its queries are resolved against."""
    return endpoint_url(loaded.base_iri)


def service_iri(loaded: LoadedGraph) -> ox.NamedNode:
    """The IRI of the ``sd:Service`` node."""
    return ox.NamedNode(f"{endpoint_iri(loaded)}#service")


def service_description_quads(loaded: LoadedGraph, settings: Mapping[str, Any]) -> list[ox.Quad]:
    """The service description, as quads in the ``{base}graph/metadata`` graph.

    It lists the endpoint, SPARQL 1.1 Query, every result format of the registry (by its
    W3C format IRI), the union default graph, basic federated query when the
    ``service_allowlist`` is not empty, and the default dataset with every named graph.
    """
    graph = loaded.graph_iri("metadata")
    service = service_iri(loaded)
    dataset = ox.BlankNode("sparqlDefaultDataset")
    default_graph = ox.BlankNode("sparqlDefaultGraph")
    triples: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode]] = [
        (service, _RDF_TYPE, _sd("Service")),
        (service, _sd("endpoint"), ox.NamedNode(endpoint_iri(loaded))),
        (service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        (service, _sd("feature"), _sd("UnionDefaultGraph")),
        (service, _sd("defaultEntailmentRegime"), _SIMPLE_ENTAILMENT),
        (service, _sd("defaultDataset"), dataset),
        (dataset, _RDF_TYPE, _sd("Dataset")),
        (dataset, _sd("defaultGraph"), default_graph),
        (default_graph, _RDF_TYPE, _sd("Graph")),
    ]
    if settings.get("service_allowlist"):
        triples.append((service, _sd("feature"), _sd("BasicFederatedQuery")))
    for fmt in (*RESULTS_FORMATS, *RDF_FORMATS):
        triples.append((service, _sd("resultFormat"), ox.NamedNode(fmt.format_iri)))
    graph_names = {g for g in loaded.store.named_graphs() if isinstance(g, ox.NamedNode)} | {graph}
    for index, name in enumerate(sorted(graph_names, key=lambda g: g.value)):
        named_graph = ox.BlankNode(f"sparqlNamedGraph{index}")
        triples += [
            (dataset, _sd("namedGraph"), named_graph),
            (named_graph, _RDF_TYPE, _sd("NamedGraph")),
            (named_graph, _sd("name"), name),
        ]
    return [ox.Quad(s, p, o, graph) for s, p, o in triples]
