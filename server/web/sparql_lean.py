"""The common ``/sparql`` request answered before Flask: the same answer, without the framework's work.

Most SPARQL clients POST one query as a form (``query=…``) and ask for one format. For such a
request, Flask's request and response objects, URL matching, request context and hooks cost
about as much CPU as evaluating a small query. :class:`LeanSparql` wraps the app's WSGI callable
(``app.wsgi_app``, Flask's middleware hook) and answers exactly that request itself, through the
same functions as the Flask view (:mod:`govkg.web.sparql_protocol`): the same checks
(:func:`govkg.sparql.executor.check_query`), negotiation, answer key and result cache, the same
backend call with its time, memory and row limits, the same headers (``X-Govkg-*``, ``Vary``,
CORS, ``nosniff``) and gzip as the app's hooks give it.

Everything else goes to Flask untouched: any other path or method, a GET (its ETag and
conditional answer), a body that is not a plain UTF-8 form or is larger than the body limit, a
``query`` in the URL too, any protocol parameter besides ``query`` (``default-graph-uri``,
``named-graph-uri``, ``format``, ``output``, ``timeout``, ``bom``, ``update``), and any query
the checks refuse or whose format cannot be negotiated — Flask then answers it from the start,
the body replayed. A query that fails while it runs (503 at its time limit or memory bound, an
evaluation error) is not run again: Flask answers that very error (:data:`PENDING_ERROR`), with
its error page and headers.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from govkg.rdf.routes import SPARQL_ENDPOINT, endpoint_url, rule
from govkg.sparql.executor import check_query, plan_query
from govkg.web import sparql_protocol as protocol
from govkg.web.compression import MIN_SIZE, compressible, gzip_accepted
from govkg.web.forms import parse_urlencoded
from govkg.web.store import EXTENSION_KEY

PENDING_ERROR = protocol.PENDING_ERROR  # the error of a query it ran, for Flask to answer

_PATH = rule(SPARQL_ENDPOINT)
#: Parameters that change the answer: a request with any of them goes to Flask.
_OTHER_PARAMETERS = frozenset(
    {"update", "default-graph-uri", "named-graph-uri", "format", "output", "timeout", "bom"}
)
_FORM_TYPES = frozenset(
    {
        protocol.FORM_URLENCODED,
        f"{protocol.FORM_URLENCODED}; charset=utf-8",
        f"{protocol.FORM_URLENCODED};charset=utf-8",
        f"{protocol.FORM_URLENCODED}; charset=UTF-8",
    }
)
_STATUS_OK = "200 OK"

StartResponse = Callable[..., Any]


class LeanSparql:
    """WSGI middleware: the common ``/sparql`` POST answered here, everything else by ``wrapped``."""

    def __init__(self, wrapped: Callable[[dict, StartResponse], Iterable[bytes]], app: Flask) -> None:
        self.wrapped = wrapped
        self.app = app

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != _PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("QUERY_STRING")
            or environ.get("CONTENT_TYPE") not in _FORM_TYPES
        ):
            return self.wrapped(environ, start_response)
        settings = self.app.config["GOVKG_SETTINGS"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 <= length <= protocol.body_limit(settings):
            return self.wrapped(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # for Flask, should it answer after all
        pairs = parse_urlencoded(body)
        if pairs is None or len(body) != length:
            return self.wrapped(environ, start_response)
        query = None
        for name, value in pairs:
            if name == "query":
                if query is not None:
                    return self.wrapped(environ, start_response)
                query = value
            elif name in _OTHER_PARAMETERS:
                return self.wrapped(environ, start_response)
        if query is None:
            return self.wrapped(environ, start_response)
        answered = self._answer(environ, settings, query)
        if answered is None:
            return self.wrapped(environ, start_response)
        status, headers, body = answered
        start_response(status, headers)
        return [body]

    def _answer(self, environ: dict, settings: dict, query: str) -> tuple[str, list, bytes] | None:
        """The answer's status, headers and body; ``None`` to let Flask answer."""
        loaded = self.app.extensions[EXTENSION_KEY]
        base_iri = endpoint_url(loaded.base_iri)  # service_description.endpoint_iri(loaded)
        try:
            checked = check_query(query, settings, base_iri)
        except Exception:  # noqa: BLE001 - Flask checks it again and answers the refusal
            return None
        if checked.form is None:
            return None
        fmt = protocol.choose_format(checked.form, environ.get("HTTP_ACCEPT"))
        if fmt is None:
            return None
        job = plan_query(query, settings, base_iri, fmt.name, (), (), checked).job
        answer_key = protocol.answer_key_of(job, checked.service_calls)
        cache = self.app.extensions[protocol.RESULT_CACHE]
        cache_key = (loaded.dataset_version, answer_key)
        answer = cache.get(cache_key) if answer_key is not None else None
        cache_status = "hit" if answer is not None else "miss" if answer_key is not None else "none"
        if answer is None:
            loaded.backend.start_request()
            try:
                answer = loaded.backend.run_query(job, settings["query_timeout"])
            except Exception as error:  # noqa: BLE001 - Flask answers it, as for its own view
                environ[PENDING_ERROR] = error
                return None
            if answer_key is not None:
                cache.put(cache_key, answer, len(answer.body))
        body = answer.body
        vary = "Accept, Origin"
        encoding = None
        if len(body) >= MIN_SIZE and compressible(fmt.media_type):
            vary = "Accept, Accept-Encoding, Origin"
            if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING")):
                compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
                body = compressor.compress(body) + compressor.flush()
                encoding = "gzip"
        headers = [
            ("Content-Type", fmt.content_type),
            ("Content-Length", str(len(body))),
            (protocol.MAX_ROWS_HEADER, str(settings["max_result_rows"])),
            (protocol.TRUNCATED_HEADER, "true" if answer.truncated else "false"),
            (protocol.CACHE_HEADER, cache_status),
            ("Vary", vary),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", protocol.EXPOSED_HEADERS),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if encoding is not None:
            headers.append(("Content-Encoding", encoding))
        return _STATUS_OK, headers, body


def install(app: Flask) -> None:
    """Answer the common ``/sparql`` request of ``app`` before Flask (see the module docstring)."""
    app.wsgi_app = LeanSparql(app.wsgi_app, app)  # type: ignore[method-assign]
