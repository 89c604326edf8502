"""Editorial interpretations: the statements the graph makes beyond the article's words.

Where the data says more than the article (the body an achievement is credited to where
the article says only 我市, the channel of a count, the type of an act read from its
title), the triple is stated as usual and also described by an ``rdf:Statement`` that
``prov:wasGeneratedBy`` the activity ``{base}id/activity/editorial-interpretation``, with
a ``skos:editorialNote`` in Chinese and English (see data/00-article.ttl). This module
finds those marks for one resource; it knows nothing of the web layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from govkg.rdf.namespaces import RDF

PROV_WAS_GENERATED_BY = ox.NamedNode("http://www.w3.org/ns/prov#wasGeneratedBy")
SKOS_EDITORIAL_NOTE = ox.NamedNode("http://www.w3.org/2004/02/skos/core#editorialNote")
#: Where the activity lives under the base IRI.
EDITORIAL_INTERPRETATION_PATH = "id/activity/editorial-interpretation"


@dataclass(frozen=True)
class Interpretation:
    """One marked triple: ``subject predicate value`` is inferred, and ``notes`` say why."""

    mark: ox.NamedNode
    subject: ox.NamedNode
    predicate: ox.NamedNode
    value: ox.NamedNode | ox.Literal
    notes: tuple[ox.Literal, ...]


def editorial_interpretation(base_iri: str) -> ox.NamedNode:
    """The activity that generates every mark, under ``base_iri``.

    >>> editorial_interpretation("https://w3id.org/govkg/").value
    'https://w3id.org/govkg/id/activity/editorial-interpretation'
    """
    return ox.NamedNode(base_iri + EDITORIAL_INTERPRETATION_PATH)


def _one(store: ox.Store, subject: ox.NamedNode, predicate: str) -> ox.NamedNode | ox.Literal | None:
    for quad in store.quads_for_pattern(subject, ox.NamedNode(RDF + predicate), None, None):
        return quad.object
    return None


def interpretations_about(store: ox.Store, resource: ox.NamedNode, base_iri: str) -> list[Interpretation]:
    """The marks of triples whose subject is ``resource``, and ``resource`` itself if it is a mark.

    Sorted by mark IRI, so a page lists them in a stable order.
    """
    activity = editorial_interpretation(base_iri)
    candidates = {
        quad.subject for quad in store.quads_for_pattern(None, ox.NamedNode(RDF + "subject"), resource, None)
    }
    candidates.add(resource)
    found = []
    for mark in candidates:
        if not isinstance(mark, ox.NamedNode):
            continue
        if not any(True for _ in store.quads_for_pattern(mark, PROV_WAS_GENERATED_BY, activity, None)):
            continue
        subject, predicate, value = (_one(store, mark, name) for name in ("subject", "predicate", "object"))
        if not isinstance(subject, ox.NamedNode) or not isinstance(predicate, ox.NamedNode) or value is None:
            continue
        notes = tuple(
            quad.object
            for quad in store.quads_for_pattern(mark, SKOS_EDITORIAL_NOTE, None, None)
            if isinstance(quad.object, ox.Literal)
        )
        found.append(Interpretation(mark, subject, predicate, value, notes))
    return sorted(found, key=lambda item: item.mark.value)
