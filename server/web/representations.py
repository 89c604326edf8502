"""The representations of a resource: which IRI paths are valid, which document an extension or
``Accept`` header picks (HTML or one of the triple formats), and the headers every
representation carries (``Content-Location``, ``Link`` to the alternates, ``Vary``, ETag).

The dereferencing policy is told in :mod:`govkg.web.resources`, which routes to these.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

import pyoxigraph as ox
from flask import Response, request
from govkg.rdf.formats import RDF_FORMATS, RdfFormat
from govkg.rdf.serialize import serialize_triples
from govkg.store.loaded import LoadedGraph
from govkg.web.i18n import PAGE_LANGUAGES
from govkg.web.negotiation import negotiate
from govkg.web.responses import app_cache, conditional, link_header, security_headers, vary
from werkzeug.exceptions import NotAcceptable

HTML = "text/html"
#: A resource's description is one graph, so the formats that carry named graphs are not offered.
TRIPLE_FORMATS: tuple[RdfFormat, ...] = tuple(fmt for fmt in RDF_FORMATS if not fmt.carries_graphs)
MAX_IRI_PATH_LENGTH = 1024

# RFC 3987 ``ipchar`` plus "/": iunreserved, sub-delims, ":", "@", "%" (checked below) and ucschar.
_IRI_PATH_CHARACTER = re.compile(
    "[A-Za-z0-9\\-._~!$&'()*+,;=:@/%"
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd]"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# --- IRIs and paths -------------------------------------------------------------------------


def iri_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be the path of an IRI under the base, or ``None`` if it can.

    >>> iri_path_problem("place/zhaoqing") is None
    True
    >>> iri_path_problem("place/肇庆") is None
    True
    >>> iri_path_problem("a/../b")
    "the path segment '..' is not allowed"
    >>> iri_path_problem("x<script>")
    "the character '<' is not allowed in an IRI path"
    >>> iri_path_problem("nul\\x00")
    "the character '\\\\x00' is not allowed in an IRI path"
    >>> iri_path_problem("100%")
    "'%' must start a percent-encoded octet"
    """
    if len(path) > MAX_IRI_PATH_LENGTH:
        return f"the path is longer than {MAX_IRI_PATH_LENGTH} characters"
    for character in path:
        if not _IRI_PATH_CHARACTER.fullmatch(character):
            return f"the character {character!r} is not allowed in an IRI path"
    if _BAD_PERCENT.search(path):
        return "'%' must start a percent-encoded octet"
    for segment in path.split("/"):
        if segment in (".", ".."):
            return f"the path segment {segment!r} is not allowed"
    return None


def document_name(local_path: str, extension: str) -> str:
    """The relative reference of one representation of a resource: ``./<last segment>.<ext>``.

    Relative, so it is right whatever host or proxy serves the page; ``./`` keeps a
    segment containing ``:`` from reading as a scheme.

    >>> document_name("id/place/zhaoqing", "ttl")
    './zhaoqing.ttl'
    >>> document_name("id/place/肇庆", "html")
    './%E8%82%87%E5%BA%86.html'
    """
    last = local_path.rsplit("/", 1)[-1]
    return "./" + quote(f"{last}.{extension}", safe="!$&'()*+,;=:@-._~%")


def split_extension(local_path: str) -> tuple[str, str | None]:
    """``("id/x", "ttl")`` for ``id/x.ttl`` when ``ttl`` names a page format; else ``(path, None)``.

    >>> split_extension("id/place/zhaoqing.jsonld")
    ('id/place/zhaoqing', 'jsonld')
    >>> split_extension("id/place/zhaoqing")
    ('id/place/zhaoqing', None)
    """
    stem, dot, extension = local_path.rpartition(".")
    if dot and "/" not in extension and extension in EXTENSIONS:
        return stem, extension
    return local_path, None


EXTENSIONS = {fmt.extension: fmt for fmt in TRIPLE_FORMATS} | {"html": None}


# --- negotiation ------------------------------------------------------------------------------


def offered_media_types() -> list[str]:
    """HTML first (what a bare ``*/*`` gets), then each triple format and its aliases."""
    offered = [HTML]
    for fmt in TRIPLE_FORMATS:
        offered.append(fmt.media_type)
    for fmt in TRIPLE_FORMATS:
        offered.extend(fmt.aliases)
    return offered


def choose_representation(extension: str | None) -> RdfFormat | None:
    """The RDF format to send (``None`` for HTML): the extension's, else the ``Accept`` header's.

    Raises 406 when the client accepts none of them.
    """
    if extension is not None:
        return EXTENSIONS[extension]
    chosen = negotiate(request.headers.get("Accept"), offered_media_types())
    if chosen is None:
        available = ", ".join(offered_media_types()[: 1 + len(TRIPLE_FORMATS)])
        raise NotAcceptable(f"This resource is available as {available}.")
    if chosen == HTML:
        return None
    return next(fmt for fmt in TRIPLE_FORMATS if chosen in (fmt.media_type, *fmt.aliases))


def alternates(local_path: str) -> list[tuple[str, str, str]]:
    """``(href, label, media type)`` of every RDF form of the resource at ``local_path``."""
    return [(document_name(local_path, fmt.extension), fmt.label, fmt.media_type) for fmt in TRIPLE_FORMATS]


def rdf_response(
    triples: Iterable[ox.Triple] | Callable[[], Iterable[ox.Triple]],
    fmt: RdfFormat,
    loaded: LoadedGraph,
    local_path: str,
    negotiated: bool,
) -> Response:
    """The triples in ``fmt``. Given a function instead (whole graphs: the ontology, a named
    graph), it is called and its serialization kept, once per dataset version."""
    if callable(triples):
        build = triples
        data = app_cache("resources").get(
            loaded.dataset_version,
            ("rdf", local_path, fmt.name),
            lambda: serialize_triples(build(), fmt, loaded.base_iri),
        )
    else:
        data = serialize_triples(triples, fmt, loaded.base_iri)
    response = Response(data, headers={"Content-Type": fmt.content_type})
    return representation_headers(response, loaded, local_path, fmt.extension, negotiated, fmt.name)


def representation_headers(
    response: Response, loaded: LoadedGraph, local_path: str, extension: str, negotiated: bool, variant: str
) -> Response:
    """Headers of one representation of the resource at ``{base}{local_path}``.

    ``Content-Location`` (when the representation was negotiated), ``Link`` to the
    alternates, ``Vary``, the security headers, and a strong ETag for conditional GET.
    """
    if negotiated:
        response.headers["Content-Location"] = document_name(local_path, extension)
    response.headers["Link"] = link_header(
        [(href, "alternate", media_type) for href, _, media_type in alternates(local_path)]
        + [(document_name(local_path, "html"), "alternate", HTML)]
    )
    vary(response, "Accept", "Accept-Language")
    security_headers(response)
    # The path may hold any IRI character; an ETag must be ASCII, so it carries a digest.
    path_digest = hashlib.sha256(local_path.encode("utf-8")).hexdigest()[:16]
    return conditional(response, loaded, f"{path_digest}-{variant}")


def language_links(local_path: str) -> list[tuple[str, str]]:
    name = document_name(local_path, "html")
    return [(f"{name}?lang={lang}", {"en": "English", "zh": "中文"}[lang]) for lang in PAGE_LANGUAGES]
