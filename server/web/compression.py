"""gzip for every textual response of the app, when the client accepts it.

An ``after_app_request`` hook: it compresses bodies of at least :data:`MIN_SIZE` bytes whose
media type is text, JSON, XML or any format of the registry (N-Triples and the ``;charset``
types included), unless the response is streamed, already encoded, or marked
``no-transform``. Such responses always get ``Vary: Accept-Encoding``; a strong ETag becomes
weak, since the bytes differ by encoding.
"""

from __future__ import annotations

import zlib

from flask import Blueprint, Response, request
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS
from govkg.web.responses import vary

blueprint = Blueprint("compression", __name__)

MIN_SIZE = 512
_COMPRESSIBLE = frozenset(
    [fmt.media_type for fmt in (*RDF_FORMATS, *RESULTS_FORMATS)]
    + [alias for fmt in (*RDF_FORMATS, *RESULTS_FORMATS) for alias in fmt.aliases]
    + ["application/json", "application/javascript", "application/xml", "image/svg+xml"]
)


def compressible(media_type: str) -> bool:
    """Whether a media type is worth compressing.

    >>> compressible("application/n-triples"), compressible("text/html"), compressible("image/png")
    (True, True, False)
    >>> compressible("application/problem+json")
    True
    """
    return (
        media_type in _COMPRESSIBLE
        or media_type.startswith("text/")
        or media_type.endswith(("+json", "+xml"))
    )


def gzip_accepted(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (RFC 9110 §12.5.3; ``q=0`` means no).

    >>> gzip_accepted("gzip, deflate, br"), gzip_accepted("br;q=1, gzip;q=0.5")
    (True, True)
    >>> gzip_accepted("gzip;q=0, *"), gzip_accepted("*;q=0.1"), gzip_accepted("identity"), gzip_accepted(None)
    (False, True, False, False)
    """
    exact: float | None = None
    wildcard: float | None = None
    for item in (accept_encoding or "").split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            exact = q if exact is None else max(exact, q)
        elif coding == "*":
            wildcard = q
    quality = exact if exact is not None else wildcard
    return quality is not None and quality > 0


@blueprint.after_app_request
def compress(response: Response) -> Response:
    """Gzip ``response`` in place when it is worth it and the client accepts it."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code in (204, 206, 304)
        or response.status_code < 200
        or "Content-Encoding" in response.headers
        or "no-transform" in response.headers.get("Cache-Control", "")
        or not compressible(response.mimetype or "")
    ):
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    vary(response, "Accept-Encoding")
    if not gzip_accepted(request.headers.get("Accept-Encoding")):
        return response
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip container, 32 KiB window
    response.set_data(compressor.compress(data) + compressor.flush())
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response
