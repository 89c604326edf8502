"""The two datasets to link, as entities: ours, and another dataset's (an RDF dump or a SPARQL endpoint).

Ours are the IRIs under ``{base}id/`` with a label in the facts graph and a known
type (:func:`our_entities`). A dump is read once, keeping only the describing
predicates (:func:`dump_entities`). A SPARQL endpoint is asked only for the resources
whose labels contain one of our names (Simplified and Traditional) or that carry one
of our codes or IDs, page by page (``ORDER BY`` with ``LIMIT``/``OFFSET``, a bounded
number of pages, a timeout per request; :func:`endpoint_entities`); a label the
endpoint spells with other punctuation or in full-width forms is not found that way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from govkg.graph.knowledge_graph import DataFileError, read_quads
from govkg.linking.entities import Entity, Term, Triple, build_entities, canonical_iri
from govkg.linking.identifiers import division_code_variants
from govkg.linking.vocabulary import (
    CODE_PREDICATES,
    DESCRIPTION_PREDICATES,
    FAMILY_PARENTS,
    LABEL_PREDICATES,
    LATITUDE_PREDICATES,
    LONGITUDE_PREDICATES,
    RDF_TYPE,
    SCHEMA_GEO,
    WGS84,
    WIKIDATA_DIVISION_CODE,
    WIKIDATA_GEONAMES_ID,
)
from govkg.rdf.formats import rdf_format_for_path
from govkg.rdf.namespaces import DBO, GN, RDFS, SCHEMA, WD
from govkg.rdf.serialize import project_prefixes
from govkg.settings import DEFAULT_BASE_IRI

DEFAULT_PAGE_SIZE = 500
DEFAULT_MAX_PAGES = 20
DEFAULT_TIMEOUT = 30.0


class LinkingError(Exception):
    """Link discovery could not run: a target that cannot be read, a bad option value."""


# -- our resources -------------------------------------------------------------------------------


def _values(predicates: Iterable[str]) -> str:
    iris = sorted({canonical_iri(iri) for iri in predicates})
    iris += ["https://" + iri[len("http://") :] for iri in iris if iri.startswith(SCHEMA)]
    return " ".join(f"<{iri}>" for iri in iris)


def resolve_type(value: str, base_iri: str = DEFAULT_BASE_IRI) -> str:
    """A ``--type`` value as a family name or a class IRI (CURIEs expanded with the project's prefixes).

    >>> resolve_type("place"), resolve_type("schema:AdministrativeArea")
    ('place', 'http://schema.org/AdministrativeArea')
    >>> resolve_type("nope:Thing")
    Traceback (most recent call last):
    ...
    govkg.linking.sources.LinkingError: unknown type 'nope:Thing': give a family (place, organization, ...) \
or a class IRI
    """
    if value in FAMILY_PARENTS:
        return value
    if re.fullmatch(r"https?://\S+", value):
        return canonical_iri(value)
    prefix, colon, local = value.partition(":")
    prefixes = {**project_prefixes(base_iri), "wd": WD, "gn": GN, "dbo": DBO, "geo": WGS84}
    if colon and prefix in prefixes:
        return canonical_iri(prefixes[prefix] + local)
    raise LinkingError(f"unknown type {value!r}: give a family (place, organization, ...) or a class IRI")


def our_entities(
    store: ox.Store, base_iri: str = DEFAULT_BASE_IRI, type_filter: str | None = None
) -> list[Entity]:
    """Our resources to link: each IRI under ``{base}id/`` with a label in the facts graph and a known type.

    Types count with their superclasses from the ontology graph. ``type_filter`` (see
    :func:`resolve_type`) keeps the resources of one family (and its narrower ones) or
    of one class.
    """
    query = f"""
        SELECT ?s ?p ?o WHERE {{
          {{ SELECT DISTINCT ?s WHERE {{
               GRAPH <{base_iri}graph/facts> {{ ?s ?labelPredicate ?label }}
               VALUES ?labelPredicate {{ {_values(LABEL_PREDICATES)} }}
               FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base_iri}id/"))
          }} }}
          {{ ?s ?p ?o . VALUES ?p {{ {_values(DESCRIPTION_PREDICATES)} }} }}
          UNION {{ ?s <{SCHEMA_GEO}>|<https://schema.org/geo> ?geo . ?geo ?p ?o .
                   VALUES ?p {{ {_values(LATITUDE_PREDICATES + LONGITUDE_PREDICATES)} }} }}
          UNION {{ ?s a/<{RDFS}subClassOf>+ ?o . BIND(<{RDF_TYPE}> AS ?p) }}
        }}"""
    rows = store.query(query, use_default_graph_as_union=True)
    triples = [(row["s"].value, row["p"].value, _term(row["o"])) for row in rows]
    entities = [entity for entity in build_entities(triples).values() if entity.labels and entity.families]
    if type_filter:
        resolved = resolve_type(type_filter, base_iri)
        if resolved in FAMILY_PARENTS:
            entities = [e for e in entities if any(_within(family, resolved) for family in e.families)]
        else:
            entities = [e for e in entities if resolved in e.types]
    return sorted(entities, key=lambda entity: entity.iri)


def _within(family: str, ancestor: str) -> bool:
    current: str | None = family
    while current is not None:
        if current == ancestor:
            return True
        current = FAMILY_PARENTS[current]
    return False


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Term:
    if isinstance(term, ox.NamedNode):
        return Term(term.value, True)
    if isinstance(term, ox.BlankNode):
        return Term("_:" + term.value, True)
    return Term(term.value, False, term.language or "")


# -- the other dataset ---------------------------------------------------------------------------


def is_endpoint(target: str) -> bool:
    """Whether a ``--target`` is a SPARQL endpoint URL rather than a dump file.

    >>> is_endpoint("http://127.0.0.1:7878/query"), is_endpoint("dumps/wikidata-sample.ttl.gz")
    (True, False)
    """
    return bool(re.match(r"https?://", target))


def dump_entities(path: Path) -> Iterator[Entity]:
    """The described resources of an RDF dump (any registry format, ``.gz`` too)."""
    if not path.is_file():
        raise LinkingError(f"{path}: no such file")
    try:
        rdf_format_for_path(path.name)
    except KeyError:
        raise LinkingError(f"{path.name}: not a known RDF format (by its extension)") from None
    relevant = {canonical_iri(iri) for iri in DESCRIPTION_PREDICATES}
    triples: list[Triple] = []
    try:
        for quad in read_quads(path, "urn:govkg:link-target"):
            predicate = canonical_iri(quad.predicate.value)
            if predicate in relevant:
                subject = quad.subject
                name = subject.value if isinstance(subject, ox.NamedNode) else "_:" + subject.value
                triples.append((name, predicate, _term(quad.object)))
    except DataFileError as error:
        raise LinkingError(str(error)) from None
    # A relative IRI resolves against the dump's file: URI, which names nothing outside this machine.
    yield from (entity for entity in build_entities(triples).values() if not entity.iri.startswith("file:"))


@dataclass
class FetchLog:
    """What was asked of an endpoint: requests made, and whether a page bound cut a result short."""

    requests: int = 0
    truncated: bool = False


class EndpointClient:
    """SELECT queries against a SPARQL endpoint with SPARQLWrapper, paged and bounded."""

    def __init__(
        self,
        url: str,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url
        self.page_size = page_size
        self.max_pages = max_pages
        self.timeout = timeout
        self.log = FetchLog()

    def select(self, query: str) -> list[dict[str, Term]]:
        """One request; the bindings of each row as terms."""
        from urllib.error import URLError

        from SPARQLWrapper import JSON, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        client = SPARQLWrapper(self.url, agent=f"govkg-link/{software_version()} (+https://w3id.org/govkg/)")
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        client.setTimeout(int(math.ceil(self.timeout)))
        client.setQuery(query)
        self.log.requests += 1
        try:
            results = client.queryAndConvert()
        except (SPARQLWrapperException, URLError, OSError, ValueError) as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise LinkingError(f"the endpoint {self.url} failed: {message}") from None
        if not isinstance(results, dict) or "results" not in results:
            raise LinkingError(f"the endpoint {self.url} did not return SPARQL JSON results")
        return [
            {name: _json_term(binding) for name, binding in row.items()}
            for row in results["results"]["bindings"]
        ]

    def select_pages(self, query: str) -> Iterator[dict[str, Term]]:
        """All rows of an ordered query, ``page_size`` at a time, at most ``max_pages`` pages."""
        for page in range(self.max_pages):
            rows = self.select(f"{query}\nLIMIT {self.page_size} OFFSET {page * self.page_size}")
            yield from rows
            if len(rows) < self.page_size:
                return
        self.log.truncated = True


def _json_term(binding: dict[str, str]) -> Term:
    if binding["type"] == "uri":
        return Term(binding["value"], True)
    if binding["type"] == "bnode":
        return Term("_:" + binding["value"], True)
    return Term(binding["value"], False, binding.get("xml:lang", ""))


def sparql_string(text: str) -> str:
    """A SPARQL string literal.

    >>> print(sparql_string('say "hi"\\\\'))
    "say \\"hi\\"\\\\"
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def endpoint_entities(client: EndpointClient, ours: Sequence[Entity], batch_size: int = 25) -> list[Entity]:
    """The resources of an endpoint that may match ours, described.

    Candidates are the resources with a label containing one of our names (lower case,
    Simplified and Traditional), with one of our division codes (both spellings) or
    GeoNames IDs, and the resources we already link to.
    """
    names = sorted({name for entity in ours for name in entity.search_names})
    codes = sorted(
        {variant for entity in ours for code in entity.codes for variant in division_code_variants(code)}
    )
    geonames = sorted({gid for entity in ours for gid in entity.geonames_ids | entity.close_geonames_ids})
    subjects: set[str] = {iri for entity in ours for iri in entity.identity_links | entity.close_links}
    for batch in _batches(names, batch_size):
        tests = " || ".join(f"CONTAINS(LCASE(STR(?label)), {sparql_string(name)})" for name in batch)
        query = f"""
            SELECT DISTINCT ?s WHERE {{
              ?s ?labelPredicate ?label .
              VALUES ?labelPredicate {{ {_values(LABEL_PREDICATES)} }}
              FILTER(isIRI(?s) && isLiteral(?label))
              FILTER({tests})
            }}
            ORDER BY ?s"""
        subjects.update(row["s"].value for row in client.select_pages(query))
    literals = codes + geonames
    for batch in _batches(literals, batch_size):
        values = ", ".join(sparql_string(value) for value in batch)
        predicates = CODE_PREDICATES + (WIKIDATA_DIVISION_CODE, WIKIDATA_GEONAMES_ID)
        query = f"""
            SELECT DISTINCT ?s WHERE {{
              ?s ?codePredicate ?code .
              VALUES ?codePredicate {{ {_values(predicates)} }}
              FILTER(isIRI(?s) && STR(?code) IN ({values}))
            }}
            ORDER BY ?s"""
        subjects.update(row["s"].value for row in client.select_pages(query))
    triples: list[Triple] = []
    coordinates = _values(LATITUDE_PREDICATES + LONGITUDE_PREDICATES)
    writable = sorted(iri for iri in subjects if _IRIREF.fullmatch(iri))
    for batch in _batches(writable, batch_size * 4):
        resources = " ".join(f"<{iri}>" for iri in batch)
        query = f"""
            SELECT ?s ?p ?o WHERE {{
              VALUES ?s {{ {resources} }}
              {{ ?s ?p ?o . VALUES ?p {{ {_values(DESCRIPTION_PREDICATES)} }} }}
              UNION {{ ?s <{SCHEMA_GEO}>|<https://schema.org/geo> ?geo . ?geo ?p ?o .
                       VALUES ?p {{ {coordinates} }} }}
            }}
            ORDER BY ?s ?p ?o"""
        triples.extend((row["s"].value, row["p"].value, row["o"]) for row in client.select_pages(query))
    return list(build_entities(triples).values())


# What may stand between < and > in SPARQL; other IRIs cannot be asked about.
_IRIREF = re.compile(r"[^<>\"{}|^`\\\x00-\x20]+")


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def software_version() -> str:
    """The installed version of govkg (from the package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govkg")
    except PackageNotFoundError:
        return "unknown"
