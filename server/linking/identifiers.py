"""Codes, identifiers and coordinates as link discovery compares them.

GB/T 2260 division codes in their canonical digits, GeoNames IDs from GeoNames
IRIs, WKT points and the distance between two points.
"""

from __future__ import annotations

import math
import re

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
