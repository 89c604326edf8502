"""The stored-query API: ``/queries/`` lists the competency questions, ``/queries/NAME`` runs one.

``/queries/NAME`` answers exactly like ``/sparql`` would for the query's text
(content negotiation, ``?format=``, time limit, row cap, ``X-Govkg-Truncated``):
it hands the text to :func:`govkg.web.sparql_protocol.answer_query`. A browser that
prefers HTML is sent to the query page instead, where the same query runs.
``/queries/NAME.rq`` is the query itself, as this server runs it.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from govkg.errors import ClientError
from govkg.graph.stored_queries import ParameterError, StoredQuery, load_stored_queries, queries_by_name
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS
from govkg.rdf.serialize import project_prefixes
from govkg.web.i18n import lang_url
from govkg.web.negotiation import negotiate
from govkg.web.query_page import editor_text, html_response
from govkg.web.store import loaded_graph
from werkzeug.exceptions import NotAcceptable

blueprint = Blueprint("stored_query_api", __name__)

SPARQL_QUERY_MEDIA_TYPE = "application/sparql-query"
_LISTING_TYPES = ("application/json", "text/html")


def _stored_query(name: str) -> StoredQuery:
    query = queries_by_name(load_stored_queries()).get(name)
    if query is None:
        abort(404, description=f"There is no stored query named {name!r}; /queries/ lists them.")
    return query


def _formats_for(query: StoredQuery) -> tuple[Any, ...]:
    return RDF_FORMATS if query.returns_graph else RESULTS_FORMATS


def query_description(query: StoredQuery, base_iri: str) -> dict[str, Any]:
    """One stored query as the JSON listing shows it, with absolute links."""
    results_url = url_for("stored_query_api.run_query", name=query.name, _external=True)
    return {
        "name": query.name,
        "summary": query.summary,
        "summary_zh": query.summary_zh,
        "description": query.description,
        "description_zh": query.description_zh,
        "tags": list(query.tags),
        "form": query.form,
        "federated": query.federated,
        "endpoint_in_url": query.endpoint_in_url,
        "parameters": [
            {"name": name, "default": default, "kind": "iri" if name.endswith("_iri") else "string"}
            for name, default in query.defaults_for(base_iri).items()
        ],
        "links": {
            "results": results_url,
            "text": url_for("stored_query_api.query_text", name=query.name, _external=True),
            "page": url_for(
                "query_page.query_page",
                query=editor_text(query.bound_text(base_iri), project_prefixes(base_iri)),
                _external=True,
            ),
            "formats": {
                fmt.name: url_for(
                    "stored_query_api.run_query", name=query.name, format=fmt.name, _external=True
                )
                for fmt in _formats_for(query)
            },
        },
    }


def _allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/queries/")
def list_queries() -> Response:
    """The stored queries (competency questions): JSON, or an HTML table for browsers.

    The representation is chosen by ``Accept``, or by ``?format=json`` / ``?format=html``.
    """
    requested = request.args.get("format")
    if requested is not None:
        chosen = {"json": "application/json", "html": "text/html"}.get(requested)
        if chosen is None:
            raise ClientError("format must be json or html.")
    else:
        chosen = negotiate(request.headers.get("Accept"), _LISTING_TYPES)
        if chosen is None:
            raise NotAcceptable("The stored queries are listed as application/json or text/html.")
    base_iri = loaded_graph().base_iri
    queries = load_stored_queries()
    if chosen == "application/json":
        response = jsonify([query_description(query, base_iri) for query in queries])
        _allow_any_origin(response)
    else:
        response = html_response(
            render_template(
                "stored_queries.html",
                queries=[query_description(query, base_iri) for query in queries],
                formats={query.name: _formats_for(query) for query in queries},
            )
        )
    response.vary.add("Accept")
    return response


@blueprint.get("/queries/<name>")
def run_query(name: str) -> Response:
    """Run one stored query; the answer's format by ``Accept`` or ``?format=``, as on ``/sparql``.

    Each parameter of the query (see its ``defaults``) may be given as ``?NAME=value``;
    a query with ``endpoint_in_url`` takes ``?endpoint=IRI`` (an allowlisted endpoint).
    A browser asking for HTML is redirected (303) to the query page, which runs it.
    """
    query = _stored_query(name)
    base_iri = loaded_graph().base_iri
    values = {key: request.args[key] for key in query.defaults if key in request.args}
    endpoint = request.args.get("endpoint") if query.endpoint_in_url else None
    if endpoint is not None and endpoint not in current_app.config["GOVKG_SETTINGS"]["service_allowlist"]:
        raise ClientError("endpoint must be one of the SPARQL endpoints of the service_allowlist setting.")
    try:
        text = query.bound_text(base_iri, values, endpoint)
    except ParameterError as error:
        raise ClientError(str(error)) from None
    if "format" not in request.args:
        offered = [fmt.media_type for fmt in _formats_for(query)] + ["text/html"]
        if negotiate(request.headers.get("Accept"), offered) == "text/html":
            shown = editor_text(text, project_prefixes(base_iri))
            response = redirect(lang_url(url_for("query_page.query_page", query=shown)), code=303)
            response.vary.add("Accept")
            return response
    from govkg.web.sparql_protocol import answer_query  # the one query executor, owned by the SPARQL endpoint

    return answer_query(text)  # with the endpoint's CORS and Vary headers


@blueprint.get("/queries/<name>.rq")
def query_text(name: str) -> Response:
    """The text of one stored query (``application/sparql-query``), with this server's IRIs."""
    query = _stored_query(name)
    response = Response(query.text_for(loaded_graph().base_iri).encode("utf-8"))
    # The media type's registration has no parameters: its encoding is always UTF-8.
    response.headers["Content-Type"] = SPARQL_QUERY_MEDIA_TYPE
    response.headers["Content-Disposition"] = f'inline; filename="{query.name}.rq"'
    return _allow_any_origin(response)
