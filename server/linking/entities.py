"""What link discovery knows of a resource (:class:`Entity`), built from its triples.

Each resource of either dataset becomes an :class:`Entity`: labels, types, GeoNames
feature classes, division codes, GeoNames IDs, coordinates and the links it already
has, read through the predicates of :mod:`govkg.linking.vocabulary`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from govkg.linking.identifiers import geonames_id, normalize_division_code, parse_wkt_point
from govkg.linking.labels import block_keys, core_name, is_chinese, to_traditional
from govkg.linking.vocabulary import (
    CLASS_FAMILIES,
    CLOSE_PREDICATES,
    CODE_PREDICATES,
    FAMILY_PARENTS,
    GEONAMES_CLASS_FAMILIES,
    GEONAMES_CLASS_PREDICATES,
    IDENTITY_PREDICATES,
    LABEL_PREDICATES,
    LATITUDE_PREDICATES,
    LONGITUDE_PREDICATES,
    SCHEMA_GEO,
    TYPE_PREDICATES,
    WIKIDATA_DIVISION_CODE,
    WIKIDATA_GEONAMES_ID,
    WKT_PREDICATES,
    family_root,
)
from govkg.rdf.namespaces import GN


class Term(NamedTuple):
    """An RDF term as the describing steps need it: IRI or literal, value, language tag."""

    value: str
    is_iri: bool
    language: str = ""


#: (subject, predicate, object); a blank node subject is written ``_:id``.
Triple = tuple[str, str, Term]


@dataclass(frozen=True)
class Label:
    """A label and its language tag (empty when it has none)."""

    text: str
    language: str = ""

    def __str__(self) -> str:
        return f"{self.text}@{self.language}" if self.language else self.text


@dataclass
class Entity:
    """What link discovery knows of one resource."""

    iri: str
    labels: list[Label] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    geonames_classes: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    geonames_ids: set[str] = field(default_factory=set)
    close_geonames_ids: set[str] = field(default_factory=set)
    points: list[tuple[float, float]] = field(default_factory=list)
    identity_links: set[str] = field(default_factory=set)
    close_links: set[str] = field(default_factory=set)

    @cached_property
    def families(self) -> frozenset[str]:
        """The most specific type families of the entity (GeoNames feature codes win over classes)."""
        families = {CLASS_FAMILIES[type_iri] for type_iri in self.types if type_iri in CLASS_FAMILIES}
        codes = [value for value in self.geonames_classes if "." in value] or list(self.geonames_classes)
        for value in codes:
            feature_class, _, feature_code = value.partition(".")
            if feature_class == "A" and feature_code.startswith("PCL"):
                families.add("country")
            elif feature_class in GEONAMES_CLASS_FAMILIES:
                families.add(GEONAMES_CLASS_FAMILIES[feature_class])
        # The most specific families only: a railway station typed gn:Feature (a place) too
        # must not pass as a place of any kind.
        broader = {FAMILY_PARENTS[family] for family in families} - {None}
        return frozenset(families - broader)

    @cached_property
    def roots(self) -> frozenset[str]:
        """The root families of the entity's families (place, organization, concept...)."""
        return frozenset(family_root(family) for family in self.families)

    @cached_property
    def keys(self) -> set[str]:
        """The blocking keys: of every label, and of every code, GeoNames ID and linked IRI."""
        keys: set[str] = set()
        for label in self.labels:
            keys |= block_keys(label.text)
        keys.update("code:" + code for code in self.codes)
        keys.update("gn:" + gid for gid in self.geonames_ids | self.close_geonames_ids)
        keys.update("iri:" + iri for iri in {self.iri} | self.identity_links | self.close_links)
        return keys

    @cached_property
    def search_names(self) -> set[str]:
        """Our names to look for in another dataset's labels: the core names, Simplified and Traditional."""
        names = set()
        for label in self.labels:
            core, _ = core_name(label.text)
            if is_chinese(core) and len(core) >= 2:
                names.update({core, to_traditional().convert(core)})
            elif len(core) >= 3:
                names.add(core)
        return names


def build_entities(triples: Iterable[Triple]) -> dict[str, Entity]:
    """Describe the IRI subjects of ``triples`` (only the predicates of :data:`DESCRIPTION_PREDICATES` count).

    Coordinates on a ``schema:geo`` node are the subject's own.

    >>> from govkg.rdf.namespaces import RDFS, WDT
    >>> entity = build_entities([
    ...     ("http://www.wikidata.org/entity/Q1", WDT + "P442", Term("44 12", False)),
    ...     ("http://www.wikidata.org/entity/Q1", WDT + "P625", Term("Point(112.46 23.05)", False)),
    ...     ("http://www.wikidata.org/entity/Q1", RDFS + "label", Term("肇慶市", False, "zh-hant")),
    ... ])["http://www.wikidata.org/entity/Q1"]
    >>> entity.codes, entity.points, [str(label) for label in entity.labels]
    ({'441200'}, [(23.05, 112.46)], ['肇慶市@zh-hant'])
    """
    entities: dict[str, Entity] = {}
    latitudes: dict[str, list[float]] = defaultdict(list)
    longitudes: dict[str, list[float]] = defaultdict(list)
    geo_nodes: dict[str, set[str]] = defaultdict(set)

    def entity(subject: str) -> Entity:
        if subject not in entities:
            entities[subject] = Entity(subject)
            if gid := geonames_id(subject):
                entities[subject].geonames_ids.add(gid)
        return entities[subject]

    for subject, predicate, term in triples:
        predicate = canonical_iri(predicate)
        value = canonical_iri(term.value) if term.is_iri else term.value
        if predicate in LATITUDE_PREDICATES or predicate in LONGITUDE_PREDICATES:
            number = _float(value)
            if number is not None:
                (latitudes if predicate in LATITUDE_PREDICATES else longitudes)[subject].append(number)
            continue
        if predicate == SCHEMA_GEO:
            geo_nodes[subject].add(value)
            continue
        if subject.startswith("_:"):
            continue
        if predicate in LABEL_PREDICATES and not term.is_iri:
            label = Label(value.strip(), term.language)
            if label.text and label not in entity(subject).labels:
                entity(subject).labels.append(label)
        elif predicate in TYPE_PREDICATES and term.is_iri:
            entity(subject).types.add(value)
        elif predicate in GEONAMES_CLASS_PREDICATES and term.is_iri and value.startswith(GN):
            entity(subject).geonames_classes.add(value[len(GN) :])
        elif predicate in CODE_PREDICATES or predicate == WIKIDATA_DIVISION_CODE:
            code = normalize_division_code(value, predicate == WIKIDATA_DIVISION_CODE)
            if code:
                entity(subject).codes.add(code)
        elif predicate == WIKIDATA_GEONAMES_ID and value.strip().isdigit():
            entity(subject).geonames_ids.add(value.strip())
        elif predicate in IDENTITY_PREDICATES and term.is_iri:
            entity(subject).identity_links.add(value)
            if gid := geonames_id(value):
                entity(subject).geonames_ids.add(gid)
        elif predicate in CLOSE_PREDICATES and term.is_iri:
            entity(subject).close_links.add(value)
            if gid := geonames_id(value):
                entity(subject).close_geonames_ids.add(gid)
        elif predicate in WKT_PREDICATES and (point := parse_wkt_point(value)):
            entity(subject).points.append(point)
    for subject in set(latitudes) | set(geo_nodes):
        if subject.startswith("_:"):
            continue
        for node in {subject} | geo_nodes.get(subject, set()):
            if len(latitudes.get(node, ())) == 1 and len(longitudes.get(node, ())) == 1:
                point = (latitudes[node][0], longitudes[node][0])
                if point not in entity(subject).points:
                    entity(subject).points.append(point)
    return entities


def canonical_iri(iri: str) -> str:
    """schema.org IRIs in their ``http`` form, which the tables here use.

    >>> canonical_iri("https://schema.org/name")
    'http://schema.org/name'
    """
    return "http://" + iri[len("https://") :] if iri.startswith("https://schema.org/") else iri


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
