"""Response helpers shared by the linked-data blueprints (resource pages, dumps, metadata).

Every HTML page they serve carries the same Content-Security-Policy; every
representation of the data carries an ETag derived from the dataset version and a
Last-Modified from the loaded files, and answers conditional requests with 304.
Values that are expensive to build (dumps, the ontology page) are kept in a
:class:`VersionedCache` attached to the app, built once per dataset version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, render_template, request
from govkg.rdf.formats import content_type
from govkg.store.loaded import LoadedGraph

T = TypeVar("T")

#: Pages load nothing but this site's stylesheet: no inline script or style, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response: Response, csp: str = CONTENT_SECURITY_POLICY) -> Response:
    """Add the CSP, ``nosniff`` and referrer policy to ``response``."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def html_page(template: str, status: int = 200, **context: Any) -> Response:
    """Render ``template`` as a UTF-8 HTML response with the security headers.

    ``status`` is the response's, and the template's variable of that name (an error page shows it).
    """
    response = Response(render_template(template, status=status, **context), status=status)
    response.headers["Content-Type"] = content_type("text/html")
    return security_headers(response)


def conditional(
    response: Response, loaded: LoadedGraph, variant: str, accept_ranges: bool = False, weak: bool = True
) -> Response:
    """Give ``response`` an ETag (dataset version + ``variant``) and Last-Modified, then
    answer ``If-None-Match`` / ``If-Modified-Since`` (304) and, if asked, ``Range`` (206).

    The ETag is weak unless the caller vouches that ``variant`` pins the exact bytes:
    pages and RDF documents are the same statements for one dataset version, but the
    order of blank nodes may differ between worker processes.
    """
    response.set_etag(f"{loaded.dataset_version}-{variant}", weak=weak)
    response.last_modified = loaded.last_modified
    return response.make_conditional(
        request,
        accept_ranges=accept_ranges,
        complete_length=response.content_length if accept_ranges else None,
    )


def vary(response: Response, *headers: str) -> Response:
    """Add request headers to ``Vary`` without repeating any (names are case-insensitive).

    Written as a plain header value: werkzeug's ``response.vary`` parses and rewrites the
    header on every access, which cost a cached SPARQL answer a third of its time.

    >>> vary(Response(), "Accept", "Accept-Language").headers["Vary"]
    'Accept, Accept-Language'
    >>> vary(vary(Response(), "Origin", "accept"), "Accept", "Accept-Encoding").headers["Vary"]
    'accept, Accept-Encoding, Origin'
    """
    names = {name.strip().lower(): name.strip() for name in response.headers.get("Vary", "").split(",")}
    for name in headers:
        names.setdefault(name.lower(), name)
    names.pop("", None)
    response.headers["Vary"] = ", ".join(sorted(names.values(), key=str.lower))
    return response


def link_header(links: Iterable[tuple[str, str, str]]) -> str:
    """An HTTP ``Link`` header value from ``(target, rel, media type)`` triples.

    >>> link_header([("./x.ttl", "alternate", "text/turtle")])
    '<./x.ttl>; rel="alternate"; type="text/turtle"'
    """
    return ", ".join(f'<{target}>; rel="{rel}"; type="{media_type}"' for target, rel, media_type in links)


class VersionedCache:
    """Values built once per ``(dataset version, key)``, thread-safely, on first use.

    One lock per key, so building one dump does not hold up serving another.

    >>> cache = VersionedCache()
    >>> cache.get("v1", "answer", lambda: 42), cache.get("v1", "answer", lambda: 0)
    (42, 42)
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, Hashable], Any] = {}
        self._locks: dict[tuple[str, Hashable], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, version: str, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key`` in ``version``; ``build()`` runs at most once for it."""
        slot = (version, key)
        if slot in self._values:
            return self._values[slot]
        with self._guard:
            lock = self._locks.setdefault(slot, threading.Lock())
        with lock:
            if slot not in self._values:
                self._values[slot] = build()
            return self._values[slot]


def app_cache(name: str) -> VersionedCache:
    """The :class:`VersionedCache` called ``name`` of the current app (made by :func:`install_cache`)."""
    return current_app.extensions[f"govkg.cache.{name}"]


def install_cache(app: Flask, name: str) -> None:
    """Attach a :class:`VersionedCache` called ``name`` to ``app`` (idempotent)."""
    app.extensions.setdefault(f"govkg.cache.{name}", VersionedCache())
