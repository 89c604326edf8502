"""The one error table: domain exceptions and HTTP errors become client answers here.

Views and the layers below raise (:mod:`govkg.errors`); this module decides the body.
No traceback or exception text of an unexpected error ever reaches a client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from govkg.errors import (
    ClientError,
    InternalError,
    QueryOutOfMemory,
    QueryRefused,
    QueryTimedOut,
    ServerBusy,
    StoreFailed,
)
from govkg.sparql.executor import QueryTooLarge
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: The HTTP status of each domain error (the most specific class wins); a ClientError
#: raised by a view with a status of its own keeps it.
STATUS_OF_ERROR: dict[type[ClientError], int] = {
    QueryRefused: 403,
    QueryTooLarge: 413,
    QueryTimedOut: 503,
    QueryOutOfMemory: 503,
    ServerBusy: 503,
    StoreFailed: 502,
    InternalError: 500,
    ClientError: 400,
}


#: Seconds a client is told to wait (``Retry-After``) after a 503 that does not say otherwise.
RETRY_AFTER = 2

#: Why a 503 was sent, for clients that advise differently (the query page): sent as
#: :data:`ERROR_KIND_HEADER`. Every 503 carries ``Retry-After``, so that header cannot tell a
#: query stopped at its limit from a busy server.
ERROR_KIND_HEADER = "X-Govkg-Error"
ERROR_KINDS: dict[type[ClientError], str] = {
    QueryTimedOut: "timed-out",
    QueryOutOfMemory: "out-of-memory",
    ServerBusy: "busy",
}


def status_of(error: ClientError) -> int:
    """The HTTP status that answers ``error``.

    >>> status_of(QueryTimedOut("slow")), status_of(ClientError("bad")), status_of(ClientError("no", 415))
    (503, 400, 415)
    """
    if error.status is not None:
        return error.status
    return next(status for kind, status in STATUS_OF_ERROR.items() if isinstance(error, kind))


def error_response(status: int, message: str) -> Response:
    """A plain-text (or JSON or, for a browser, HTML in its language) error body with the given status."""
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "text/html"])
    if best == "text/html":
        from govkg.web.responses import html_page  # the page has the site's menu and security headers

        response = html_page("error.html", status=status, message=message)
        response.headers["Vary"] = "Accept, Accept-Language"
        return response
    if best == "application/json":
        response = jsonify(error=message, status=status)
    else:
        response = Response(message + "\n", mimetype="text/plain")
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the error table on ``app``, and ``nosniff`` on every response (errors, static files too)."""

    @app.after_request
    def _nosniff(response: Response) -> Response:
        # Browsers must not guess a type: a query answer or an error echoing the query is never HTML.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(ClientError)
    def _client_error(error: ClientError) -> Response:
        response = error_response(status_of(error), error.message)
        if response.status_code == 503:  # every 503 says when to come back
            response.headers["Retry-After"] = str(getattr(error, "retry_after", RETRY_AFTER))
        kind = next((kind for cls, kind in ERROR_KINDS.items() if isinstance(error, cls)), None)
        if kind is not None:
            response.headers[ERROR_KIND_HEADER] = kind
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, error.description or error.name)
        for header in ("Allow", "Retry-After"):
            if error.get_response().headers.get(header):
                response.headers[header] = error.get_response().headers[header]
        if response.status_code == 503 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving %s", request.path)
        return error_response(500, "Internal server error; the incident was logged.")
