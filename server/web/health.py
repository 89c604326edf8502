"""Liveness and readiness probes, apart from the resource IRIs."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from govkg.web.store import EXTENSION_KEY

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():  # noqa: ANN201
    """Alive: the process answers."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():  # noqa: ANN201
    """Ready: the knowledge graph is loaded; 503 otherwise."""
    loaded = current_app.extensions.get(EXTENSION_KEY)
    if loaded is None:
        return jsonify(status="loading"), 503
    return jsonify(
        status="ready",
        dataset_version=loaded.dataset_version,
        store=loaded.backend.kind,
        quads=loaded.backend.quad_count(),
    )
