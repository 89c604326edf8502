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
    """A plain-text (or JSON or, for a browser, HTML in its language) error body with the given status."""
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "text/html"])
    if best == "text/html":
        from .responses import html_page  # the page carries the site's menu and the security headers

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
    """Register the error table on ``app``."""

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
