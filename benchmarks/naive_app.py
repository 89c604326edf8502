"""The naive peer: a bare Flask + pyoxigraph SPARQL endpoint, what the engine and Flask cost alone.

No time limit, no row cap, no SERVICE allowlist, no negotiation beyond the query form, no
cache: it is the floor a Python web layer over pyoxigraph can reach, not a server to deploy.
``benchmarks/run.py`` serves it with gunicorn, 2 sync workers, the store loaded before the fork:

    NAIVE_DATA=bench.nt:article.nq gunicorn -w 2 --preload -b 127.0.0.1:8000 benchmarks.naive_app:app

N-Triples files go to the default graph, N-Quads keep their graphs; queries see the union of all.
"""

from __future__ import annotations

import os

import pyoxigraph as ox
from flask import Flask, Response, request

store = ox.Store()
for path in filter(None, os.environ.get("NAIVE_DATA", "").split(os.pathsep)):
    rdf_format = ox.RdfFormat.N_QUADS if path.endswith(".nq") else ox.RdfFormat.N_TRIPLES
    store.bulk_load(path=path, format=rdf_format)

app = Flask(__name__)

SELECT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
}


def pick(accept: str, offers: dict) -> tuple[str, object]:
    """The first offered media type named in Accept, else the first offer (no q-values)."""
    for media_type, fmt in offers.items():
        if media_type in accept:
            return media_type, fmt
    return next(iter(offers.items()))


@app.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    query = request.values.get("query")
    if not query:
        return Response("no query\n", 400, mimetype="text/plain")
    try:
        result = store.query(query, use_default_graph_as_union=True)
    except SyntaxError as error:
        return Response(f"{error}\n", 400, mimetype="text/plain")
    accept = request.headers.get("Accept", "")
    if isinstance(result, ox.QueryTriples):
        media_type, fmt = pick(accept, GRAPH_TYPES)
    else:
        media_type, fmt = pick(accept, SELECT_TYPES)
    return Response(result.serialize(format=fmt), mimetype=media_type)


@app.route("/readyz")
def ready() -> Response:
    return Response("ok\n", mimetype="text/plain")
