"""``/openapi.json``: an OpenAPI 3.1 description of this server, generated from the running app.

Every route of the app's URL map is described, so the document cannot miss a
route or list one that does not exist: the SPARQL endpoint, the stored-query
API, health probes and this document in detail, every other route (resource
pages, dumps, metadata) from its view's docstring. Each stored query also gets
its own operation, with its summary, description, tags and parameters, as grlc
builds its API from a folder of queries. The media types come from the format
registry.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from govkg.graph.stored_queries import StoredQuery, load_stored_queries
from govkg.rdf import routes
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS

blueprint = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
TRUNCATED_HEADER = "X-Govkg-Truncated"

#: Tag of the operations of each blueprint (by blueprint name); others use the name itself.
BLUEPRINT_TAGS = {
    "sparql_protocol": "SPARQL",
    "sparql": "SPARQL",
    "stored_query_api": "Stored queries",
    "query_page": "Query page",
    "resources": "Linked data",
    "dumps": "Dumps",
    "metadata": "Metadata",
    "health": "Health",
    "openapi": "API description",
    "search": "Search",
}

_CONVERTER = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")

Operation = dict[str, Any]


def openapi_path(rule: str) -> tuple[str, list[tuple[str, bool]]]:
    """A Flask rule as an OpenAPI path template, with its parameters (name, is a ``path`` converter).

    >>> openapi_path("/queries/<name>.rq")
    ('/queries/{name}.rq', [('name', False)])
    >>> openapi_path("/id/<path:path>")
    ('/id/{path}', [('path', True)])
    """
    parameters = [
        (match.group(1), match.group(0).startswith("<path:")) for match in _CONVERTER.finditer(rule)
    ]
    return _CONVERTER.sub(lambda match: "{" + match.group(1) + "}", rule), parameters


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


_ERROR_MEANINGS = {
    400: "The request is malformed: a bad query, parameter or format; the body says what.",
    404: "No such resource.",
    406: "None of the acceptable media types (Accept) can be produced.",
    413: "The query is longer than the max_query_bytes setting.",
    415: "The request body's media type is not one the endpoint reads.",
    503: "The query took longer than the query_timeout setting and was stopped.",
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


def _results_content(graph: bool | None) -> dict[str, Any]:
    """Response content for a query's answer: results formats, RDF formats, or both (``None``)."""
    formats: list[Any] = []
    if graph is not True:
        formats += RESULTS_FORMATS
    if graph is not False:
        formats += RDF_FORMATS
    content: dict[str, Any] = {}
    for fmt in formats:
        schema: dict[str, Any] = {"type": "string"}
        if fmt.media_type == "application/sparql-results+json":
            schema = {"$ref": "#/components/schemas/SparqlResultsJson"}
        content[fmt.media_type] = {"schema": schema}
    return content


def _format_parameter(graph: bool | None) -> dict[str, Any]:
    names = []
    if graph is not True:
        names += [fmt.name for fmt in RESULTS_FORMATS]
    if graph is not False:
        names += [fmt.name for fmt in RDF_FORMATS]
    return {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "The answer's format by its short name; overrides the Accept header.",
        "schema": {"type": "string", "enum": names},
    }


def _answer_responses(graph: bool | None) -> dict[str, Any]:
    return {
        "200": {
            "description": "The answer: a results table or boolean (SELECT, ASK), "
            "or a graph (CONSTRUCT, DESCRIBE).",
            "headers": {TRUNCATED_HEADER: {"$ref": "#/components/headers/Truncated"}},
            "content": _results_content(graph),
        },
        **_error_responses(400, 406, 503),
    }


def _graph_uri_parameters() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
            "style": "form",
            "explode": True,
        }
        for name, description in (
            ("default-graph-uri", "A graph of the dataset to use as the default graph (repeatable)."),
            ("named-graph-uri", "A graph of the dataset to make available to GRAPH (repeatable)."),
        )
    ]


def sparql_operations() -> dict[str, Operation]:
    """``GET`` and ``POST /sparql`` as the SPARQL 1.1 Protocol defines them."""
    query_parameter = {
        "name": "query",
        "in": "query",
        "required": False,
        "description": "The SPARQL query. Without it, the endpoint describes itself "
        "(SPARQL service description).",
        "schema": {"type": "string"},
        "example": "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } "
        "LIMIT 10",
    }
    form_schema = {
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "description": "The SPARQL query."},
            "default-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
            "named-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
        },
    }
    responses = _answer_responses(None)
    return {
        "get": {
            "operationId": "sparql_query_get",
            "tags": ["SPARQL"],
            "summary": "Run a SPARQL query (query via GET)",
            "description": "SPARQL 1.1 Protocol, query via GET. The answer's format is negotiated from "
            f"Accept, or chosen with format. Results longer than the row limit are cut and flagged with the "
            f"{TRUNCATED_HEADER} header.",
            "parameters": [query_parameter, *_graph_uri_parameters(), _format_parameter(None)],
            "responses": responses,
        },
        "post": {
            "operationId": "sparql_query_post",
            "tags": ["SPARQL"],
            "summary": "Run a SPARQL query (query via POST)",
            "description": "SPARQL 1.1 Protocol, query via URL-encoded POST or via POST directly "
            "(application/sparql-query body, graph parameters in the URL).",
            "parameters": [*_graph_uri_parameters(), _format_parameter(None)],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": form_schema,
                        "encoding": {
                            "default-graph-uri": {"style": "form", "explode": True},
                            "named-graph-uri": {"style": "form", "explode": True},
                        },
                    },
                    "application/sparql-query": {"schema": {"type": "string"}},
                },
            },
            "responses": {**responses, **_error_responses(413, 415)},
        },
    }


def stored_query_operation(query: StoredQuery, base_iri: str, server_url: str) -> Operation:
    """The operation that runs one stored query, built from its ``#+`` header (as grlc does)."""
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"Binds ?_{name} of the query"
            + (" (an absolute http(s) IRI)." if name.endswith("_iri") else "."),
            "schema": {
                "type": "string",
                **({"format": "iri"} if name.endswith("_iri") else {}),
                "default": default,
            },
        }
        for name, default in query.defaults_for(base_iri).items()
    ]
    if query.endpoint_in_url:
        parameters.append(
            {
                "name": "endpoint",
                "in": "query",
                "required": False,
                "description": "The SPARQL endpoint the query's SERVICE calls; "
                "one of the service_allowlist setting.",
                "schema": {"type": "string", "format": "iri", "default": query.service_iri()},
            }
        )
    parameters.append(_format_parameter(query.returns_graph))
    description = f"{query.description}\n\n{query.summary_zh}"
    if query.federated:
        description += (
            "\n\nFederated: runs only where its SERVICE endpoint is in the service_allowlist setting."
        )
    return {
        "operationId": "stored_query_" + re.sub(r"\W", "_", query.name),
        "tags": ["Stored queries", *query.tags],
        "summary": query.summary,
        "description": description,
        "parameters": parameters,
        "responses": _answer_responses(query.returns_graph),
        "externalDocs": {
            "description": "The query's SPARQL text",
            "url": f"{server_url}/queries/{query.name}.rq",
        },
    }


def _name_parameter(names: Sequence[str]) -> dict[str, Any]:
    return {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The stored query's name (its file name without .rq).",
        "schema": {"type": "string", "enum": list(names)},
    }


def detailed_operations(names: Sequence[str]) -> dict[tuple[str, str], Operation]:
    """The operations described by hand, keyed by (OpenAPI path, method)."""
    json_status = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}
    return {
        **{
            (routes.rule(routes.SPARQL_ENDPOINT), method): operation
            for method, operation in sparql_operations().items()
        },
        ("/queries/", "get"): {
            "operationId": "list_stored_queries",
            "tags": ["Stored queries"],
            "summary": "List the stored queries (competency questions)",
            "description": "JSON for programs; an HTML page for browsers (by Accept, or format=html).",
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["json", "html"]},
                    "description": "Overrides the Accept header.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The stored queries, sorted by name.",
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/StoredQuery"}}
                        },
                        "text/html": {"schema": {"type": "string"}},
                    },
                },
                **_error_responses(400, 406),
            },
        },
        ("/queries/{name}", "get"): {
            "operationId": "run_stored_query",
            "tags": ["Stored queries"],
            "summary": "Run a stored query",
            "description": "Answers like /sparql for the stored query's text. Its parameters (listed at "
            "/queries/) are given as query parameters. A browser asking for HTML is redirected (303) to the "
            "query page.",
            "parameters": [_name_parameter(names), _format_parameter(None)],
            "responses": {
                **_answer_responses(None),
                "303": {"description": "To the query page, for a client that prefers text/html."},
                **_error_responses(404),
            },
        },
        ("/queries/{name}.rq", "get"): {
            "operationId": "get_stored_query_text",
            "tags": ["Stored queries"],
            "summary": "The SPARQL text of a stored query",
            "parameters": [_name_parameter(names)],
            "responses": {
                "200": {
                    "description": "The query, header included, with this server's IRIs.",
                    "content": {"application/sparql-query": {"schema": {"type": "string"}}},
                },
                **_error_responses(404),
            },
        },
        ("/", "get"): {
            "operationId": "query_page",
            "tags": ["Query page"],
            "summary": "The SPARQL query page (HTML)",
            "description": "An editor with the stored queries as examples. With query, the page opens with "
            "that query (and runs it); with query and format as well, it redirects (303) to /sparql with the "
            "query's known prefixes declared, which is how the page works without JavaScript.",
            "parameters": [
                {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
                _format_parameter(None),
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "The page language; overrides Accept-Language.",
                    "schema": {"type": "string", "enum": ["en", "zh"]},
                },
            ],
            "responses": {
                "200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                "303": {"description": "To /sparql, when format is given."},
                **_error_responses(400),
            },
        },
        ("/healthz", "get"): {
            "operationId": "healthz",
            "tags": ["Health"],
            "summary": "Liveness: the process answers",
            "responses": {
                "200": {"description": "Alive.", "content": {"application/json": {"schema": json_status}}}
            },
        },
        ("/readyz", "get"): {
            "operationId": "readyz",
            "tags": ["Health"],
            "summary": "Readiness: the knowledge graph is loaded",
            "responses": {
                "200": {"description": "Ready.", "content": {"application/json": {"schema": json_status}}},
                "503": {
                    "description": "Still loading.",
                    "content": {"application/json": {"schema": json_status}},
                },
            },
        },
        ("/openapi.json", "get"): {
            "operationId": "openapi_document",
            "tags": ["API description"],
            "summary": "This OpenAPI document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        },
    }


def _docstring_operation(view: Callable[..., Any], endpoint: str, method: str, path_parameters) -> Operation:  # noqa: ANN001
    """An operation described by its view's docstring: the first line is the summary."""
    doc = inspect.getdoc(view) or ""
    summary, _, rest = doc.partition("\n")
    operation: Operation = {
        "operationId": re.sub(r"\W", "_", f"{endpoint}_{method}"),
        "tags": [BLUEPRINT_TAGS.get(endpoint.split(".")[0], endpoint.split(".")[0])],
        "summary": summary.strip() or endpoint,
        "responses": {"200": {"description": "OK."}, **_error_responses(404, 406)},
    }
    if rest.strip():
        operation["description"] = rest.strip()
    if path_parameters:
        operation["parameters"] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                **({"description": "May contain slashes."} if is_path else {}),
            }
            for name, is_path in path_parameters
        ]
    return operation


def build_openapi(
    app: Flask, queries: Sequence[StoredQuery], server_url: str, base_iri: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``app``, its routes and ``queries``, served at ``server_url``."""
    detailed = detailed_operations([query.name for query in queries])
    paths: dict[str, dict[str, Operation]] = {}
    operation_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint == "static":
            continue
        path, path_parameters = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            method = method.lower()
            if method in paths.get(path, {}):
                continue
            operation = detailed.get((path, method)) or _docstring_operation(
                app.view_functions[rule.endpoint], rule.endpoint, method, path_parameters
            )
            if operation["operationId"] in operation_ids:
                # One view serving several rules (e.g. with and without an extension).
                operation = {**operation, "operationId": re.sub(r"\W+", "_", f"{method}{path}").strip("_")}
            operation_ids.add(operation["operationId"])
            paths.setdefault(path, {})[method] = operation
    if "/queries/{name}" in paths:
        for query in queries:
            paths[f"/queries/{query.name}"] = {"get": stored_query_operation(query, base_iri, server_url)}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "govkg",
            "version": _package_version(),
            "summary": "The Zhaoqing rule-of-law knowledge graph: SPARQL endpoint, stored queries, "
            "linked data.",
            "description": "Facts of one Xijiang Daily (西江日报) report on the rule-of-law government of "
            "Zhaoqing (肇庆市), each with the words of the article that state it, as linked data with a "
            "SPARQL 1.1 endpoint. Data under CC BY 4.0.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "SPARQL", "description": "The SPARQL 1.1 query endpoint."},
            {"name": "Stored queries", "description": "The competency questions, as ready-made queries."},
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {
                "StoredQuery": _stored_query_schema(),
                "SparqlResultsJson": {
                    "type": "object",
                    "description": "SPARQL 1.1 Query Results JSON Format.",
                    "required": ["head"],
                    "properties": {
                        "head": {"type": "object"},
                        "results": {"type": "object"},
                        "boolean": {"type": "boolean"},
                    },
                },
            },
            "headers": {
                "Truncated": {
                    "description": "Present when the answer was cut at the max_result_rows setting.",
                    "schema": {"type": "string"},
                }
            },
            "responses": {f"Error{status}": _text(meaning) for status, meaning in _ERROR_MEANINGS.items()},
        },
    }


def _stored_query_schema() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "type": "object",
        "required": ["name", "summary", "summary_zh", "description", "tags", "form", "links"],
        "properties": {
            "name": string,
            "summary": string,
            "summary_zh": string,
            "description": string,
            "tags": {"type": "array", "items": string},
            "form": {"type": "string", "enum": ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]},
            "federated": {"type": "boolean"},
            "endpoint_in_url": {"type": "boolean"},
            "parameters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": string, "default": string, "kind": {"enum": ["iri", "string"]}},
                },
            },
            "links": {"type": "object", "additionalProperties": True},
        },
    }


def _package_version() -> str:
    try:
        return version("govkg")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """This OpenAPI document."""
    from govkg.web.store import loaded_graph

    document = build_openapi(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        load_stored_queries(),
        request.url_root.rstrip("/"),
        loaded_graph().base_iri,
    )
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
