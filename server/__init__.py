"""govkg: a linked-data knowledge graph of local government reform, with its SPARQL endpoint.

The import package ``govkg`` is the folder ``server/`` of the source tree (see README, "Layout").
Build the web application with :func:`create_app`; nothing is loaded at import time, and
importing ``govkg`` imports no web framework (the CLI's ``dump``, ``query`` and ``validate``
never load Flask).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application (see :func:`govkg.web.app.create_app`)."""
    from govkg.web.app import create_app as build

    return build(config)
