"""The errors a request can end in, raised by every layer and answered by :mod:`govkg.web.errors`.

No Flask here: the store, the SPARQL executor and the CLI raise these too. Each class says
what went wrong, not how HTTP words it: the web layer's error table is the one place that
gives each its status (a view may still name a status for an error of its own).
"""

from __future__ import annotations


class ClientError(Exception):
    """A request refused with a message the client should see (a bad request, unless said otherwise)."""

    status: int | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class QueryRefused(ClientError):
    """The query asks for something this endpoint does not do (an update, an off-list SERVICE)."""


class QueryTimedOut(ClientError):
    """The query ran past its time limit and was stopped."""


class QueryOutOfMemory(ClientError):
    """The query passed the ``query_memory_limit`` of its query process, which the OS ended."""


class ServerBusy(ClientError):
    """No capacity to answer now; the client may try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreFailed(ClientError):
    """The triple store behind the endpoint (or a SERVICE it called) failed or cannot be reached."""


class InternalError(ClientError):
    """An unexpected failure; its message is safe to show and the details were logged."""
