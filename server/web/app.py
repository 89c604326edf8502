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
    from govkg.web.forms import GovkgRequest

    # Static files are served by the assets blueprint, under content-hashed names.
    app = Flask(__name__, static_folder=None)
    app.request_class = GovkgRequest  # the same form pairs, read several times faster
    settings = load_settings(config)
    app.config.update({name.upper(): value for name, value in settings.items()})
    app.config["GOVKG_SETTINGS"] = settings

    from govkg.sparql import outbound_guard
    from govkg.web import errors, i18n, store

    # The engine may connect only to allowed SERVICE endpoints, whatever a query says
    # (:mod:`govkg.sparql.outbound_guard`); the process keeps the guard for its lifetime.
    try:
        outbound_guard.install(settings["service_allowlist"])
    except outbound_guard.GuardUnavailable as reason:
        if settings["service_allowlist"]:
            raise outbound_guard.GuardUnavailable(
                f"service_allowlist needs the outbound guard, unavailable here ({reason}); "
                "leave service_allowlist empty to serve without SERVICE calls"
            ) from None
        app.logger.warning("Outbound guard unavailable (%s); every SERVICE call is refused.", reason)
    store.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    from govkg.web import sparql_lean

    sparql_lean.install(app)  # the common /sparql POST, answered the same way before Flask
    return app


def _blueprints() -> list:
    """One blueprint per concern; each module exposes ``blueprint``."""
    from govkg.web import (
        assets,  # /static/…: hashed names, long cache, compressed once
        compression,  # gzip for every answer
        dumps,  # /dumps/
        health,  # /healthz, /readyz
        home,  # /: the overview for people who do not write SPARQL
        metadata,  # /.well-known/void, /catalog
        openapi,  # /openapi.json
        query_page,  # /query
        resources,  # /id/…, /eli/…, /graph/…, /ontology: every IRI under the base
        search,  # /search: full-text search over labels, descriptions and quotes
        sparql_protocol,  # /sparql
        stored_query_api,  # /queries/
    )

    return [
        health.blueprint,
        assets.blueprint,
        resources.blueprint,
        sparql_protocol.blueprint,
        compression.blueprint,
        home.blueprint,
        query_page.blueprint,
        stored_query_api.blueprint,
        openapi.blueprint,
        dumps.blueprint,
        metadata.blueprint,
        search.blueprint,
    ]
