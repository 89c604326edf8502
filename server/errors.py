"""The one error table: domain exceptions and HTTP errors become client answers here.

Views raise; this module decides the status and the body. No traceback or
exception text of an unexpected error ever reaches a client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ClientError(Exception):
    """A request the server refuses with a message the client should see."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


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
    """Register the error table on ``app``, and ``nosniff`` on every response (errors, static files too)."""

    @app.after_request
    def _nosniff(response: Response) -> Response:
        # Browsers must not guess a type: a query answer or an error echoing the query is never HTML.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.errorhandler(ClientError)
    def _client_error(error: ClientError) -> Response:
        return error_response(error.status, error.message)

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
