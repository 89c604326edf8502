"""Dataset metadata: the VoID description and the DCAT-AP 3.0.1 catalogue, built from the loaded data.

Both are built from the store. What needs no reading of the whole data (titles,
licence, distributions and their URLs, linksets, examples, the service description) is
written at start-up into the ``{base}graph/metadata`` named graph, so SPARQL sees it;
:func:`dataset_metadata_quads` builds that graph. The figures that would need a pass over
the whole dataset — the VoID counts and the dumps' byte sizes and checksums — are not
computed at start-up, at any size: the documents served below compute them on their first
request (once per dataset version) and carry them; the stored graph has them only when
they were computed before (a persistent store keeps them in its folder, so from its next
start on), never a guess. :mod:`govkg.web.metadata` serves the two documents::

    /.well-known/void   VoID (RFC 8615 well-known URI named by the VoID note, §7.2)
    /catalog            the DCAT-AP 3.0.1 catalogue, for open-data portals to harvest

each by ``Accept`` (Turtle, N-Triples, JSON-LD, RDF/XML; HTML for browsers) and by
extension (``/catalog.ttl``, ``/.well-known/void.jsonld`` ...). RDF is the default:
a client that accepts anything gets Turtle.

What "the dataset" is: every named graph except the metadata graph (see
:func:`govkg.store.dumps.dataset_graphs`); its counts are of distinct triples in their
union, which is what ``SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g
{ ?s ?p ?o } FILTER (?g != <{base}graph/metadata>) } }`` answers.

Dates are never invented: ``dct:modified`` is the newest modification time of the
loaded files; ``dct:issued`` is :data:`DATASET_ISSUED`, the day this dataset was first
published (govkg 0.1.0) — a fact about the dataset, not about the article. The EU
controlled-vocabulary IRIs used (data themes, languages, file types, access rights) are typed here with the
classes the DCAT-AP range shapes expect, and themes carry their ``skos:prefLabel``,
as the DCAT-AP SHACL guidance asks of data that does not ship the vocabularies.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from govkg.package_data import DATA_DIR
from govkg.rdf.formats import RDF_FORMATS
from govkg.rdf.namespaces import DCAT, DCT, FOAF, PROV, RDF, RDFS, SKOS, SPDX, VCARD, VOID, XSD
from govkg.rdf.routes import catalog_url, dump_url, endpoint_url, void_url
from govkg.store.dumps import GZIP_MEDIA_TYPE, BuiltDump, dataset_graphs, known_dumps
from govkg.store.loaded import LoadedGraph

log = logging.getLogger(__name__)

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

DATASET_SLUG = "zhaoqing-rule-of-law"
LICENSE_IRI = "https://creativecommons.org/licenses/by/4.0/"
GEONAMES_ZHAOQING = "https://sws.geonames.org/1784853/"
DCAT_AP_IRI = "https://semiceu.github.io/DCAT-AP/releases/3.0.1/"
SPARQL_PROTOCOL_IRI = "https://www.w3.org/TR/sparql11-protocol/"

#: Data themes of the EU vocabulary, with their English labels (the EU's) ...
THEMES: dict[str, str] = {
    EU_AUTHORITY + "data-theme/GOVE": "Government and public sector",
    EU_AUTHORITY + "data-theme/JUST": "Justice, legal system and public safety",
}
#: ... and Chinese ones (ours: every labelled resource the server publishes has a label in zh and
#: en, ontology/shapes.ttl; the EU publishes none in Chinese).
THEMES_ZH: dict[str, str] = {
    EU_AUTHORITY + "data-theme/GOVE": "政府和公共部门",
    EU_AUTHORITY + "data-theme/JUST": "司法、法律体系和公共安全",
}
THEME_SCHEME_LABELS = {"zh": "数据主题", "en": "Data theme"}
LANGUAGES: tuple[str, ...] = (EU_AUTHORITY + "language/ZHO", EU_AUTHORITY + "language/ENG")
PUBLIC_ACCESS = EU_AUTHORITY + "access-right/PUBLIC"


@dataclass(frozen=True)
class DatasetProse:
    """The dataset's title, description and keywords by language (``data/dataset.toml``)."""

    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, tuple[str, ...]]


@functools.cache
def dataset_prose(path: Path = DATA_DIR / "dataset.toml") -> DatasetProse:
    """The dataset's prose, read once from ``data/dataset.toml``.

    >>> dataset_prose().title["en"]
    'Zhaoqing rule-of-law government knowledge graph'
    """
    with path.open("rb") as file:
        prose = tomllib.load(file)
    return DatasetProse(
        title=dict(prose["title"]),
        description=dict(prose["description"]),
        keywords={language: tuple(words) for language, words in prose["keywords"].items()},
    )


class MetadataIris:
    """The IRIs of the dataset's description, all under the base (so all dereference)."""

    def __init__(self, base_iri: str) -> None:
        self.base = base_iri
        self.dataset = f"{base_iri}id/dataset/{DATASET_SLUG}"
        self.void_document = void_url(base_iri)
        self.catalog = catalog_url(base_iri)
        self.record = f"{base_iri}id/catalog-record/{DATASET_SLUG}"
        self.service = f"{base_iri}id/service/sparql"
        self.endpoint = endpoint_url(base_iri)
        self.publisher = f"{base_iri}id/agent/govkg"
        self.contact = f"{base_iri}id/contact/govkg"
        self.place = f"{base_iri}id/place/zhaoqing"
        self.article = f"{base_iri}id/article/xijiang-daily-zhaoqing-rule-of-law"
        self.metadata_graph = f"{base_iri}graph/metadata"

    def distribution(self, file_name: str) -> str:
        """The IRI of the dcat:Distribution of one dump file.

        >>> MetadataIris("https://w3id.org/govkg/").distribution("govkg.ttl.gz")
        'https://w3id.org/govkg/id/distribution/zhaoqing-rule-of-law-ttl-gz'
        """
        suffix = file_name.split(".", 1)[1].replace(".", "-")
        return f"{self.base}id/distribution/{DATASET_SLUG}-{suffix}"


# --- statistics -------------------------------------------------------------------------------


@dataclass
class DatasetStatistics:
    """VoID's counts over the distinct triples of the dataset's graphs."""

    triples: int = 0
    entities: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # class IRI -> distinct instances
    properties: dict[str, int] = field(default_factory=dict)  # property IRI -> distinct triples
    vocabularies: list[str] = field(default_factory=list)
    graph_triples: dict[str, int] = field(default_factory=dict)  # graph IRI -> its triples


def namespace_of(iri: str) -> str:
    """The namespace of a term: its IRI up to the last ``#`` or ``/`` (``:`` if it has neither).

    >>> namespace_of("http://www.w3.org/ns/oa#hasBody"), namespace_of("http://schema.org/name")
    ('http://www.w3.org/ns/oa#', 'http://schema.org/')
    >>> namespace_of("urn:x:property")  # a URN: never an empty namespace
    'urn:x:'
    """
    cut = max(iri.rfind("#"), iri.rfind("/"))
    if cut < 0:
        cut = iri.rfind(":")
    return iri[: cut + 1]


def dataset_statistics(loaded: LoadedGraph) -> DatasetStatistics:
    """Count the dataset: triples, entities, distinct subjects and objects, classes, properties.

    A large store (persistent or remote) is counted by SPARQL aggregates instead, once per
    data version, the first time the statistics are asked for (:func:`large_statistics`).
    """
    if loaded.backend.large:
        return large_statistics(loaded)

    triples: set[ox.Triple] = set()
    stats = DatasetStatistics()
    for graph in dataset_graphs(loaded):
        graph_triples = {quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)}
        stats.graph_triples[graph.value] = len(graph_triples)
        triples |= graph_triples
    rdf_type = ox.NamedNode(RDF + "type")
    instances: dict[str, set] = {}
    properties: dict[str, int] = {}
    subjects, objects = set(), set()
    for triple in triples:
        subjects.add(triple.subject)
        objects.add(triple.object)
        properties[triple.predicate.value] = properties.get(triple.predicate.value, 0) + 1
        if triple.predicate == rdf_type and isinstance(triple.object, ox.NamedNode):
            instances.setdefault(triple.object.value, set()).add(triple.subject)
    stats.triples = len(triples)
    stats.distinct_subjects = len(subjects)
    stats.distinct_objects = len(objects)
    stats.entities = sum(
        1 for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(loaded.base_iri)
    )
    stats.classes = {cls: len(members) for cls, members in sorted(instances.items())}
    stats.properties = dict(sorted(properties.items()))
    stats.vocabularies = sorted({namespace_of(term) for term in (*stats.classes, *stats.properties)})
    return stats


#: The VoID counts of a large store, by SPARQL aggregates (:func:`large_statistics`), without a
#: DISTINCT over the union's triples (at 5M triples that DISTINCT, made twice, was 21 s of the
#: 26 s the counts took): a named graph holds a triple once, so only a triple held by two graphs
#: is counted twice, and "repeated" counts those copies, its first copy (in the order of
#: ``{ranked}``: the largest graph first) left out. So a property's triples are its count in
#: "graph_properties" less its count in "repeated", exactly those of the union's distinct
#: triples; the distinct subjects, objects and entities are the same over quads as over the
#: union's triples. "repeated" looks up only the triples of the graphs after the first.
STATISTICS_QUERIES = {
    "graph_properties": "SELECT ?g ?p (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s ?p ?o }} {filter} }} GROUP BY ?g ?p",
    "totals": "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) "
    "(COUNT(DISTINCT ?e) AS ?entities) {{ GRAPH ?g {{ ?s ?p ?o }} {filter} "
    "BIND (IF(isIRI(?s) && STRSTARTS(STR(?s), {base}), ?s, ?unbound) AS ?e) }}",
    "classes": "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) {{ GRAPH ?g {{ ?s a ?c }} {filter} FILTER isIRI(?c) }} "
    "GROUP BY ?c",
    "repeated": "SELECT ?p (COUNT(*) AS ?n) {{ VALUES (?g ?rank) {{ {later} }} GRAPH ?g {{ ?s ?p ?o }} "
    "FILTER EXISTS {{ VALUES (?h ?first) {{ {ranked} }} GRAPH ?h {{ ?s ?p ?o }} FILTER (?first < ?rank) }} "
    "}} GROUP BY ?p",
}
_STATISTICS_LOCK = threading.Lock()
#: Seconds the VoID counts of a large store may take (once per data version).
STATISTICS_TIMEOUT = 600.0


def statistics_query(name: str, ranked: Sequence[ox.NamedNode], base_iri: str) -> str:
    """The text of the query ``name`` of :data:`STATISTICS_QUERIES` over the dataset's graphs ``ranked``.

    ``ranked`` are in the order in which "repeated" takes a triple's first copy: the largest first.

    >>> graphs = [ox.NamedNode("urn:x:big"), ox.NamedNode("urn:x:small")]
    >>> print(statistics_query("repeated", graphs, "urn:x:"))  # doctest: +NORMALIZE_WHITESPACE
    SELECT ?p (COUNT(*) AS ?n) { VALUES (?g ?rank) { (<urn:x:small> 1) } GRAPH ?g { ?s ?p ?o }
    FILTER EXISTS { VALUES (?h ?first) { (<urn:x:big> 0) (<urn:x:small> 1) } GRAPH ?h { ?s ?p ?o }
    FILTER (?first < ?rank) } } GROUP BY ?p
    """
    values = " ".join(str(graph) for graph in ranked) or "<urn:govkg:no-graph>"
    pairs = [f"({graph} {rank})" for rank, graph in enumerate(ranked)]
    return STATISTICS_QUERIES[name].format(
        filter=f"VALUES ?g {{ {values} }}",
        base=ox.Literal(base_iri),
        ranked=" ".join(pairs),
        later=" ".join(pairs[1:]),
    )


def large_statistics(loaded: LoadedGraph) -> DatasetStatistics:
    """The statistics of a large store by SPARQL aggregates, kept in its cache folder per version.

    The same counts as the in-memory path: distinct triples of the union of the dataset's
    graphs (:data:`STATISTICS_QUERIES` says how, without a DISTINCT over them). The first call
    reads the whole store (seconds for a million triples); the result is kept in
    ``{store}/cache/{version}/statistics.json``, so the other processes and the next start-ups
    read it.
    """
    cache_file = _statistics_file(loaded)
    with _STATISTICS_LOCK:
        cached = _read_statistics(cache_file)
        if cached is not None:
            return cached
        graphs = dataset_graphs(loaded)

        def rows(name: str, ranked: Sequence[ox.NamedNode] = graphs) -> list:
            text = statistics_query(name, ranked, loaded.base_iri)
            if loaded.backend.kind in EMBEDDED_KINDS:
                # On the engine itself, not as a query of the endpoint's: the per-query time and
                # memory bounds are for clients (a 5M-triple count passed them, and a client got
                # 503 "memory limit" for it). Run where the store is opened, before any worker
                # serves (see precompute_statistics).
                solutions = loaded.store.query(text)
            else:  # the external store counts
                from govkg.sparql.runner import QueryJob

                job = QueryJob(text, "SELECT", "json", max_rows=10_000_000)
                answer = loaded.backend.run_query(job, STATISTICS_TIMEOUT)
                solutions = ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON)
            names = [variable.value for variable in solutions.variables]
            return [tuple(solution[name] for name in names) for solution in solutions]

        stats = DatasetStatistics()
        graph_triples = dict.fromkeys((graph.value for graph in graphs), 0)
        properties: dict[str, int] = {}
        for graph, prop, count in rows("graph_properties"):
            graph_triples[graph.value] += int(count.value)
            properties[prop.value] = properties.get(prop.value, 0) + int(count.value)
        stats.graph_triples = graph_triples
        if len(graphs) > 1:  # a triple held by two graphs or more: counted once
            ranked = sorted(graphs, key=lambda graph: -graph_triples[graph.value])
            for prop, copies in rows("repeated", ranked):
                properties[prop.value] -= int(copies.value)
        stats.properties = dict(sorted(properties.items()))
        stats.triples = sum(properties.values())
        totals = rows("totals")[0]
        stats.distinct_subjects, stats.distinct_objects, stats.entities = (int(term.value) for term in totals)
        stats.classes = dict(sorted((row[0].value, int(row[1].value)) for row in rows("classes")))
        stats.vocabularies = sorted({namespace_of(term) for term in (*stats.classes, *stats.properties)})
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache_file.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(stats.__dict__, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, cache_file)
        return stats


#: Backends whose store is in this process (in memory or a folder): their counts are made here.
EMBEDDED_KINDS = ("memory", "disk")


def precompute_statistics(loaded: LoadedGraph) -> None:
    """Count a large embedded store now, once per data version, unless its counts are kept already.

    Called after the server opens the store, before it forks its workers (on a thread beside the
    search index's build: :func:`govkg.store.opening.prepare_for_workers`): the counts are then a
    file every worker reads (:func:`large_statistics`), never a query run in a worker beside the
    clients' (where the memory it takes would count against theirs). A disk store's handle,
    opened for it, is let go again before the workers are forked.
    """
    if not loaded.backend.large or loaded.backend.kind not in EMBEDDED_KINDS:
        return
    if cached_statistics(loaded) is not None:
        return
    started = time.monotonic()
    log.info("Counting the dataset for its VoID description (once per data version) ...")
    large_statistics(loaded)
    log.info("Counted the dataset in %.1f s.", time.monotonic() - started)
    release = getattr(getattr(loaded.backend, "handle", None), "release", None)
    if release is not None:
        release()


def cached_statistics(loaded: LoadedGraph) -> DatasetStatistics | None:
    """A large store's statistics if they were computed already; else ``None``."""
    return _read_statistics(_statistics_file(loaded))


def _statistics_file(loaded: LoadedGraph) -> Path | None:
    if loaded.store_directory is None:
        return None
    return loaded.store_directory / "cache" / loaded.dataset_version / "statistics.json"


def _read_statistics(path: Path | None) -> DatasetStatistics | None:
    if path is None:
        return None
    try:
        return DatasetStatistics(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


# --- building triples -------------------------------------------------------------------------


class _Triples:
    """A small builder: ``add(s, p, o)`` with IRIs as ``str`` and literals as ``ox.Literal``."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: str | ox.BlankNode, predicate: str, obj: str | ox.Literal | ox.BlankNode) -> None:
        s = ox.NamedNode(subject) if isinstance(subject, str) else subject
        o = ox.NamedNode(obj) if isinstance(obj, str) else obj
        self.triples.append(ox.Triple(s, ox.NamedNode(predicate), o))

    def texts(self, subject: str, predicate: str, texts: dict[str, str]) -> None:
        for language, text in texts.items():
            self.add(subject, predicate, ox.Literal(text, language=language))


def _integer(value: int, datatype: str = XSD + "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(datatype))


#: The day govkg first published this dataset (release 0.1.0). The article itself has no date.
DATASET_ISSUED = "2026-11-27"


def _issued() -> ox.Literal:
    return ox.Literal(DATASET_ISSUED, datatype=ox.NamedNode(XSD + "date"))


def _date_time(loaded: LoadedGraph) -> ox.Literal:
    return ox.Literal(
        loaded.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=ox.NamedNode(XSD + "dateTime")
    )


def linksets(loaded: LoadedGraph) -> list[tuple[ox.NamedNode, int]]:
    """The ``void:Linkset``s declared in the links graph and how many links each holds.

    A linkset's links are the triples of the links graph whose predicate is one of its
    ``void:linkPredicate`` and, when its ``void:objectsTarget`` (or ``void:target``)
    declares a ``void:uriSpace``, whose object IRI starts with it.
    """
    store = loaded.store
    links = loaded.graph_iri("links")
    found = []
    declared = store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(VOID + "Linkset"), None)
    for linkset in sorted(
        {quad.subject for quad in declared if isinstance(quad.subject, ox.NamedNode)}, key=str
    ):
        predicates = [
            q.object for q in store.quads_for_pattern(linkset, ox.NamedNode(VOID + "linkPredicate"), None)
        ]
        targets = [
            q.object
            for prop in ("objectsTarget", "target")
            for q in store.quads_for_pattern(linkset, ox.NamedNode(VOID + prop), None)
        ]
        spaces = [
            q.object.value
            for target in targets
            for q in store.quads_for_pattern(target, ox.NamedNode(VOID + "uriSpace"), None)
            if isinstance(q.object, ox.Literal)
        ]
        count = len(
            {
                q.triple
                for predicate in predicates
                for q in store.quads_for_pattern(None, predicate, None, links)
                if not spaces
                or (isinstance(q.object, ox.NamedNode) and q.object.value.startswith(tuple(spaces)))
            }
        )
        found.append((linkset, count))
    return found


def void_triples(
    loaded: LoadedGraph, stats: DatasetStatistics | None, dumps: Iterable[BuiltDump]
) -> list[ox.Triple]:
    """The VoID description of the dataset (without counts when ``stats`` is ``None``)."""
    iris = MetadataIris(loaded.base_iri)
    t = _Triples()
    dataset = iris.dataset
    t.add(iris.void_document, RDF + "type", VOID + "DatasetDescription")
    t.texts(
        iris.void_document, DCT + "title", {"en": "VoID description of the " + dataset_prose().title["en"]}
    )
    t.add(iris.void_document, FOAF + "primaryTopic", dataset)
    t.add(dataset, RDF + "type", VOID + "Dataset")
    t.texts(dataset, DCT + "title", dataset_prose().title)
    t.texts(dataset, DCT + "description", dataset_prose().description)
    t.add(dataset, DCT + "license", LICENSE_IRI)
    t.add(dataset, DCT + "publisher", iris.publisher)
    t.add(dataset, DCT + "modified", _date_time(loaded))
    t.add(dataset, VOID + "uriSpace", ox.Literal(loaded.base_iri))
    t.add(dataset, VOID + "sparqlEndpoint", iris.endpoint)
    if stats is None:
        stats = DatasetStatistics()
        counted = False
    else:
        counted = True
    if counted:
        for name, value in (
            ("triples", stats.triples),
            ("entities", stats.entities),
            ("classes", len(stats.classes)),
            ("properties", len(stats.properties)),
            ("distinctSubjects", stats.distinct_subjects),
            ("distinctObjects", stats.distinct_objects),
        ):
            t.add(dataset, VOID + name, _integer(value))
    for vocabulary in stats.vocabularies:
        t.add(dataset, VOID + "vocabulary", vocabulary)
    for fmt in RDF_FORMATS:
        t.add(dataset, VOID + "feature", fmt.format_iri)
    for built in dumps:
        t.add(dataset, VOID + "dataDump", dump_url(loaded.base_iri, built.file.name))
    for example in example_resources(loaded):
        t.add(dataset, VOID + "exampleResource", example)
    if _is_subject(loaded, iris.article):
        t.add(dataset, VOID + "rootResource", iris.article)
    for cls, count in stats.classes.items():
        partition = ox.BlankNode()
        t.add(dataset, VOID + "classPartition", partition)
        t.add(partition, VOID + "class", cls)
        t.add(partition, VOID + "entities", _integer(count))
    for prop, count in stats.properties.items():
        partition = ox.BlankNode()
        t.add(dataset, VOID + "propertyPartition", partition)
        t.add(partition, VOID + "property", prop)
        t.add(partition, VOID + "triples", _integer(count))
    for graph, count in stats.graph_triples.items():
        t.add(dataset, VOID + "subset", graph)
        t.add(graph, RDF + "type", VOID + "Dataset")
        t.add(graph, VOID + "triples", _integer(count))
    # Parts the data declares itself (``dcterms:isPartOf`` the dataset), e.g. the codes file.
    for part in sorted(
        {
            q.subject.value
            for q in loaded.store.quads_for_pattern(
                None, ox.NamedNode(DCT + "isPartOf"), ox.NamedNode(dataset)
            )
            if isinstance(q.subject, ox.NamedNode)
        }
    ):
        t.add(dataset, VOID + "subset", part)
    for linkset, count in linksets(loaded):
        t.add(dataset, VOID + "subset", linkset.value)
        t.add(linkset.value, RDF + "type", VOID + "Linkset")
        t.add(linkset.value, VOID + "subjectsTarget", dataset)
        t.add(linkset.value, VOID + "triples", _integer(count))
    return t.triples


def _is_subject(loaded: LoadedGraph, iri: str) -> bool:
    return next(iter(loaded.store.quads_for_pattern(ox.NamedNode(iri), None, None, None)), None) is not None


#: Where example resources are looked for, in order: an IRI, or a path prefix (first match).
_EXAMPLE_PATHS = ("id/place/zhaoqing", "id/article/", "eli/", "id/initiative/", "id/annotation/")


def example_resources(loaded: LoadedGraph) -> list[str]:
    """A few resources that show what the dataset holds, one per kind, that exist in the data."""
    # The data is not scanned (this is part of the metadata graph, built at start-up): the
    # examples come from the article's graphs, whatever else is loaded.
    subjects = sorted(
        {
            quad.subject.value
            for graph in (loaded.graph_iri(slug) for slug in ("facts", "links"))
            for quad in loaded.store.quads_for_pattern(None, None, None, graph)
            if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(loaded.base_iri)
        }
    )
    examples = []
    for path in _EXAMPLE_PATHS:
        wanted = loaded.base_iri + path
        match = next(
            (s for s in subjects if s == wanted or (path.endswith("/") and s.startswith(wanted))), None
        )
        if match and match not in examples:
            examples.append(match)
    return examples


def dcat_triples(loaded: LoadedGraph, dumps: Iterable[BuiltDump]) -> list[ox.Triple]:
    """The DCAT-AP 3.0.1 catalogue: catalogue, record, dataset, distributions, data service."""
    dumps = list(dumps)
    iris = MetadataIris(loaded.base_iri)
    t = _Triples()
    modified = _date_time(loaded)

    t.add(iris.catalog, RDF + "type", DCAT + "Catalog")
    t.texts(iris.catalog, DCT + "title", {lang: f"{title}（目录）" if lang == "zh" else f"{title} catalogue"
                                          for lang, title in dataset_prose().title.items()})  # fmt: skip
    t.texts(iris.catalog, DCT + "description", dataset_prose().description)
    t.add(iris.catalog, DCT + "publisher", iris.publisher)
    t.add(iris.catalog, DCT + "license", LICENSE_IRI)
    t.add(iris.catalog, DCT + "issued", _issued())
    t.add(iris.catalog, DCT + "modified", modified)
    t.add(iris.catalog, FOAF + "homepage", loaded.base_iri)
    t.add(iris.catalog, DCAT + "dataset", iris.dataset)
    t.add(iris.catalog, DCAT + "service", iris.service)
    t.add(iris.catalog, DCAT + "record", iris.record)
    t.add(iris.catalog, DCAT + "themeTaxonomy", EU_AUTHORITY + "data-theme")
    for language in LANGUAGES:
        t.add(iris.catalog, DCT + "language", language)

    t.add(iris.record, RDF + "type", DCAT + "CatalogRecord")
    t.add(iris.record, FOAF + "primaryTopic", iris.dataset)
    t.add(iris.record, DCT + "issued", _issued())
    t.add(iris.record, DCT + "modified", modified)
    t.add(iris.record, DCT + "conformsTo", DCAT_AP_IRI)

    dataset = iris.dataset
    t.add(dataset, RDF + "type", DCAT + "Dataset")
    t.add(dataset, RDF + "type", DCAT + "Resource")  # the record's primaryTopic range, stated
    t.texts(dataset, DCT + "title", dataset_prose().title)
    t.texts(dataset, DCT + "description", dataset_prose().description)
    t.add(dataset, DCT + "identifier", ox.Literal(dataset))
    t.add(dataset, DCT + "publisher", iris.publisher)
    t.add(dataset, DCAT + "contactPoint", iris.contact)
    t.add(dataset, DCT + "issued", _issued())
    t.add(dataset, DCT + "modified", modified)
    t.add(dataset, DCAT + "version", ox.Literal(loaded.dataset_version))
    t.add(dataset, DCT + "accessRights", PUBLIC_ACCESS)
    t.add(dataset, DCAT + "landingPage", loaded.base_iri)
    t.add(dataset, PROV + "wasDerivedFrom", iris.article)
    for language, words in dataset_prose().keywords.items():
        for word in words:
            t.add(dataset, DCAT + "keyword", ox.Literal(word, language=language))
    for theme in THEMES:
        t.add(dataset, DCAT + "theme", theme)
    for language in LANGUAGES:
        t.add(dataset, DCT + "language", language)
    for place in (iris.place, GEONAMES_ZHAOQING):
        t.add(dataset, DCT + "spatial", place)
        t.add(place, RDF + "type", DCT + "Location")
    provenance = ox.BlankNode()
    t.add(dataset, DCT + "provenance", provenance)
    t.add(provenance, RDF + "type", DCT + "ProvenanceStatement")
    t.texts(
        provenance,
        RDFS + "label",
        {
            "en": "Facts modelled by hand from one Xijiang Daily article; each is the body of a W3C Web "
            "Annotation whose target quotes the sentence of the article that states it.",
            "zh": "事实由人工依据《西江日报》的一篇报道建模；每个事实都是一个 W3C Web 标注的主体，"
            "其目标引用文章中陈述该事实的句子。",
        },
    )

    for built in dumps:
        dump = built.file
        distribution = iris.distribution(dump.name)
        url = dump_url(loaded.base_iri, dump.name)
        t.add(dataset, DCAT + "distribution", distribution)
        t.add(distribution, RDF + "type", DCAT + "Distribution")
        gzipped = ", gzipped" if dump.compressed else ""
        t.texts(
            distribution,
            DCT + "title",
            {
                "en": f"{dump.fmt.label} dump{gzipped}",
                "zh": f"{dump.fmt.label} 格式下载{'（gzip 压缩）' * dump.compressed}",
            },
        )
        t.add(distribution, DCAT + "accessURL", url)
        t.add(distribution, DCAT + "downloadURL", url)
        t.add(distribution, DCAT + "mediaType", IANA_MEDIA_TYPES + dump.fmt.media_type)
        if dump.compressed:
            t.add(distribution, DCAT + "compressFormat", IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE)
        t.add(distribution, DCT + "format", dump.fmt.eu_file_type)
        t.add(distribution, DCT + "license", LICENSE_IRI)
        t.add(distribution, DCT + "modified", modified)
        if built.byte_size is None or built.sha256 is None:
            continue  # a large store's dump not built yet: its size is not known
        t.add(distribution, DCAT + "byteSize", _integer(built.byte_size, XSD + "nonNegativeInteger"))
        checksum = ox.BlankNode()
        t.add(distribution, SPDX + "checksum", checksum)
        t.add(checksum, RDF + "type", SPDX + "Checksum")
        t.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        t.add(
            checksum,
            SPDX + "checksumValue",
            ox.Literal(built.sha256, datatype=ox.NamedNode(XSD + "hexBinary")),
        )

    service = iris.service
    t.add(service, RDF + "type", DCAT + "DataService")
    t.texts(service, DCT + "title", {"zh": "SPARQL 查询端点", "en": "SPARQL endpoint"})
    t.texts(
        service,
        DCT + "description",
        {
            "zh": "按 SPARQL 1.1 协议查询整个知识图谱；默认图是所有命名图的并集。",
            "en": "Query the whole knowledge graph with the SPARQL 1.1 Protocol; the default graph is the "
            "union of the named graphs.",
        },
    )
    t.add(service, DCAT + "endpointURL", iris.endpoint)
    t.add(service, DCAT + "endpointDescription", iris.endpoint)
    t.add(service, DCAT + "servesDataset", dataset)
    t.add(service, DCAT + "landingPage", loaded.base_iri)
    t.add(service, DCT + "conformsTo", SPARQL_PROTOCOL_IRI)
    t.add(service, DCT + "license", LICENSE_IRI)
    t.add(service, DCT + "accessRights", PUBLIC_ACCESS)
    t.add(service, DCT + "publisher", iris.publisher)
    t.add(service, DCAT + "contactPoint", iris.contact)
    t.add(iris.endpoint, RDF + "type", RDFS + "Resource")

    t.add(iris.publisher, RDF + "type", FOAF + "Agent")
    t.texts(iris.publisher, FOAF + "name", {"en": "govkg project", "zh": "govkg 项目"})
    t.add(iris.contact, RDF + "type", VCARD + "Kind")
    t.add(iris.contact, RDF + "type", VCARD + "Organization")
    t.add(iris.contact, VCARD + "fn", ox.Literal("govkg maintainers", language="en"))
    t.add(iris.contact, VCARD + "hasURL", loaded.base_iri)

    # The classes the DCAT-AP range shapes expect of the IRIs used, stated for harvesters
    # that do not load the vocabularies; the documents below are ours, so typed too.
    t.add(LICENSE_IRI, RDF + "type", DCT + "LicenseDocument")
    t.texts(LICENSE_IRI, DCT + "title", {"en": "Creative Commons Attribution 4.0 International"})
    t.add(PUBLIC_ACCESS, RDF + "type", DCT + "RightsStatement")
    t.add(loaded.base_iri, RDF + "type", FOAF + "Document")
    for standard in (DCAT_AP_IRI, SPARQL_PROTOCOL_IRI):
        t.add(standard, RDF + "type", DCT + "Standard")
    for language in LANGUAGES:
        t.add(language, RDF + "type", DCT + "LinguisticSystem")
    t.add(EU_AUTHORITY + "data-theme", RDF + "type", SKOS + "ConceptScheme")
    t.texts(EU_AUTHORITY + "data-theme", DCT + "title", {"en": THEME_SCHEME_LABELS["en"]})
    for predicate in (RDFS + "label", SKOS + "prefLabel"):
        t.texts(EU_AUTHORITY + "data-theme", predicate, THEME_SCHEME_LABELS)
    for theme, label in THEMES.items():
        labels = {"zh": THEMES_ZH[theme], "en": label}
        t.add(theme, RDF + "type", SKOS + "Concept")
        t.add(theme, SKOS + "inScheme", EU_AUTHORITY + "data-theme")
        t.add(EU_AUTHORITY + "data-theme", SKOS + "hasTopConcept", theme)  # as in the EU's scheme
        for predicate in (RDFS + "label", SKOS + "prefLabel"):
            t.texts(theme, predicate, labels)
    media_types = {IANA_MEDIA_TYPES + built.file.fmt.media_type for built in dumps}
    for media_type in sorted(media_types | {IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE}):
        t.add(media_type, RDF + "type", DCT + "MediaType")
    for file_type in sorted({fmt.eu_file_type for fmt in RDF_FORMATS}):
        t.add(file_type, RDF + "type", DCT + "MediaTypeOrExtent")
    t.add(SPDX + "checksumAlgorithm_sha256", RDF + "type", SPDX + "ChecksumAlgorithm")
    return t.triples


def metadata_documents(
    loaded: LoadedGraph, dumps: Iterable[BuiltDump], counted: bool = True
) -> dict[str, list[ox.Triple]]:
    """The two documents of the metadata graph: ``{"void": [...], "catalog": [...]}``.

    ``counted=False`` leaves the counts out unless they are known already (a persistent
    store's, computed before): counting reads the whole dataset. The dumps' sizes and
    checksums are those of ``dumps`` that are built.
    """
    dumps = list(dumps)
    stats = dataset_statistics(loaded) if counted else cached_statistics(loaded)
    return {
        "void": void_triples(loaded, stats, dumps),
        "catalog": dcat_triples(loaded, dumps),
    }


def dataset_metadata_quads(loaded: LoadedGraph) -> list[ox.Quad]:
    """The quads of the ``{base}graph/metadata`` named graph, from what is known without reading the data.

    Nothing here passes over the whole dataset, at any size: no counts, no dump built.
    Those figures are in the served documents (:func:`_document_triples`), which compute
    them on first request; a stored graph cannot change once the server runs (its
    answers are cached and tagged by dataset version, and each worker has its own copy of
    an in-memory store), so it holds only what is known already.
    """
    graph = loaded.graph_iri("metadata")
    documents = metadata_documents(loaded, known_dumps(loaded), counted=False)
    return metadata_graph_quads(loaded.store, graph, (t for triples in documents.values() for t in triples))


def metadata_graph_quads(store: ox.Store, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> list[ox.Quad]:
    """``triples`` as quads of the metadata ``graph``, less those another graph of ``store`` states.

    The documents restate some triples of the data (e.g. each ``void:Linkset``'s type,
    declared in the links graph); in the metadata graph they would be a second copy, and
    the union default graph would hold them twice. So the graphs stay disjoint.

    >>> store = ox.Store()
    >>> t = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o"))
    >>> store.add(ox.Quad(*t, ox.NamedNode("urn:x:links")))
    >>> u = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("new"))
    >>> [str(quad.object) for quad in metadata_graph_quads(store, ox.NamedNode("urn:x:metadata"), [t, u])]
    ['"new"']
    """
    quads = []
    for triple in dict.fromkeys(triples):
        elsewhere = any(
            quad.graph_name != graph
            for quad in store.quads_for_pattern(triple.subject, triple.predicate, triple.object)
        )
        if not elsewhere:
            quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
    return quads
