"""The application factory: settings, the loaded graph, the error table and one blueprint per concern."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from govkg.settings import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Settings come from their defaults, then the ``GOVKG_*`` environment variables,
    then ``config`` (a mapping of setting names, as in :mod:`govkg.settings`).
    Each setting is also available as ``app.config[NAME.upper()]``.
    """
    app = Flask(__name__)
    settings = load_settings(config)
    app.config.update({name.upper(): value for name, value in settings.items()})
    app.config["GOVKG_SETTINGS"] = settings

    from govkg.web import errors, store

    store.init_app(app)
    errors.init_app(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    return app


def _blueprints() -> list:
    """One blueprint per concern; each module exposes ``blueprint``."""
    from govkg.web import (
        compression,  # gzip for every answer
        dumps,  # /dumps/
        health,  # /healthz, /readyz
        metadata,  # /.well-known/void, /catalog
        openapi,  # /openapi.json
        query_page,  # /
        resources,  # /id/…, /eli/…, /graph/…, /ontology: every IRI under the base
        sparql_protocol,  # /sparql
        stored_query_api,  # /queries/
    )

    return [
        health.blueprint,
        resources.blueprint,
        sparql_protocol.blueprint,
        compression.blueprint,
        query_page.blueprint,
        stored_query_api.blueprint,
        openapi.blueprint,
        dumps.blueprint,
        metadata.blueprint,
    ]
