"""The one error table: domain exceptions and HTTP errors become client answers here.

Views and the layers below raise (:mod:`govkg.errors`); this module decides the body.
No traceback or exception text of an unexpected error ever reaches a client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from govkg.errors import ClientError, InternalError, QueryRefused, QueryTimedOut, ServerBusy, StoreFailed
from govkg.sparql.executor import QueryTooLarge
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: The HTTP status of each domain error (the most specific class wins); a ClientError
#: raised by a view with a status of its own keeps it.
STATUS_OF_ERROR: dict[type[ClientError], int] = {
    QueryRefused: 403,
    QueryTooLarge: 413,
    QueryTimedOut: 503,
    ServerBusy: 503,
    StoreFailed: 502,
    InternalError: 500,
    ClientError: 400,
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
    """A plain-text (or JSON, if preferred) error body with the given status."""
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    if best == "application/json":
        response = jsonify(error=message, status=status)
    else:
        response = Response(message + "\n", mimetype="text/plain")
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the error table on ``app``."""

    @app.errorhandler(ClientError)
    def _client_error(error: ClientError) -> Response:
        response = error_response(status_of(error), error.message)
        if isinstance(error, ServerBusy):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, error.description or error.name)
        for header in ("Allow", "Retry-After"):
            if error.get_response().headers.get(header):
                response.headers[header] = error.get_response().headers[header]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving %s", request.path)
        return error_response(500, "Internal server error; the incident was logged.")
