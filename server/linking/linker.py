"""Link discovery: propose links from the graph's places, organisations and concepts to another dataset.

``govkg link`` reads another dataset, either an RDF dump (any format of the registry,
gzipped or not) or a SPARQL endpoint, and compares its resources with ours. The links
it is sure of are written as a Turtle linkset with a ``void:Linkset`` per link predicate
and a ``prov:Activity`` for the run. The pairs a person should look at are written as
a CSV of near misses. Nothing is written into ``data/links/``, whose links are curated
by hand: the output is a proposal to review.

The steps:

1. **Describe.** Each resource becomes an :class:`Entity`: labels (``rdfs:label``,
   ``skos:prefLabel``/``altLabel``, ``schema:name``, ``foaf:name``, ``gn:name``,
   ``gn:alternateName``), types (``rdf:type``, Wikidata ``P31``, GeoNames feature class
   and code), GB/T 2260 division codes (``skos:notation``, ``dcterms:identifier``,
   Wikidata ``P442``), GeoNames IDs (``P1566``, ``sws.geonames.org`` IRIs), coordinates
   (``geo:lat``/``geo:long``, ``schema:latitude``/``longitude`` directly or through
   ``schema:geo``, Wikidata ``P625`` WKT) and the links we already have.
2. **Block.** Our resources (a few dozen) are indexed by keys of their normalised labels
   (the name without its administrative suffix, plus its character bigrams or words) and
   by their codes, GeoNames IDs and linked IRIs. Each resource of the other dataset is
   looked up in this index and scored only against ours that share a key, so the work
   grows with the size of the other dataset, not with the product of the two. A dump is
   read once, keeping only the describing predicates. A SPARQL endpoint is asked only for
   the resources whose labels contain one of our names (Simplified and Traditional) or
   that carry one of our codes or IDs, page by page (``ORDER BY`` with ``LIMIT``/
   ``OFFSET``, a bounded number of pages, a timeout per request); a label the endpoint
   spells with other punctuation or in full-width forms is not found that way.
3. **Score.** The evidence is added up; each piece adds a reason shown in the CSV:

   =====================  =========  ================================================
   label similarity       × 0.65     1.0 same normalised label; 0.95 same name without
                                     its administrative suffix; 0.8 the same name with
                                     different suffixes (市 / 县); otherwise 0.9 × the
                                     ``difflib`` ratio of the names
   both scripts agree     + 0.15     a Chinese and a Latin label both match (≥ 0.95)
   types                  + 0.25     the same family (see :data:`CLASS_FAMILIES`)
                          + 0.15     a broader family (``schema:Place`` ~ a city)
                          + 0.15     a city as an administrative area ~ as a settlement
                          − 0.6      incompatible families (a city ~ a railway station)
                          − 0.1      no recognised type, for anything but a concept
   division code          + 0.3      equal GB/T 2260 codes; − 0.5 when both have codes
                                     and none is equal
   GeoNames ID            + 0.3      equal to an ID we hold by ``owl:sameAs``/
                                     ``skos:exactMatch``; + 0.15 to one we hold by
                                     ``skos:closeMatch``; − 0.5 when it differs from one
                                     we hold as identity
   already linked         + 0.3      we already link to this very IRI
   coordinates            + 0.15     within 10 km; − 0.6 more than 100 km apart
                                     (not for countries, whose points are arbitrary)
   =====================  =========  ================================================

   The score reported is the sum clipped to [0, 1], rounded to three places; pairs are
   ranked by the unclipped sum. At the default threshold of 0.8 an exact label is not
   enough: it needs a matching type (0.65 + 0.25), or Chinese and Latin labels that both
   match and no type against it; one piece of contrary evidence (another type, another
   code, 100 km apart) keeps a pair out.
4. **Assign.** Pairs are taken best first. A pair at or above the threshold becomes a
   link when neither of its resources already has a link with that predicate; the
   predicate follows the types (:func:`link_predicate`). A pair that loses to a better
   one, a pair whose types are only related (a newspaper ~ its publisher), and a pair
   between the near-miss floor and the threshold go to the near-miss CSV.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import NamedTuple

import opencc
import pyoxigraph as ox
from govkg.graph.knowledge_graph import DataFileError, graph_parts, load_store, read_quads
from govkg.rdf.formats import rdf_format, rdf_format_for_path
from govkg.rdf.namespaces import (
    CV,
    DBO,
    FOAF,
    GEOSPARQL,
    GN,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOID,
    WD,
    WDT,
    XSD,
)
from govkg.rdf.namespaces import DCT as DCTERMS
from govkg.rdf.serialize import project_prefixes, serialize_quads
from govkg.settings import DEFAULT_BASE_IRI

DEFAULT_THRESHOLD = 0.8
DEFAULT_NEAR_MISS_FLOOR = 0.5
DEFAULT_PAGE_SIZE = 500
DEFAULT_MAX_PAGES = 20
DEFAULT_TIMEOUT = 30.0

#: Our dataset: the subject of every linkset.
OUR_DATASET_PATH = "id/dataset/zhaoqing-rule-of-law"

# -- vocabulary ----------------------------------------------------------------------------------

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

# -- scoring weights -----------------------------------------------------------------------------

LABEL_WEIGHT = 0.65
BOTH_SCRIPTS_BONUS = 0.15
TYPE_SAME = 0.25
TYPE_BROADER = 0.15
TYPE_INCOMPATIBLE = -0.6
TYPE_UNKNOWN = -0.1
CODE_MATCH = 0.3
CODE_CONFLICT = -0.5
GEONAMES_MATCH = 0.3
GEONAMES_CLOSE_MATCH = 0.15
GEONAMES_CONFLICT = -0.5
ALREADY_LINKED = 0.3
NEAR_KM = 10.0
FAR_KM = 100.0
NEAR_BONUS = 0.15
FAR_PENALTY = -0.6


class LinkingError(Exception):
    """Link discovery could not run: a target that cannot be read, a bad option value."""


# -- label normalisation -------------------------------------------------------------------------

#: Administrative suffixes, longest first, and the kind of unit each names. A suffix is
#: stripped only when a name of at least two characters (Chinese) or one word (Latin)
#: remains, so 沙市 or "Shi" alone stay whole.
ZH_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("特别行政区", "sar"),
    ("自治区", "autonomous-region"),
    ("自治州", "autonomous-prefecture"),
    ("自治县", "autonomous-county"),
    ("地区", "prefecture"),
    ("市", "city"),
    ("省", "province"),
    ("区", "district"),
    ("县", "county"),
)
LATIN_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("special administrative region", "sar"),
    ("autonomous region", "autonomous-region"),
    ("prefecture level city", "city"),
    ("prefecture", "prefecture"),
    ("province", "province"),
    ("sheng", "province"),
    ("city", "city"),
    ("shi", "city"),
    ("district", "district"),
    ("county", "county"),
)
# A prefecture and a prefecture-level city name the same level of unit.
_SAME_SUFFIX_KIND = {"prefecture": "city"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@cache
def normalize_label(text: str) -> str:
    """A label reduced for comparison: NFKC, Simplified, case-folded, without accents or punctuation.

    Full-width forms become half-width (NFKC), Traditional characters Simplified
    (OpenCC ``t2s``), tone marks and other accents are dropped, punctuation and
    symbols become spaces, and runs of spaces one space, none next to a Chinese
    character.

    >>> normalize_label("肇慶市")
    '肇庆市'
    >>> normalize_label("  ＺＨＡＯＱＩＮＧ  City ")
    'zhaoqing city'
    >>> normalize_label("Guǎngdōng Shěng")
    'guangdong sheng'
    >>> normalize_label("“西江 日报”")
    '西江日报'
    >>> normalize_label("People's Republic of China")
    'people s republic of china'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _to_simplified().convert(text).casefold()
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    text = "".join(" " if unicodedata.category(char)[0] in "PSZC" else char for char in text)
    words = text.split()
    joined = ""
    for word in words:
        if joined and not (_CJK.match(joined[-1]) or _CJK.match(word[0])):
            joined += " "
        joined += word
    return unicodedata.normalize("NFC", joined)


@cache
def core_name(text: str) -> tuple[str, str | None]:
    """The normalised label without its administrative suffix, and the kind of unit the suffix named.

    >>> core_name("肇慶市")
    ('肇庆', 'city')
    >>> core_name("广西壮族自治区")
    ('广西壮族', 'autonomous-region')
    >>> core_name("Zhaoqing Prefecture-level City")
    ('zhaoqing', 'city')
    >>> core_name("Guangdong Sheng")
    ('guangdong', 'province')
    >>> core_name("沙市")
    ('沙市', None)
    >>> core_name("Shi")
    ('shi', None)
    """
    name = normalize_label(text)
    if _CJK.search(name):
        for suffix, kind in ZH_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                return name[: -len(suffix)], kind
        return name, None
    for suffix, kind in LATIN_SUFFIXES:
        if name.endswith(" " + suffix):
            return name[: -len(suffix) - 1], _SAME_SUFFIX_KIND.get(kind, kind)
    return name, None


def is_chinese(text: str) -> bool:
    """Whether a label is written in Chinese characters (then it is compared only with Chinese labels).

    >>> is_chinese("肇庆市"), is_chinese("Zhaoqing")
    (True, False)
    """
    return bool(_CJK.search(text))


def name_similarity(ours: str, theirs: str) -> tuple[float, str]:
    """How alike two labels are, from 0 to 1, and why.

    >>> name_similarity("肇庆市", "肇慶市")
    (1.0, 'same label')
    >>> name_similarity("广东", "廣東省")
    (0.95, 'same name without the suffix')
    >>> name_similarity("肇庆市", "肇庆县")
    (0.8, 'same name, different suffixes (city / county)')
    >>> name_similarity("Zhaoqing", "Zhaoqing railway station")
    (0.45, 'similar names (ratio 0.50)')
    """
    if normalize_label(ours) == normalize_label(theirs):
        return 1.0, "same label"
    (our_core, our_kind), (their_core, their_kind) = core_name(ours), core_name(theirs)
    if our_core == their_core:
        if our_kind and their_kind and our_kind != their_kind:
            return 0.8, f"same name, different suffixes ({our_kind} / {their_kind})"
        return 0.95, "same name without the suffix"
    ratio = difflib.SequenceMatcher(None, our_core, their_core, autojunk=False).ratio()
    return round(0.9 * ratio, 4), f"similar names (ratio {ratio:.2f})"


#: Words and character pairs too common to block on (every government, every company);
#: names still meet on their other words and on their whole core name.
GENERIC_WORDS = frozenset(
    {"the", "and", "for", "of", "people", "municipal", "government", "company", "limited", "ltd", "co"}
    | {"人民", "政府", "有限", "公司", "中心"}
)


def block_keys(label: str) -> set[str]:
    """The blocking keys of a label: its core name, and its character bigrams or words.

    Two resources are compared only if they share a key. The core name is the key of
    exact matches; bigrams (Chinese) and words of three letters or more (Latin) let
    near misses meet.

    >>> sorted(block_keys("肇慶市"))
    ['=肇庆', '~肇庆']
    >>> sorted(block_keys("Zhaoqing Shi"))
    ['=zhaoqing', '~zhaoqing']
    >>> sorted(block_keys("西江日报"))
    ['=西江日报', '~日报', '~江日', '~西江']
    """
    core, _ = core_name(label)
    if not core:
        return set()
    keys = {"=" + core}
    if is_chinese(core):
        compact = core.replace(" ", "")
        bigrams = {compact[i : i + 2] for i in range(len(compact) - 1)}
        keys.update("~" + bigram for bigram in bigrams - GENERIC_WORDS)
    else:
        keys.update("~" + word for word in core.split() if len(word) >= 3 and word not in GENERIC_WORDS)
    return keys


# -- codes, identifiers, coordinates -------------------------------------------------------------

_SPACED_CODE = re.compile(r"\d{2}(?:[ -]?\d{2}){0,2}(?:[ -]?\d{3}){0,2}")


def normalize_division_code(value: str, trailing_zeros_dropped: bool = False) -> str | None:
    """A GB/T 2260 administrative division code in its canonical digits, or None.

    The canonical form is six digits for provinces, prefectures and counties
    (``441200``), nine for townships and twelve for villages (the statistical codes
    of the National Bureau of Statistics, which pad a prefecture's code with zeros:
    ``441200000000`` is ``441200``). Wikidata's P442 writes the code in groups of two
    digits and drops the trailing zero groups: ``"44 12"`` is the prefecture 441200 and
    ``"44"`` the province 440000. Spaced codes are read that way wherever they appear;
    a bare two- or four-digit code only where ``trailing_zeros_dropped`` says the
    property drops them (P442), because elsewhere it may as well be a year.

    >>> normalize_division_code("44 12"), normalize_division_code("44 12 02")
    ('441200', '441202')
    >>> normalize_division_code("441200"), normalize_division_code("441200000000")
    ('441200', '441200')
    >>> normalize_division_code("44", trailing_zeros_dropped=True)
    '440000'
    >>> normalize_division_code("2019"), normalize_division_code("CN-GD"), normalize_division_code("zq-gov")
    (None, None, None)
    """
    value = value.strip()
    if not _SPACED_CODE.fullmatch(value):
        return None
    digits = re.sub(r"[ -]", "", value)
    if len(digits) in (2, 4) and not (trailing_zeros_dropped or digits != value):
        return None
    if len(digits) in (2, 4):
        return digits.ljust(6, "0")
    if len(digits) == 12 and digits.endswith("000"):
        digits = digits[:9]
    if len(digits) == 9 and digits.endswith("000"):
        digits = digits[:6]
    return digits if len(digits) in (6, 9, 12) else None


def division_code_variants(code: str) -> tuple[str, ...]:
    """The ways a canonical division code is written: itself and Wikidata's spaced form.

    >>> division_code_variants("441200")
    ('441200', '44 12')
    >>> division_code_variants("440000")
    ('440000', '44')
    >>> division_code_variants("441202")
    ('441202', '44 12 02')
    """
    groups = [code[i : i + 2] for i in range(0, 6, 2)] + [code[i : i + 3] for i in range(6, len(code), 3)]
    while len(groups) > 1 and set(groups[-1]) == {"0"}:
        groups.pop()
    return (code, " ".join(groups))


_GEONAMES_IRI = re.compile(r"https?://(?:sws\.|www\.)?geonames\.org/(\d+)(?:/.*)?")


def geonames_id(iri: str) -> str | None:
    """The GeoNames ID of a GeoNames IRI.

    >>> geonames_id("https://sws.geonames.org/1784853/"), geonames_id("http://www.geonames.org/1784853")
    ('1784853', '1784853')
    >>> geonames_id("http://www.wikidata.org/entity/Q148") is None
    True
    """
    match = _GEONAMES_IRI.fullmatch(iri)
    return match.group(1) if match else None


_WKT_POINT = re.compile(
    r"(?:<[^>]*>\s*)?point\s*\(\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s+([-+]?[\d.]+(?:e[-+]?\d+)?)", re.I
)


def parse_wkt_point(text: str) -> tuple[float, float] | None:
    """The (latitude, longitude) of a WKT point, which is written longitude first.

    >>> parse_wkt_point("Point(112.46091 23.04893)")
    (23.04893, 112.46091)
    >>> parse_wkt_point("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POINT(1 2)")
    (2.0, 1.0)
    >>> parse_wkt_point("LINESTRING(1 2, 3 4)") is None
    True
    """
    match = _WKT_POINT.match(text.strip())
    if not match:
        return None
    return float(match.group(2)), float(match.group(1))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points, in kilometres.

    >>> round(distance_km((23.04893, 112.46091), (23.05, 112.467)), 2)
    0.63
    """
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


# -- entities ------------------------------------------------------------------------------------


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
                names.update({core, _to_traditional().convert(core)})
            elif len(core) >= 3:
                names.add(core)
        return names


def family_root(family: str) -> str:
    """The root of a family of classes.

    >>> family_root("admin-area"), family_root("concept")
    ('place', 'concept')
    """
    while (parent := FAMILY_PARENTS[family]) is not None:
        family = parent
    return family


def build_entities(triples: Iterable[Triple]) -> dict[str, Entity]:
    """Describe the IRI subjects of ``triples`` (only the predicates of :data:`DESCRIPTION_PREDICATES` count).

    Coordinates on a ``schema:geo`` node are the subject's own.

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


# -- scoring -------------------------------------------------------------------------------------


class TypeVerdict(NamedTuple):
    """How the types of a pair compare."""

    kind: str  # same, broader, close, related, unknown, incompatible
    weight: float
    reason: str

    @property
    def linkable(self) -> bool:
        """Whether a pair with these types may be linked at all."""
        return self.kind in ("same", "broader", "close", "unknown")


def compare_types(ours: frozenset[str], theirs: frozenset[str]) -> TypeVerdict:
    """Compare two sets of type families; the best pair decides.

    An unrecognised type costs a little, except for our concepts: other datasets seldom
    type their concepts in a way we could recognise.

    >>> compare_types(frozenset({"admin-area"}), frozenset({"admin-area", "populated-place"})).kind
    'same'
    >>> compare_types(frozenset({"admin-area"}), frozenset({"facility"}))
    TypeVerdict(kind='incompatible', weight=-0.6, reason='types incompatible (admin-area / facility)')
    >>> [compare_types(frozenset({family}), frozenset()).weight for family in ("concept", "person")]
    [0.0, -0.1]
    """
    if not ours or not theirs:
        weight = 0.0 if "concept" in ours else TYPE_UNKNOWN
        return TypeVerdict("unknown", weight, "type not recognised")
    best: TypeVerdict | None = None
    for our_family in sorted(ours):
        for their_family in sorted(theirs):
            verdict = _compare_families(our_family, their_family)
            if best is None or verdict.weight > best.weight:
                best = verdict
    assert best is not None
    return best


def _compare_families(ours: str, theirs: str) -> TypeVerdict:
    if ours == theirs:
        return TypeVerdict("same", TYPE_SAME, f"same type ({ours})")
    if FAMILY_PARENTS.get(ours) == theirs or FAMILY_PARENTS.get(theirs) == ours:
        return TypeVerdict("broader", TYPE_BROADER, f"compatible types ({ours} / {theirs})")
    relation = FAMILY_RELATIONS.get(frozenset({ours, theirs}))
    if relation:
        kind = "close" if relation.linkable else "related"
        return TypeVerdict(kind, relation.weight, f"related types: {relation.why} ({ours} / {theirs})")
    return TypeVerdict("incompatible", TYPE_INCOMPATIBLE, f"types incompatible ({ours} / {theirs})")


@dataclass(frozen=True)
class ScoredPair:
    """A pair of resources, its score and the reasons for it."""

    ours: Entity
    theirs: Entity
    raw_score: float
    label_similarity: float
    our_label: Label | None
    their_label: Label | None
    types: TypeVerdict
    negative_evidence: bool
    reasons: tuple[str, ...]

    @property
    def score(self) -> float:
        """The score clipped to [0, 1], rounded to three places."""
        return round(min(1.0, max(0.0, self.raw_score)), 3)


def score_pair(ours: Entity, theirs: Entity) -> ScoredPair:
    """Score one pair of resources (the table in the module's docstring).

    >>> zhaoqing = Entity("https://w3id.org/govkg/id/place/zhaoqing", [Label("肇庆市", "zh"),
    ...     Label("Zhaoqing", "en")], {SCHEMA + "AdministrativeArea"}, codes={"441200"})
    >>> item = Entity(WD + "Q1", [Label("肇慶市", "zh-hant"), Label("Zhaoqing", "en")], {WD + "Q748149"},
    ...     codes={"441200"})
    >>> pair = score_pair(zhaoqing, item)
    >>> pair.score, pair.reasons
    (1.0, ('same label: 肇庆市@zh ~ 肇慶市@zh-hant', 'Chinese and Latin labels both match', \
'same type (admin-area)', 'same division code 441200'))
    >>> station = Entity(WD + "Q2", [Label("肇庆", "zh")], {WD + "Q55488"})
    >>> score_pair(zhaoqing, station).score, score_pair(zhaoqing, station).types.kind
    (0.018, 'incompatible')
    """
    reasons: list[str] = []
    score = 0.0
    negative = False

    similarity, our_label, their_label, why = 0.0, None, None, ""
    best_by_script: dict[bool, float] = {}
    for our in ours.labels:
        for their in theirs.labels:
            chinese = is_chinese(our.text)
            if chinese != is_chinese(their.text):
                continue
            value, reason = name_similarity(our.text, their.text)
            best_by_script[chinese] = max(best_by_script.get(chinese, 0.0), value)
            if value > similarity:
                similarity, our_label, their_label, why = value, our, their, reason
    if our_label is not None:
        score += LABEL_WEIGHT * similarity
        reasons.append(f"{why}: {our_label} ~ {their_label}")
    else:
        reasons.append("no labels in a common script")
    if len(best_by_script) == 2 and min(best_by_script.values()) >= 0.95:
        score += BOTH_SCRIPTS_BONUS
        reasons.append("Chinese and Latin labels both match")

    types = compare_types(ours.families, theirs.families)
    score += types.weight
    reasons.append(types.reason)
    negative |= types.kind == "incompatible"

    if ours.codes and theirs.codes:
        shared = sorted(ours.codes & theirs.codes)
        if shared:
            score += CODE_MATCH
            reasons.append(f"same division code {', '.join(shared)}")
        else:
            score += CODE_CONFLICT
            negative = True
            reasons.append(
                f"division codes differ ({', '.join(sorted(ours.codes))} / {', '.join(sorted(theirs.codes))})"
            )

    already = theirs.iri in ours.identity_links | ours.close_links
    if already:
        score += ALREADY_LINKED
        reasons.append("already linked")
    elif theirs.geonames_ids:
        if ours.geonames_ids & theirs.geonames_ids:
            score += GEONAMES_MATCH
            reasons.append(f"same GeoNames ID {', '.join(sorted(ours.geonames_ids & theirs.geonames_ids))}")
        elif ours.close_geonames_ids & theirs.geonames_ids:
            score += GEONAMES_CLOSE_MATCH
            shared = ", ".join(sorted(ours.close_geonames_ids & theirs.geonames_ids))
            reasons.append(f"GeoNames ID {shared} is a close match of ours")
        elif ours.geonames_ids:
            score += GEONAMES_CONFLICT
            negative = True
            reasons.append("GeoNames IDs differ")

    if ours.points and theirs.points and "country" not in ours.families | theirs.families:
        distance = min(distance_km(a, b) for a in ours.points for b in theirs.points)
        if distance <= NEAR_KM:
            score += NEAR_BONUS
            reasons.append(f"{distance:.1f} km apart")
        elif distance > FAR_KM:
            score += FAR_PENALTY
            negative = True
            reasons.append(f"{distance:.0f} km apart")
        else:
            reasons.append(f"{distance:.0f} km apart (no evidence either way)")

    return ScoredPair(
        ours, theirs, round(score, 4), similarity, our_label, their_label, types, negative, tuple(reasons)
    )


def link_predicate(pair: ScoredPair) -> str:
    """The predicate of a link, chosen by type.

    ``owl:sameAs`` for the same thing (places, organisations, people, works, software of
    the same or a broader family); ``skos:closeMatch`` for closely related things (a
    prefecture-level city and its seat as a settlement) and for resources whose type is
    not recognised; for concepts ``skos:exactMatch`` when a label matches exactly and no
    evidence speaks against it, else ``skos:closeMatch``.
    """
    if "concept" in pair.ours.roots:
        exact = pair.label_similarity >= 0.95 and not pair.negative_evidence
        return SKOS_EXACT_MATCH if exact else SKOS_CLOSE_MATCH
    if pair.types.kind in ("same", "broader"):
        return OWL_SAME_AS
    return SKOS_CLOSE_MATCH


# -- discovery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A proposed link."""

    pair: ScoredPair
    predicate: str


@dataclass(frozen=True)
class NearMiss:
    """A pair for a person to review, and why it was not linked."""

    pair: ScoredPair
    verdict: str


class Blocker:
    """Our resources indexed by blocking key, for streaming the other dataset's past them."""

    def __init__(self, ours: Sequence[Entity]) -> None:
        self.ours = list(ours)
        self.index: dict[str, list[int]] = defaultdict(list)
        for position, entity in enumerate(self.ours):
            for key in entity.keys:
                self.index[key].append(position)

    def candidates(self, theirs: Entity) -> list[Entity]:
        """Our resources that share a key with ``theirs``."""
        positions = {position for key in theirs.keys for position in self.index.get(key, ())}
        return [self.ours[position] for position in sorted(positions)]


def discover(
    ours: Sequence[Entity],
    theirs: Iterable[Entity],
    threshold: float = DEFAULT_THRESHOLD,
    near_miss_floor: float = DEFAULT_NEAR_MISS_FLOOR,
) -> tuple[list[Link], list[NearMiss], int]:
    """Score every candidate pair and assign links one to one per predicate.

    Returns the links, the near misses (best first) and the number of pairs scored.
    """
    blocker = Blocker(ours)
    scored: list[ScoredPair] = []
    compared = 0
    our_iris = {entity.iri for entity in ours}
    for entity in theirs:
        if entity.iri in our_iris:
            continue
        for candidate in blocker.candidates(entity):
            compared += 1
            pair = score_pair(candidate, entity)
            if pair.score >= near_miss_floor:
                scored.append(pair)
    scored.sort(key=lambda pair: (-pair.raw_score, pair.ours.iri, pair.theirs.iri))
    links: list[Link] = []
    near_misses: list[NearMiss] = []
    # (IRI, predicate) -> the IRI it is already linked to, on each side.
    linked_ours: dict[tuple[str, str], str] = {}
    linked_theirs: dict[tuple[str, str], str] = {}
    for pair in scored:
        predicate = link_predicate(pair)
        ours_key, theirs_key = (pair.ours.iri, predicate), (pair.theirs.iri, predicate)
        if pair.score < threshold:
            near_misses.append(NearMiss(pair, "below threshold"))
        elif not pair.types.linkable:
            near_misses.append(NearMiss(pair, "types only related"))
        elif ours_key in linked_ours or theirs_key in linked_theirs:
            winner = linked_ours.get(ours_key) or linked_theirs[theirs_key]
            near_misses.append(NearMiss(pair, f"runner-up to {winner}"))
        else:
            links.append(Link(pair, predicate))
            linked_ours[ours_key], linked_theirs[theirs_key] = pair.theirs.iri, pair.ours.iri
    return links, near_misses, compared


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
    govkg.linking.linker.LinkingError: unknown type 'nope:Thing': give a family (place, organization, ...) \
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


# -- the run and its outputs ---------------------------------------------------------------------

#: Namespaces of well-known datasets: the slug of the dataset and its label.
KNOWN_DATASETS: tuple[tuple[str, str, str], ...] = (
    (WD, "wikidata", "Wikidata"),
    ("https://sws.geonames.org/", "geonames", "GeoNames"),
    ("http://sws.geonames.org/", "geonames", "GeoNames"),
    ("http://dbpedia.org/resource/", "dbpedia", "DBpedia"),
)


@dataclass
class LinkRun:
    """One run of link discovery: its parameters, its results and when it ran."""

    target: str
    target_name: str
    type_filter: str | None
    threshold: float
    near_miss_floor: float
    started: datetime
    ended: datetime
    links: list[Link]
    near_misses: list[NearMiss]
    our_count: int
    their_count: int
    compared: int
    requests: int = 0
    truncated: bool = False

    @cached_property
    def target_dataset(self) -> tuple[str, str, str | None]:
        """The slug and label of the target dataset and its URI space, if it is a known one."""
        iris = [link.pair.theirs.iri for link in self.links] + [
            miss.pair.theirs.iri for miss in self.near_misses
        ]
        for namespace, slug, label in KNOWN_DATASETS:
            if iris and all(iri.startswith(namespace) for iri in iris):
                return slug, label, namespace
        name = self.target_name
        if not is_endpoint(self.target):
            name = re.sub(r"(\.gz)?$", "", name)
            name = name.rsplit(".", 1)[0] if "." in name else name
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "target"
        return slug, self.target_name, None


def run_link_discovery(
    target: str,
    type_filter: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    near_miss_floor: float = DEFAULT_NEAR_MISS_FLOOR,
    data_dir: Path | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LinkRun:
    """Link our resources (the graph of ``data_dir``, by default ``data/``) to the ``target`` dataset.

    ``target`` is a SPARQL endpoint URL or the path of an RDF dump. Raises
    :class:`LinkingError` for anything that stops the run.
    """
    if not 0 <= near_miss_floor <= threshold <= 1:
        raise LinkingError("need 0 <= near-miss floor <= threshold <= 1")
    started = now().replace(microsecond=0)
    parts = graph_parts() if data_dir is None else graph_parts(data_dir=data_dir)
    try:
        store = load_store(DEFAULT_BASE_IRI, parts)
    except DataFileError as error:
        raise LinkingError(str(error)) from None
    ours = our_entities(store, DEFAULT_BASE_IRI, type_filter)
    if not ours:
        raise LinkingError("no resources of ours to link (check --type)")
    client = None
    if is_endpoint(target):
        client = EndpointClient(target, page_size, max_pages, timeout)
        theirs: list[Entity] = endpoint_entities(client, ours)
        target_name = target
    else:
        theirs = list(dump_entities(Path(target)))
        target_name = Path(target).name
    links, near_misses, compared = discover(ours, theirs, threshold, near_miss_floor)
    return LinkRun(
        target=target,
        target_name=target_name,
        type_filter=type_filter,
        threshold=threshold,
        near_miss_floor=near_miss_floor,
        started=started,
        ended=now().replace(microsecond=0),
        links=links,
        near_misses=near_misses,
        our_count=len(ours),
        their_count=len(theirs),
        compared=compared,
        requests=client.log.requests if client else 0,
        truncated=client.log.truncated if client else False,
    )


def software_version() -> str:
    """The installed version of govkg (from the package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govkg")
    except PackageNotFoundError:
        return "unknown"


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
