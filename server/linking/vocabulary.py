"""What link discovery reads of a resource: the predicates that describe it, and the families of its classes.

Both datasets are read through these tables: labels, types, codes, identifiers,
coordinates and the links already made (the predicates), and the classes of the
vocabularies we and the usual hubs use, each in a family (:data:`CLASS_FAMILIES`)
whose parents (:data:`FAMILY_PARENTS`) say what is broader than what.
"""

from __future__ import annotations

from typing import NamedTuple

from govkg.rdf.namespaces import CV, DBO, FOAF, GEOSPARQL, GN, ORG, OWL, RDF, RDFS, SCHEMA, SKOS, WD, WDT
from govkg.rdf.namespaces import DCT as DCTERMS

# -- predicates --------------------------------------------------------------------------------

WGS84 = "http://www.w3.org/2003/01/geo/wgs84_pos#"

RDF_TYPE = RDF + "type"
OWL_SAME_AS = OWL + "sameAs"
SKOS_EXACT_MATCH = SKOS + "exactMatch"
SKOS_CLOSE_MATCH = SKOS + "closeMatch"

LABEL_PREDICATES = (
    RDFS + "label",
    SKOS + "prefLabel",
    SKOS + "altLabel",
    SCHEMA + "name",
    FOAF + "name",
    GN + "name",
    GN + "alternateName",
    GN + "officialName",
    GN + "shortName",
)
TYPE_PREDICATES = (RDF_TYPE, WDT + "P31")
GEONAMES_CLASS_PREDICATES = (GN + "featureClass", GN + "featureCode")
# Codes in their full form only; Wikidata's P442 may also drop trailing zeros (see below).
CODE_PREDICATES = (SKOS + "notation", DCTERMS + "identifier")
WIKIDATA_DIVISION_CODE = WDT + "P442"
WIKIDATA_GEONAMES_ID = WDT + "P1566"
WIKIDATA_COORDINATES = WDT + "P625"
IDENTITY_PREDICATES = (OWL_SAME_AS, SKOS_EXACT_MATCH)
CLOSE_PREDICATES = (SKOS_CLOSE_MATCH,)
LATITUDE_PREDICATES = (WGS84 + "lat", SCHEMA + "latitude")
LONGITUDE_PREDICATES = (WGS84 + "long", SCHEMA + "longitude")
WKT_PREDICATES = (WIKIDATA_COORDINATES, GEOSPARQL + "asWKT")
SCHEMA_GEO = SCHEMA + "geo"

#: Every predicate an entity description is built from.
DESCRIPTION_PREDICATES = (
    LABEL_PREDICATES
    + TYPE_PREDICATES
    + GEONAMES_CLASS_PREDICATES
    + CODE_PREDICATES
    + (WIKIDATA_DIVISION_CODE, WIKIDATA_GEONAMES_ID)
    + IDENTITY_PREDICATES
    + CLOSE_PREDICATES
    + LATITUDE_PREDICATES
    + LONGITUDE_PREDICATES
    + WKT_PREDICATES
    + (SCHEMA_GEO,)
)

# -- type families -------------------------------------------------------------------------------

#: The parent of each family of classes; a family without a parent is a root.
FAMILY_PARENTS: dict[str, str | None] = {
    "place": None,
    "country": "place",
    "admin-area": "place",
    "populated-place": "place",
    "facility": "place",
    "natural-feature": "place",
    "organization": None,
    "public-organization": "organization",
    "company": "organization",
    "media-organization": "organization",
    "creative-work": None,
    "periodical": "creative-work",
    "software": None,
    "concept": None,
    "person": None,
}

#: Classes of the vocabularies we and the usual hubs use, by family. Wikidata classes are
#: compared as given (``P31``, without walking ``P279``), so the common ones are listed.
CLASS_FAMILIES: dict[str, str] = {
    # places
    SCHEMA + "Place": "place",
    WGS84 + "SpatialThing": "place",
    GN + "Feature": "place",
    DBO + "Place": "place",
    DCTERMS + "Location": "place",
    WD + "Q2221906": "place",  # geographic location
    SCHEMA + "Country": "country",
    DBO + "Country": "country",
    WD + "Q6256": "country",  # country
    WD + "Q3624078": "country",  # sovereign state
    SCHEMA + "AdministrativeArea": "admin-area",
    SCHEMA + "State": "admin-area",
    DBO + "AdministrativeRegion": "admin-area",
    WD + "Q56061": "admin-area",  # administrative territorial entity
    WD + "Q1615742": "admin-area",  # province of China
    WD + "Q748149": "admin-area",  # prefecture-level city (of China)
    SCHEMA + "City": "populated-place",
    DBO + "City": "populated-place",
    DBO + "Settlement": "populated-place",
    WD + "Q515": "populated-place",  # city
    WD + "Q486972": "populated-place",  # human settlement
    WD + "Q3957": "populated-place",  # town
    WD + "Q532": "populated-place",  # village
    SCHEMA + "CivicStructure": "facility",
    SCHEMA + "TrainStation": "facility",
    SCHEMA + "LandmarksOrHistoricalBuildings": "facility",
    DBO + "Station": "facility",
    WD + "Q55488": "facility",  # railway station
    # organisations
    ORG + "Organization": "organization",
    ORG + "FormalOrganization": "organization",
    ORG + "OrganizationalUnit": "organization",
    SCHEMA + "Organization": "organization",
    FOAF + "Organization": "organization",
    DBO + "Organisation": "organization",
    WD + "Q43229": "organization",  # organization
    CV + "PublicOrganisation": "public-organization",
    SCHEMA + "GovernmentOrganization": "public-organization",
    DBO + "GovernmentAgency": "public-organization",
    WD + "Q327333": "public-organization",  # government agency
    WD + "Q2659904": "public-organization",  # government organization
    SCHEMA + "Corporation": "company",
    DBO + "Company": "company",
    WD + "Q4830453": "company",  # business
    WD + "Q783794": "company",  # company
    SCHEMA + "NewsMediaOrganization": "media-organization",
    # works
    SCHEMA + "CreativeWork": "creative-work",
    WD + "Q11424": "creative-work",  # film
    SCHEMA + "Newspaper": "periodical",
    SCHEMA + "Periodical": "periodical",
    DBO + "Newspaper": "periodical",
    WD + "Q11032": "periodical",  # newspaper
    SCHEMA + "SoftwareApplication": "software",
    SCHEMA + "MobileApplication": "software",
    DBO + "Software": "software",
    WD + "Q7397": "software",  # software
    # concepts and people
    SKOS + "Concept": "concept",
    SCHEMA + "Person": "person",
    FOAF + "Person": "person",
    DBO + "Person": "person",
    WD + "Q5": "person",  # human
}

#: GeoNames feature classes (the letter before the dot of a feature code) by family.
GEONAMES_CLASS_FAMILIES = {
    "A": "admin-area",
    "P": "populated-place",
    "S": "facility",
    "R": "facility",
    "H": "natural-feature",
    "T": "natural-feature",
    "U": "natural-feature",
    "V": "natural-feature",
    "L": "place",
}


class TypeRelation(NamedTuple):
    """How two families relate when neither is the other's: a weight and whether to link."""

    weight: float
    linkable: bool
    why: str


#: Pairs of families that are neither the same nor broader/narrower but not unrelated either.
FAMILY_RELATIONS: dict[frozenset[str], TypeRelation] = {
    frozenset({"admin-area", "populated-place"}): TypeRelation(
        0.15, True, "a city as an administrative area and as a settlement"
    ),
    frozenset({"admin-area", "country"}): TypeRelation(0.0, False, "a country and a subdivision"),
    frozenset({"media-organization", "periodical"}): TypeRelation(
        0.05, False, "an organisation and its publication"
    ),
    frozenset({"media-organization", "company"}): TypeRelation(0.1, True, "a media company"),
}


def family_root(family: str) -> str:
    """The root of a family of classes.

    >>> family_root("admin-area"), family_root("concept")
    ('place', 'concept')
    """
    while (parent := FAMILY_PARENTS[family]) is not None:
        family = parent
    return family
