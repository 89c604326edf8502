"""Static files: content-hashed names cached for a year, compressed once.

Pages link every static file through ``asset_url("query.js")``, which names its content:
``/static/query.3f9a0c1b2d4e.js``. That URL can never hold other bytes, so it is sent with
``Cache-Control: public, max-age=31536000, immutable`` and a phone fetches it once; a new
release links new names. The plain name (``/static/query.js``) still answers, with
``no-cache``, for links kept from elsewhere; a hashed name that is not the current content
is 404 (the page that named it is stale, and its reload names the new file).

Compression happens once per process, never per request: a ``.br`` file beside a bundle
(written by ``npm run build``) is sent to clients that accept Brotli; gzip (level 9) is made
in memory the first time a file is asked for, and kept. The files are small (about 1.5 MB
with the bundles), so the registry keeps them in memory.

Why not a library: WhiteNoise serves only files that exist under their hashed names (its
hashing is Django's storage), and Flask-Static-Digest writes hashed copies into the package
with a CLI step. Here the hash is computed from the files at start (a few milliseconds),
so an installed package, a checkout and a hand edit of ``query.js`` all serve correct names.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request, url_for
from govkg.web.compression import compressible, gzip_accepted
from werkzeug.exceptions import NotFound

blueprint = Blueprint("assets", __name__)

STATIC_FOLDER = Path(__file__).resolve().parent / "static"
#: A year: the longest lifetime RFC 9111 caches are asked to honour; the name changes with the bytes.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Plain names are revalidated on every use (an ETag makes that a 304).
REVALIDATE = "no-cache"
_HASHED_NAME = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")
#: Files beside a static file that hold it compressed (written by the front-end build).
_PRECOMPRESSED = {".br": "br"}


def hashed_name(name: str, digest: str) -> str:
    """The content-hashed name of the static file ``name``.

    >>> hashed_name("vendor/charts.js", "0123456789ab")
    'vendor/charts.0123456789ab.js'
    >>> hashed_name("favicon.svg", "0123456789ab")
    'favicon.0123456789ab.svg'
    """
    folder, _, file = name.rpartition("/")
    stem, dot, suffix = file.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot else f"{file}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def brotli_accepted(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` names Brotli with a non-zero quality (``*`` is not taken for it).

    >>> brotli_accepted("gzip, deflate, br, zstd"), brotli_accepted("br;q=0"), brotli_accepted("*")
    (True, False, False)
    """
    for item in (accept_encoding or "").split(","):
        coding, *params = item.split(";")
        if coding.strip().lower() != "br":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


@dataclass
class StaticFile:
    """One static file: its bytes, their digest, and its compressed forms (made on first use)."""

    name: str
    data: bytes
    digest: str
    media_type: str
    encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def url_name(self) -> str:
        return hashed_name(self.name, self.digest)


class AssetRegistry:
    """The static files of one app, read and hashed once at start."""

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, StaticFile] = {}
        self._lock = threading.Lock()
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix in _PRECOMPRESSED:
                continue
            name = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            static_file = StaticFile(name, data, hashlib.sha256(data).hexdigest()[:12], media_type)
            for suffix, coding in _PRECOMPRESSED.items():
                sibling = path.with_name(path.name + suffix)
                if sibling.is_file():
                    static_file.encoded[coding] = sibling.read_bytes()
            self.files[name] = static_file

    def gzipped(self, static_file: StaticFile) -> bytes:
        """The gzip form of ``static_file``, made once."""
        with self._lock:
            if "gzip" not in static_file.encoded:
                compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
                static_file.encoded["gzip"] = compressor.compress(static_file.data) + compressor.flush()
            return static_file.encoded["gzip"]


def registry() -> AssetRegistry:
    """The current app's :class:`AssetRegistry`."""
    return current_app.extensions["govkg.assets"]


def asset_url(name: str) -> str:
    """The URL of the static file ``name`` under its content-hashed name (a long-cached URL)."""
    static_file = registry().files.get(name)
    if static_file is None:
        raise KeyError(f"no static file {name!r}")
    return url_for("static", filename=static_file.url_name)


@blueprint.record_once
def _install(state) -> None:  # noqa: ANN001
    app: Flask = state.app
    app.extensions["govkg.assets"] = AssetRegistry(STATIC_FOLDER)
    app.jinja_env.globals["asset_url"] = asset_url
    # Flask's own name for the route, so ``url_for("static", filename=…)`` keeps working (plain name).
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=static_asset)


def static_asset(filename: str) -> Response:
    """A static file: by its content-hashed name (cached for a year) or its plain name (revalidated)."""
    files = registry().files
    cache_control = REVALIDATE
    found = files.get(filename)
    if found is None:
        match = _HASHED_NAME.match(filename)
        if match is not None:
            found = files.get(match["stem"] + match["suffix"])
            if found is not None and found.digest != match["digest"]:
                found = None
            cache_control = IMMUTABLE
    if found is None:
        raise NotFound("No such static file.")
    accept_encoding = request.headers.get("Accept-Encoding")
    coding, body = None, found.data
    if "br" in found.encoded and brotli_accepted(accept_encoding):
        coding, body = "br", found.encoded["br"]
    elif compressible(found.media_type) and len(found.data) > 512 and gzip_accepted(accept_encoding):
        coding, body = "gzip", registry().gzipped(found)
    textual = found.media_type.startswith("text/") or found.media_type.endswith(
        ("javascript", "json", "+xml")
    )
    response = Response(body, content_type=found.media_type + ("; charset=utf-8" if textual else ""))
    if coding is not None:
        response.headers["Content-Encoding"] = coding
    if compressible(found.media_type):
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    response.set_etag(f"{found.digest}-{coding or 'identity'}")
    return response.make_conditional(request)


@blueprint.after_app_request
def _revalidate_html(response: Response) -> Response:
    """HTML pages are revalidated on every use (an ETag makes that a 304): they name the assets."""
    if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = REVALIDATE
    return response
