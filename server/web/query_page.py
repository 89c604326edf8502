"""The query page at ``/query``: a SPARQL editor with the competency questions as one-click examples.

The page is a plain form that works without JavaScript (submitting it with a
format redirects to ``/sparql``); ``static/query.js`` enhances it: it runs the
query in place, shows the results as a table whose IRIs link to their resource
pages and show their labels, offers the downloads and a share link, and reports
errors, time-outs and truncation. Everything the script needs is embedded as JSON
in a ``<script type="application/json">`` element, so the page runs under a
``default-src 'self'`` Content-Security-Policy, with no inline script or style.

Known prefixes (``serialize.project_prefixes``) need no ``PREFIX`` line: when a
query is run, a line is prepended for each known prefix that it uses without
declaring it (:func:`govkg.sparql.text.complete_prefixes`, mirrored in the script).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from govkg.errors import ClientError
from govkg.graph.stored_queries import StoredQuery, load_stored_queries
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS, content_type
from govkg.rdf.routes import SPARQL_ENDPOINT, rule
from govkg.rdf.serialize import project_prefixes
from govkg.sparql.text import complete_prefixes
from govkg.store.loaded import LoadedGraph
from govkg.store.service_description import service_description_quads
from govkg.web.assets import asset_url
from govkg.web.i18n import HTML_LANGUAGE, chosen_language, lang_url, messages, page_language
from govkg.web.page_model import LABEL_PREDICATES, pick_literal
from govkg.web.responses import app_cache, conditional, install_cache, security_headers, vary
from govkg.web.store import loaded_graph
from govkg.web.term_labels import known_terms, term_label

blueprint = Blueprint("query_page", __name__)

ELI_TITLE = "http://data.europa.eu/eli/ontology#title"
RDF_TYPE_NODE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


#: The editor's text when no query is given, by page language.
STARTER_QUERY = {
    "en": """\
# Everything with a label. Known prefixes such as rdfs: and gov: need no PREFIX line.
SELECT ?thing ?label
WHERE {
  ?thing rdfs:label ?label .
}
LIMIT 25
""",
    "zh": """\
# 所有带名称的资源。rdfs:、gov: 等已知前缀无需写 PREFIX。
SELECT ?thing ?label
WHERE {
  ?thing rdfs:label ?label .
}
LIMIT 25
""",
}


@blueprint.record_once
def _check_stored_queries(state) -> None:  # noqa: ANN001
    """Read the stored queries at start-up, so a malformed one stops the server with its file and line."""
    load_stored_queries()
    install_cache(state.app, "query_page")


def html_response(html: str) -> Response:
    """An HTML page with the security headers; it varies with the request's languages."""
    response = Response(html, status=200)
    response.headers["Content-Type"] = content_type("text/html")
    vary(response, "Accept-Language")
    return security_headers(response)  # the site's one Content-Security-Policy: default-src 'self'…


def sparql_url(**params: str) -> str:
    """The URL of the SPARQL endpoint (relative to the site), with ``params`` as its query string.

    >>> from flask import Flask
    >>> with Flask(__name__).test_request_context("/"):
    ...     sparql_url(query="ASK {}", format="json")
    '/sparql?query=ASK+%7B%7D&format=json'
    """
    url = request.script_root + rule(SPARQL_ENDPOINT)
    return f"{url}?{urlencode(params)}" if params else url


def format_choices() -> dict[str, list[dict[str, str]]]:
    """The download formats, straight from the format registry: results formats and RDF formats."""

    def describe(fmt: Any) -> dict[str, str]:
        return {
            "name": fmt.name,
            "label": fmt.label,
            "media_type": fmt.media_type,
            "extension": fmt.extension,
        }

    return {"results": [describe(f) for f in RESULTS_FORMATS], "rdf": [describe(f) for f in RDF_FORMATS]}


def editor_text(text: str, prefixes: dict[str, str]) -> str:
    """A stored query as the editor shows it: without its ``#+`` header (the page shows the
    question beside the editor) and without the ``PREFIX`` lines the page declares by itself.

    >>> editor_text("#+ summary: x\\n#+ tags:\\n#+   - a\\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\\n"
    ...             "PREFIX ex: <http://example.org/>\\n\\nSELECT * {}\\n", {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"})
    'PREFIX ex: <http://example.org/>\\n\\nSELECT * {}\\n'
    """
    lines = text.splitlines(keepends=True)
    kept = []
    for line in lines:
        if line.startswith("#+"):
            continue
        declared = _PREFIX_LINE.fullmatch(line.strip())
        if declared and prefixes.get(declared["name"]) == declared["iri"]:
            continue
        kept.append(line)
    return "".join(kept).lstrip("\n")


_PREFIX_LINE = re.compile(r"PREFIX\s+(?P<name>[A-Za-z][\w.-]*)?:\s*<(?P<iri>[^>]*)>", re.IGNORECASE)


def example_view(query: StoredQuery, base_iri: str, language: str) -> dict[str, Any]:
    """What the page shows of one stored query: summaries (page language first) and its text."""
    text = editor_text(query.bound_text(base_iri), project_prefixes(base_iri))
    summaries = [("en", query.summary), ("zh", query.summary_zh)]
    chinese_description = query.description_zh if language == "zh" else ""
    if language == "zh":
        summaries.reverse()
    return {
        "name": query.name,
        "summary": summaries[0][1],
        "summary_lang": HTML_LANGUAGE[summaries[0][0]],
        "other_summary": summaries[1][1],
        "other_summary_lang": HTML_LANGUAGE[summaries[1][0]],
        # The Chinese page says it in Chinese when the query's header does (every shipped one).
        "description": chinese_description if chinese_description else query.description,
        "description_lang": "zh-Hans" if chinese_description else "en",
        "tags": list(query.tags),
        "federated": query.federated,
        "text": text,
        "href": lang_url(url_for("query_page.query_page", query=text)),
    }


@blueprint.get("/query")
def query_page() -> Response:
    """The SPARQL query page; ``?query=`` fills (and, with JavaScript, runs) the editor.

    With ``&format=NAME`` as well (the form submitted without JavaScript), it
    redirects to ``/sparql`` with the query, its known prefixes declared.
    """
    loaded = loaded_graph()
    prefixes = project_prefixes(loaded.base_iri)
    language = page_language()
    settings = current_app.config["GOVKG_SETTINGS"]
    examples = [example_view(query, loaded.base_iri, language) for query in load_stored_queries()]
    query_text = shared_query(request.args, examples, settings["max_query_bytes"])
    format_name = request.args.get("format")
    if format_name is not None:
        return _redirect_to_endpoint(query_text, format_name, prefixes)
    shown_text = STARTER_QUERY[language] if query_text is None else query_text
    current = next((example for example in examples if example["text"] == shown_text), None)
    page_data = {
        "language": language,
        "chosen_language": chosen_language(),
        "endpoint": sparql_url(),
        "page_path": url_for("query_page.query_page"),
        "completions_path": url_for("query_page.completions"),
        # The editor (CodeMirror, 364 KB): fetched once the page has painted, so neither its
        # download nor its start holds up the first paint; the textarea works until it is on.
        "editor_script": asset_url("vendor/editor.js"),
        # Loaded only when a graph answer is switched to its graph view (442 KB, mostly unused).
        "graph_script": asset_url("vendor/graph.js"),
        # Loaded when a result is first drawn as a chart.
        "charts_script": asset_url("vendor/charts.js"),
        "base_iri": loaded.base_iri,
        "prefixes": prefixes,
        "query_timeout": settings["query_timeout"],
        "max_result_rows": settings["max_result_rows"],
        "formats": format_choices(),
        "examples": [
            {
                "name": example["name"],
                "text": example["text"],
                "summary": example["summary"],
                "summary_lang": example["summary_lang"],
                "description": example["description"],
                "description_lang": example["description_lang"],
            }
            for example in examples
        ],
        "messages": messages(language),
        "run_on_load": query_text is not None,
        "view": shared_view(request.args),
    }
    html = render_template(
        "query_page.html",
        examples=examples,
        current_example=current,
        query_text=shown_text,
        prefixes=prefixes,
        formats=format_choices(),
        page_data=page_data,
    )
    return html_response(html)


#: The form's choice of CSV for Excel: ``/sparql``'s CSV with ``bom=1``.
EXCEL_CSV = "csv-excel"
#: The views a share link can ask for, after the answer: the table, a chart, a graph drawing.
SHARED_VIEWS = ("table", "bar", "line", "graph")
_COLUMN_NAME = re.compile(r"[A-Za-z0-9_\u00b7\u0300-\u036f\u203f-\u2040\u00c0-\uffff-]{1,100}")


def pack_query(text: str) -> str:
    """A query as a share link's ``z`` parameter: raw DEFLATE, then base64url without padding
    (what the page's script makes with ``CompressionStream("deflate-raw")``).

    >>> pack_query("SELECT * WHERE { ?s ?p ?o }")
    'C3b1cXUOUdBSCPdwDXJVqFawL1awL1Cwz1eoBQA'
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(text.encode()) + compressor.flush()
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def unpack_query(packed: str, max_bytes: int) -> str:
    """The query of a share link's ``z`` parameter; a :class:`ClientError` (400) if the link is
    damaged or the query longer than ``max_bytes`` (so a small link cannot inflate to gigabytes).

    >>> unpack_query(pack_query("SELECT ?零 {}"), 1000)
    'SELECT ?零 {}'
    >>> unpack_query("not a query", 1000)
    Traceback (most recent call last):
    ...
    govkg.errors.ClientError: This link's query is damaged: copy the whole link again.
    """
    try:
        data = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        inflater = zlib.decompressobj(wbits=-15)
        text = inflater.decompress(data, max_bytes + 1)
        if len(text) > max_bytes:
            raise ClientError(f"The query of this link is longer than {max_bytes} bytes.", 413)
        if not inflater.eof:
            raise ValueError("truncated")
        return text.decode("utf-8")
    except (ValueError, zlib.error):  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ClientError("This link's query is damaged: copy the whole link again.") from None


def shared_query(args: Mapping[str, str], examples: list[dict[str, Any]], max_bytes: int) -> str | None:
    """The query a link asks for: ``example=NAME`` (a stored question), ``z=`` (a packed
    query, :func:`unpack_query`) or ``query=`` (its text); ``None`` if none."""
    if "example" in args:
        found = next((example for example in examples if example["name"] == args["example"]), None)
        if found is None:
            raise ClientError(
                f"There is no stored question named {args['example']!r}; /queries/ lists them.", 404
            )
        return found["text"]
    if "z" in args:
        return unpack_query(args["z"], max_bytes)
    return args.get("query")


def shared_view(args: Mapping[str, str]) -> dict[str, str | None]:
    """The view a share link asks for: ``view`` (table, bar, line, graph) and, for a chart, the
    ``value`` and ``category`` columns (variable names without ``?``)."""
    kind = args.get("view", "table")
    if kind not in SHARED_VIEWS:
        raise ClientError(f"view must be one of {', '.join(SHARED_VIEWS)}.")
    columns = {name: args.get(name) for name in ("value", "category")}
    for name, column in columns.items():
        if column is not None and not _COLUMN_NAME.fullmatch(column):
            raise ClientError(f"{name} must name a column of the answer (a variable, without ?).")
    return {"kind": kind, **columns}


@blueprint.get("/query/completions.json")
def completions() -> Response:
    """What the editor suggests: the known prefixes, the ``gov:`` terms and the labelled
    resources under the base, each with its label in the page language (built once per version)."""
    loaded = loaded_graph()
    language = page_language()
    data = app_cache("query_page").get(
        loaded.dataset_version,
        ("completions", language),
        lambda: completion_items(
            loaded, language, service_description_quads(loaded, current_app.config["GOVKG_SETTINGS"])
        ),
    )
    response = Response(json.dumps(data, ensure_ascii=False), headers={"Content-Type": "application/json"})
    vary(response, "Accept-Language")
    return conditional(security_headers(response), loaded, f"completions-{language}")


def completion_items(loaded: LoadedGraph, language: str, described: Iterable[ox.Quad] = ()) -> dict[str, Any]:
    """The editor's completions, labels in ``language`` first.

    * ``prefixes``: every prefix the server knows (name -> IRI);
    * ``terms``: prefixed names in every one of those namespaces — the ``gov:`` ontology's
      terms, the standard-vocabulary terms :mod:`govkg.web.term_labels` names, and every
      predicate and class the article's graphs and ``described`` (the service description:
      ``sd:``) use — each with its label;
    * ``resources``: IRIs under the base, one entry per label in each language (so a
      regulation completes from its Chinese title as well as its English name).
    """
    store = loaded.store
    prefixes = project_prefixes(loaded.base_iri)
    graphs = [loaded.graph_iri(slug) for slug in ("ontology", "facts", "links")]
    label_predicates = {*LABEL_PREDICATES, ox.NamedNode(ELI_TITLE)}
    labels: dict[str, list[ox.Literal]] = {}
    used: set[str] = set()
    for graph in graphs:
        for quad in store.quads_for_pattern(None, None, None, graph):
            used.add(quad.predicate.value)
            if quad.predicate == RDF_TYPE_NODE and isinstance(quad.object, ox.NamedNode):
                used.add(quad.object.value)
            if (
                quad.predicate in label_predicates
                and isinstance(quad.subject, ox.NamedNode)
                and isinstance(quad.object, ox.Literal)
            ):
                labels.setdefault(quad.subject.value, []).append(quad.object)
    for quad in described:
        used.add(quad.predicate.value)
        if quad.predicate == RDF_TYPE_NODE and isinstance(quad.object, ox.NamedNode):
            used.add(quad.object.value)
    ontology_namespace = prefixes["gov"]
    used.update(iri for iri in labels if iri.startswith(ontology_namespace) and iri != ontology_namespace)
    terms = []
    for iri in sorted(used | known_terms()):
        name = _prefixed_name(iri, prefixes)
        if name is None:
            continue
        best = pick_literal(labels.get(iri, []), language)
        label = best.value if best is not None else term_label(iri, language) or ""
        terms.append({"name": name, "label": label})
    resources = []
    for iri, literals in sorted(labels.items()):
        if not iri.startswith(loaded.base_iri) or iri.startswith(ontology_namespace):
            continue
        best = pick_literal(literals, language)
        ordered = [best] + sorted(
            {lit for lit in literals if lit != best}, key=lambda lit: (lit.language or "", lit.value)
        )
        seen = set()
        for literal in ordered:
            if literal is None or literal.value in seen:
                continue
            seen.add(literal.value)
            resources.append({"iri": iri, "label": literal.value, "lang": literal.language or None})
    return {"prefixes": prefixes, "terms": terms, "resources": resources}


def _prefixed_name(iri: str, prefixes: dict[str, str]) -> str | None:
    """``iri`` as ``prefix:local`` with the longest matching namespace, if the local part is a plain name.

    >>> _prefixed_name("http://www.w3.org/2004/02/skos/core#prefLabel", {"skos": "http://www.w3.org/2004/02/skos/core#"})
    'skos:prefLabel'
    >>> _prefixed_name("http://example.org/x", {"skos": "http://www.w3.org/2004/02/skos/core#"}) is None
    True
    """
    best = max((ns for ns in prefixes.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return None
    local = iri[len(best) :]
    if not _LOCAL_NAME.fullmatch(local):
        return None
    return next(name for name, ns in prefixes.items() if ns == best) + ":" + local


_LOCAL_NAME = re.compile(r"[A-Za-z_][\w.-]*(?<!\.)")


def _redirect_to_endpoint(query_text: str | None, format_name: str, prefixes: dict[str, str]) -> Response:
    if not query_text or not query_text.strip():
        raise ClientError("Write a query first: the query parameter is empty.")
    known_formats = {fmt.name for fmt in (*RESULTS_FORMATS, *RDF_FORMATS)} | {EXCEL_CSV}
    if format_name not in known_formats:
        raise ClientError(f"format must be one of {', '.join(sorted(known_formats))}.")
    completed, _ = complete_prefixes(query_text, prefixes)
    if format_name == EXCEL_CSV:  # the standard CSV, with the byte-order mark Excel needs
        return redirect(sparql_url(query=completed, format="csv", bom="1"), code=303)
    return redirect(sparql_url(query=completed, format=format_name), code=303)
