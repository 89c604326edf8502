"""What a run of link discovery writes: the linkset (Turtle), the near misses (CSV) and a one-line summary.

The links it is sure of are written as a Turtle linkset with a ``void:Linkset`` per
link predicate and a ``prov:Activity`` for the run. The pairs a person should look at
are written as a CSV of near misses. Nothing is written into ``data/links/``, whose
links are curated by hand: the output is a proposal to review.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import pyoxigraph as ox
from govkg.linking.linker import LinkRun
from govkg.linking.matching import Link
from govkg.linking.sources import software_version
from govkg.linking.vocabulary import OWL_SAME_AS, RDF_TYPE, SKOS_CLOSE_MATCH, SKOS_EXACT_MATCH
from govkg.rdf.formats import rdf_format
from govkg.rdf.namespaces import DCT as DCTERMS
from govkg.rdf.namespaces import PROV, RDFS, SCHEMA, VOID, XSD
from govkg.rdf.serialize import serialize_quads
from govkg.settings import DEFAULT_BASE_IRI

#: Our dataset: the subject of every linkset.
OUR_DATASET_PATH = "id/dataset/zhaoqing-rule-of-law"

PREDICATE_SLUGS = {OWL_SAME_AS: "same-as", SKOS_EXACT_MATCH: "exact-match", SKOS_CLOSE_MATCH: "close-match"}


def linkset_quads(run: LinkRun, base_iri: str = DEFAULT_BASE_IRI) -> list[ox.Quad]:
    """The links of a run, a ``void:Linkset`` per predicate and the ``prov:Activity`` of the run.

    IRIs of the linksets and the activity carry the run's time, so the linksets of two
    runs (or curated ones) never share a node.
    """
    graph = ox.DefaultGraph()
    quads: list[ox.Quad] = []

    def add(
        subject: ox.NamedNode | ox.BlankNode, predicate: str, obj: ox.NamedNode | ox.BlankNode | ox.Literal
    ):
        quads.append(ox.Quad(subject, ox.NamedNode(predicate), obj, graph))

    def literal(value: object, datatype: str | None = None, language: str | None = None) -> ox.Literal:
        if language:
            return ox.Literal(str(value), language=language)
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype or XSD + "string"))

    stamp = run.started.strftime("%Y%m%dT%H%M%SZ")
    slug, label, uri_space = run.target_dataset
    our_dataset = ox.NamedNode(base_iri + OUR_DATASET_PATH)
    target_dataset = ox.NamedNode(f"{base_iri}id/dataset/{slug}")
    activity = ox.NamedNode(f"{base_iri}id/activity/link-{slug}-{stamp}")

    add(target_dataset, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
    add(target_dataset, RDFS + "label", literal(label, language="en"))
    if uri_space:
        add(target_dataset, VOID + "uriSpace", literal(uri_space))

    add(activity, RDF_TYPE, ox.NamedNode(PROV + "Activity"))
    add(activity, RDFS + "label", literal(f"link discovery against {label}", language="en"))
    add(
        activity,
        PROV + "startedAtTime",
        literal(run.started.isoformat().replace("+00:00", "Z"), XSD + "dateTime"),
    )
    add(
        activity,
        PROV + "endedAtTime",
        literal(run.ended.isoformat().replace("+00:00", "Z"), XSD + "dateTime"),
    )
    add(activity, PROV + "used", our_dataset)
    add(activity, PROV + "used", target_dataset)
    software = ox.BlankNode()
    add(activity, PROV + "wasAssociatedWith", software)
    add(software, RDF_TYPE, ox.NamedNode(PROV + "SoftwareAgent"))
    add(software, RDFS + "label", literal("govkg link", language="en"))
    add(software, SCHEMA + "softwareVersion", literal(software_version()))
    parameters: list[tuple[str, ox.Literal]] = [
        ("target", literal(run.target_name)),
        ("type", literal(run.type_filter or "any")),
        ("threshold", literal(f"{run.threshold:g}", XSD + "decimal")),
        ("near-miss floor", literal(f"{run.near_miss_floor:g}", XSD + "decimal")),
        ("software version", literal(software_version())),
    ]
    for name, value in parameters:
        parameter = ox.BlankNode()
        add(activity, PROV + "used", parameter)
        add(parameter, RDF_TYPE, ox.NamedNode(PROV + "Entity"))
        add(parameter, RDFS + "label", literal(name, language="en"))
        add(parameter, PROV + "value", value)

    by_predicate: dict[str, list[Link]] = defaultdict(list)
    for link in run.links:
        by_predicate[link.predicate].append(link)
    for predicate, links in sorted(by_predicate.items()):
        linkset = ox.NamedNode(f"{base_iri}id/linkset/{slug}-{PREDICATE_SLUGS[predicate]}-{stamp}")
        for link in links:
            add(ox.NamedNode(link.pair.ours.iri), predicate, ox.NamedNode(link.pair.theirs.iri))
        add(linkset, RDF_TYPE, ox.NamedNode(VOID + "Linkset"))
        add(linkset, VOID + "subjectsTarget", our_dataset)
        add(linkset, VOID + "objectsTarget", target_dataset)
        add(linkset, VOID + "linkPredicate", ox.NamedNode(predicate))
        add(linkset, VOID + "triples", literal(len(links), XSD + "integer"))
        add(
            linkset,
            DCTERMS + "created",
            literal(run.ended.isoformat().replace("+00:00", "Z"), XSD + "dateTime"),
        )
        add(linkset, PROV + "wasGeneratedBy", activity)
        description = (
            f"Proposed by govkg link at threshold {run.threshold:g}: to be reviewed before it is "
            "curated into data/links/."
        )
        add(linkset, DCTERMS + "description", literal(description, language="en"))
    return quads


def linkset_turtle(run: LinkRun, base_iri: str = DEFAULT_BASE_IRI) -> bytes:
    """The linkset of a run as Turtle (deterministic for the same run)."""
    return serialize_quads(linkset_quads(run, base_iri), rdf_format("ttl"), base_iri)


NEAR_MISS_COLUMNS = ("our_iri", "our_label", "target_iri", "target_label", "score", "verdict", "reasons")


def near_miss_csv(run: LinkRun) -> str:
    """The near misses of a run as CSV, best first: both IRIs and labels, score, verdict and reasons."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(NEAR_MISS_COLUMNS)
    for miss in run.near_misses:
        pair = miss.pair
        writer.writerow(
            (
                pair.ours.iri,
                str(pair.our_label or (pair.ours.labels[0] if pair.ours.labels else "")),
                pair.theirs.iri,
                str(pair.their_label or (pair.theirs.labels[0] if pair.theirs.labels else "")),
                f"{pair.score:.3f}",
                miss.verdict,
                "; ".join(pair.reasons),
            )
        )
    return buffer.getvalue()


def summary(run: LinkRun) -> str:
    """One line on what a run found.

    >>> from datetime import datetime
    >>> at = datetime(2024, 1, 1)
    >>> summary(LinkRun("x.ttl", "x.ttl", None, 0.8, 0.5, at, at, [], [], 3, 5, 4))
    'linked 0 of 3 resource(s) to x.ttl (5 candidate resource(s), 4 pair(s) scored); 0 near miss(es)'
    """
    counts = defaultdict(int)
    for link in run.links:
        counts[PREDICATE_SLUGS[link.predicate]] += 1
    by_predicate = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    linked = len({link.pair.ours.iri for link in run.links})
    text = (
        f"linked {linked} of {run.our_count} resource(s) to {run.target_name}"
        + (f" ({by_predicate}; " if by_predicate else " (")
        + f"{run.their_count} candidate resource(s), {run.compared} pair(s) scored); "
        + f"{len(run.near_misses)} near miss(es)"
    )
    if run.truncated:
        text += "; the endpoint had more results than the page bound allowed, so some may be missing"
    return text
