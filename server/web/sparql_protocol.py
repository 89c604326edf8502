"""The SPARQL 1.1 Protocol endpoint, ``/sparql`` (https://www.w3.org/TR/sparql11-protocol/).

Requests
    A query comes by ``GET ?query=…``, by ``POST`` of an ``application/x-www-form-urlencoded``
    form with a ``query`` field, or by ``POST`` of the query itself as
    ``application/sparql-query``; ``; charset=utf-8`` is accepted, any other charset is
    415. ``default-graph-uri`` and ``named-graph-uri`` may repeat. Unknown parameters are
    ignored (SPARQLWrapper sends ``format``, ``output`` and ``results``). A second ``query``
    is 400. ``GET`` with no query returns the service description (browsers, which prefer
    HTML, are redirected with 303 to the query page at ``/``).

Read-only
    Any SPARQL Update — an ``update`` parameter, an ``application/sparql-update`` body, or
    an update operation sent as a query — is refused with **403 Forbidden**: the request
    is well formed, but this endpoint does not allow writes. ``query`` and ``update``
    together are 400.

Dataset
    By default the default graph is the union of all named graphs. ``default-graph-uri`` /
    ``named-graph-uri`` (which take precedence, as the protocol says) or the query's own
    ``FROM`` / ``FROM NAMED`` choose among the graphs in the store; a graph that is not
    there is empty. Nothing is ever fetched or read from files.

Answers
    SELECT and ASK: SPARQL JSON (the default), SPARQL XML, CSV, TSV. CONSTRUCT and
    DESCRIBE: Turtle (the default), N-Triples, JSON-LD, RDF/XML, N-Quads, TriG. The format
    is negotiated from ``Accept`` (:func:`govkg.web.negotiation.negotiate`, RFC 9110), unless a
    ``format`` or ``output`` parameter names a format of the registry that fits the query
    form (a value that does not fit, like SPARQLWrapper's ``format=n3``, is ignored); 406
    lists the acceptable media types when nothing fits. DESCRIBE answers the union of the
    Concise Bounded Descriptions of the described resources, the same as the resource pages.
    ``bom=1`` starts a CSV or TSV answer with a UTF-8 byte-order mark, for spreadsheet
    programs that read Chinese text as UTF-8 only after one (Excel); without it the answer
    is the standard one. Every answer carries ``X-Govkg-Max-Rows`` and ``X-Govkg-Truncated``
    (``true`` when the rows or triples were cut at ``max_result_rows``); every response carries
    ``Vary: Accept, Origin`` and CORS headers.

Time limit
    A query runs for at most ``query_timeout`` seconds, then it is stopped and answered 503.
    A ``timeout`` parameter (seconds) asks for a shorter limit for one query; ``0``, or more than
    ``query_timeout``, means ``query_timeout``.

Caching
    A GET's answer has a weak ETag (dataset version + a hash of the query, format,
    dataset and row limit) and Last-Modified; a conditional GET that matches is answered
    304 *before* the query is evaluated. Each web worker also keeps recent answers
    (:mod:`govkg.sparql.result_cache`, ``result_cache_bytes``) under the same key, so a query
    asked again on the same data is answered without evaluating it. Queries with
    SERVICE, RAND, NOW, UUID or STRUUID get no ETag and are never cached.

Safety: see :mod:`govkg.sparql.executor` (the checks every query passes), :mod:`govkg.sparql.threads`
(the time limit that stops the work, the memory bound), :mod:`govkg.sparql.runner` (the row limit),
:mod:`govkg.sparql.service_check` (the SERVICE allowlist, by whole IRI, on the text the engine
is given) and :mod:`govkg.sparql.outbound_guard` (the engine connects only to the hosts and ports
of allowed endpoints, whatever the check read).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, request
from govkg.errors import ClientError, QueryRefused
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS, RdfFormat, ResultsFormat
from govkg.rdf.routes import SPARQL_ENDPOINT, rule
from govkg.rdf.serialize import serialize_triples
from govkg.sparql.executor import READ_ONLY_MESSAGE, QueryTooLarge, check_query, plan_query
from govkg.sparql.result_cache import ResultCache
from govkg.sparql.runner import QueryAnswer, QueryJob
from govkg.store.service_description import endpoint_iri, service_description_quads
from govkg.web.errors import error_response
from govkg.web.negotiation import negotiate
from govkg.web.responses import app_cache, conditional, install_cache, vary
from govkg.web.store import loaded_graph
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import is_resource_modified

blueprint = Blueprint("sparql_protocol", __name__)

TRUNCATED_HEADER = "X-Govkg-Truncated"
#: The environ key under which :mod:`govkg.web.sparql_lean` hands over the error of a query it ran.
PENDING_ERROR = "govkg.sparql.pending_error"
MAX_ROWS_HEADER = "X-Govkg-Max-Rows"
CACHE_HEADER = "X-Govkg-Cache"  # hit, miss, or none (an answer that is never cached)
_ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
_SD_CACHE = "service_description"
RESULT_CACHE = "govkg_result_cache"
FORM_URLENCODED = "application/x-www-form-urlencoded"
_SPARQL_QUERY = "application/sparql-query"
_SPARQL_UPDATE = "application/sparql-update"
_HEADER_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# Functions whose value changes from one evaluation to the next: such answers get no ETag.
_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID)\s*\(", re.IGNORECASE)
# A case-insensitive regular expression tries its alternation at every character (50 us for a
# 1.5 KB query); a substring test on the upper-cased text rules most queries out first (3 us).
_VOLATILE_WORDS = ("RAND", "NOW", "UUID")

Format = RdfFormat | ResultsFormat


def _offers(formats: Sequence[Format]) -> tuple[tuple[str, Format], ...]:
    """Media types offered, canonical ones first (in registry order), then aliases."""
    canonical = [(fmt.media_type, fmt) for fmt in formats]
    aliases = [(alias, fmt) for fmt in formats for alias in fmt.aliases]
    return tuple(canonical + aliases)


def _names(formats: Sequence[Format]) -> dict[str, Format]:
    """Every name a ``format``/``output`` parameter may use for these formats, lower-cased."""
    names: dict[str, Format] = {}
    for fmt in formats:
        keys = [fmt.name, fmt.extension, fmt.media_type, fmt.label, *fmt.aliases]
        if isinstance(fmt, RdfFormat):
            keys.append(fmt.rdflib_name)
        for key in keys:
            names.setdefault(key.lower(), fmt)
    return names


_RESULTS_OFFERS = _offers(RESULTS_FORMATS)
_RDF_OFFERS = _offers(RDF_FORMATS)
_RESULTS_NAMES = _names(RESULTS_FORMATS)
_RDF_NAMES = _names(RDF_FORMATS)
EXPOSED_HEADERS = (
    f"{TRUNCATED_HEADER}, {MAX_ROWS_HEADER}, {CACHE_HEADER}, ETag, Content-Length, Content-Encoding"
)


def choose_format(form: str, accept: str | None, overrides: Iterable[str] = ()) -> Format | None:
    """The registry format to answer a query of ``form`` in; ``None`` when nothing is acceptable.

    The first ``overrides`` value (``format``/``output`` parameters) that names a format for
    this form wins; otherwise ``Accept`` is negotiated.

    >>> choose_format("SELECT", None).name, choose_format("CONSTRUCT", "*/*").name
    ('json', 'ttl')
    >>> choose_format("SELECT", "text/csv;q=0.5, application/sparql-results+xml").name
    'xml'
    >>> choose_format("DESCRIBE", "application/rdf+xml", ["xml", "application/rdf+xml"]).name
    'rdfxml'
    >>> choose_format("CONSTRUCT", "text/turtle, application/turtle", ["n3"]).name  # n3 ignored
    'ttl'
    >>> choose_format("ASK", "text/html", ["csv"]).name
    'csv'
    >>> choose_format("SELECT", "text/turtle") is None
    True
    """
    return _chosen_format(form, accept, tuple(overrides))


# Pure in its arguments, and clients send few distinct Accept headers: negotiation (~25 us of
# parsing per request) runs once per distinct header, in a bounded cache.
@functools.lru_cache(maxsize=256)
def _chosen_format(form: str, accept: str | None, overrides: tuple[str, ...]) -> Format | None:
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
    names = _RDF_NAMES if graph_form else _RESULTS_NAMES
    for value in overrides:
        if fmt := names.get(value.strip().lower()):
            return fmt
    offers = _RDF_OFFERS if graph_form else _RESULTS_OFFERS
    chosen = negotiate(accept, [media_type for media_type, _ in offers])
    return next((fmt for media_type, fmt in offers if media_type == chosen), None)


def protocol_headers(response: Response) -> Response:
    """``Vary`` and the CORS headers every answer of the endpoint carries (idempotent)."""
    if response.headers.get("Access-Control-Expose-Headers") == EXPOSED_HEADERS:
        return response  # already done by this function: a query answer comes through twice
    vary(response, "Accept", "Origin")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


@blueprint.record_once
def _install_caches(state) -> None:  # noqa: ANN001
    install_cache(state.app, _SD_CACHE)
    state.app.extensions[RESULT_CACHE] = ResultCache(state.app.config["RESULT_CACHE_BYTES"])


@blueprint.before_request
def _bound_request_body() -> None:
    # A form-encoded query is at most three times its size (%XX); a little room for the
    # other parameters. Bigger bodies are refused with 413 before they are read.
    limit = body_limit()
    request.max_content_length = limit
    request.max_form_memory_size = limit


def body_limit(settings: Mapping[str, Any] | None = None) -> int:
    """The largest request body read: a form-encoded query is at most three times its size
    (``%XX``), with a little room for the other parameters."""
    settings = current_app.config["GOVKG_SETTINGS"] if settings is None else settings
    return 3 * settings["max_query_bytes"] + 16384


@blueprint.errorhandler(RequestEntityTooLarge)
def _body_too_large(_error: RequestEntityTooLarge) -> Response:
    settings = current_app.config["GOVKG_SETTINGS"]
    return error_response(
        413,
        f"The request body is larger than {body_limit()} bytes; a query may be at most "
        f"{settings['max_query_bytes']} bytes.",
    )


@blueprint.after_request
def _add_protocol_headers(response: Response) -> Response:
    return protocol_headers(response)


@blueprint.route(rule(SPARQL_ENDPOINT), methods=["GET", "POST", "OPTIONS"], provide_automatic_options=False)
def sparql() -> Response:
    """The SPARQL 1.1 Protocol query operation (see the module docstring)."""
    if request.method == "OPTIONS":
        return _preflight()
    query, parameters = _read_operation()
    if query is None:
        if request.method == "POST":
            raise ClientError("No query: send it in a 'query' parameter or as application/sparql-query.")
        return _service_description()
    return _answer(query, parameters)


def answer_query(query_text: str) -> Response:
    """Answer ``query_text`` exactly as ``/sparql`` would for the current request.

    Format negotiation (``Accept``, ``format``/``output``), ``default-graph-uri`` and
    ``named-graph-uri`` come from the current request; the same limits and refusals
    apply. Failures raise :class:`~govkg.errors.ClientError` (or a werkzeug HTTP error),
    which the app's error table answers, as it does for ``/sparql``.
    """
    return _answer(query_text, request.values)


# --- reading the request ----------------------------------------------------------------------


def _read_operation() -> tuple[str | None, MultiDict]:
    """The query text (``None`` if none was sent) and the request's other parameters."""
    if request.method in ("GET", "HEAD"):
        parameters = request.args
        queries = parameters.getlist("query")
        _refuse_updates(parameters.getlist("update"), queries)
        return _single(queries), parameters
    mimetype = request.mimetype
    _require_utf8()
    if mimetype == FORM_URLENCODED:
        parameters = request.values
        queries = parameters.getlist("query")
        _refuse_updates(parameters.getlist("update"), queries)
        return _single(queries), parameters
    if mimetype == _SPARQL_QUERY:
        parameters = request.args
        if "query" in parameters or "update" in parameters:
            raise ClientError(
                "A query sent as application/sparql-query must not also have a 'query' parameter."
            )
        body, limit = request.get_data(cache=True), current_app.config["GOVKG_SETTINGS"]["max_query_bytes"]
        if len(body) > limit:  # too long whatever its bytes are (413, as the executor says of a text)
            raise QueryTooLarge(f"The query is {len(body)} bytes long; at most {limit} are accepted.")
        try:
            return body.decode("utf-8"), parameters
        except UnicodeDecodeError as error:
            raise ClientError(f"The query is not valid UTF-8 (byte {error.start}).") from None
    if mimetype == _SPARQL_UPDATE:
        raise _read_only()
    raise ClientError(
        f"Cannot read a query from a POST of {mimetype or 'no media type'!s}: send "
        f"{FORM_URLENCODED} with a 'query' field, or the query as {_SPARQL_QUERY}.",
        415,
    )


def _require_utf8() -> None:
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.strip().lower() not in ("utf-8", "utf8"):
        raise ClientError(f"Only UTF-8 is accepted, not charset={charset}.", 415)


def _single(queries: list[str]) -> str | None:
    if len(queries) > 1:
        raise ClientError(f"Exactly one 'query' parameter is allowed, got {len(queries)}.")
    return queries[0] if queries else None


def _read_only() -> ClientError:
    return QueryRefused(READ_ONLY_MESSAGE)


def _refuse_updates(updates: list[str], queries: list[str]) -> None:
    if updates and queries:
        raise ClientError("A request carries either a 'query' or an 'update', not both.")
    if updates:
        raise _read_only()


def _graph_iris(parameters: MultiDict, name: str) -> tuple[str, ...]:
    iris = parameters.getlist(name)
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise ClientError(f"{name} must be an absolute IRI, got {iri!r}.") from None
    return tuple(iris)


#: The formats a ``bom=1`` parameter starts with a byte-order mark, and the mark.
BOM_FORMATS = frozenset({"csv", "tsv"})
UTF8_BOM = "\ufeff".encode()

# --- answering --------------------------------------------------------------------------------


def _answer(query: str, parameters: MultiDict) -> Response:
    settings = current_app.config["GOVKG_SETTINGS"]
    # The client may ask for a shorter time limit than query_timeout, never a longer one.
    settings = {**settings, "query_timeout": time_limit(parameters.get("timeout"), settings["query_timeout"])}
    loaded = loaded_graph()
    base_iri = endpoint_iri(loaded)
    checked = check_query(query, settings, base_iri)
    form = checked.form
    fmt = None
    if form is not None:
        fmt = choose_format(
            form,
            request.headers.get("Accept"),
            parameters.getlist("format") + parameters.getlist("output"),
        )
        if fmt is None:
            offers = _RDF_OFFERS if form in ("CONSTRUCT", "DESCRIBE") else _RESULTS_OFFERS
            acceptable = ", ".join(dict.fromkeys(fmt.media_type for _, fmt in offers))
            raise ClientError(
                f"None of the media types in Accept fit a {form} query; acceptable: {acceptable}.",
                406,
            )
    # Excel reads a CSV as UTF-8 (and its Chinese as Chinese) only after a byte-order mark; the
    # standard answer (SPARQL 1.1 CSV/TSV) has none, so the mark is added only when asked (bom=1).
    bom = fmt is not None and fmt.name in BOM_FORMATS and parameters.get("bom", "").lower() in ("1", "true")
    job = plan_query(
        query,
        settings,
        base_iri,
        fmt.name if fmt else None,
        _graph_iris(parameters, "default-graph-uri"),
        _graph_iris(parameters, "named-graph-uri"),
        checked,
    ).job
    answer_key = answer_key_of(job, checked.service_calls)
    variant = answer_key if request.method in ("GET", "HEAD") else None
    if variant is not None and bom:
        variant += "-bom"
    if variant is not None:
        etag = f"{loaded.dataset_version}-{variant}"
        if not is_resource_modified(request.environ, etag=etag, last_modified=loaded.last_modified):
            # The same query, format and dataset on the same data: nothing to evaluate.
            not_modified = Response(status=304)
            not_modified.set_etag(etag, weak=True)
            return protocol_headers(not_modified)
    cache: ResultCache[QueryAnswer] = current_app.extensions[RESULT_CACHE]
    cache_key = (loaded.dataset_version, answer_key)
    answer = cache.get(cache_key) if answer_key is not None else None
    cache_status = "hit" if answer is not None else "miss" if answer_key is not None else "none"
    if answer is None:
        pending = request.environ.pop(PENDING_ERROR, None)
        if pending is not None:  # the lean path ran this very query, and it failed: that answer
            raise pending
        answer = loaded.backend.run_query(job, settings["query_timeout"])
        if answer_key is not None:
            cache.put(cache_key, answer, len(answer.body))
    body = UTF8_BOM + answer.body if bom else answer.body
    response = Response(body, status=200, content_type=fmt.content_type if fmt else None)
    response.headers[MAX_ROWS_HEADER] = str(settings["max_result_rows"])
    response.headers[TRUNCATED_HEADER] = "true" if answer.truncated else "false"
    response.headers[CACHE_HEADER] = cache_status
    if variant is not None:
        response = conditional(response, loaded, variant)
    return protocol_headers(response)


def time_limit(requested: str | None, query_timeout: float) -> float:
    """The time limit of one query: the ``timeout`` parameter (seconds) if it is shorter, else the setting.

    >>> time_limit("2.5", 10.0), time_limit(None, 10.0), time_limit("30", 10.0), time_limit("0", 10.0)
    (2.5, 10.0, 10.0, 10.0)
    """
    if requested is None or not requested.strip():
        return query_timeout
    try:
        seconds = float(requested)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # negative, or not a number (NaN too)
        raise ClientError(
            f"timeout must be a number of seconds (0: the server's {query_timeout:g} s), got {requested!r}."
        )
    return min(seconds, query_timeout) if seconds > 0 else query_timeout


def answer_key_of(job: QueryJob, service_calls: Sequence) -> str | None:
    """What identifies an answer on given data, or ``None`` when it may change on the same data.

    The key of the result cache and, for a GET, the ETag variant — a weak ETag: the same
    data, query, format, dataset and row limit give the same statements (blank node
    labels may differ between web workers).
    """
    if service_calls or _volatile(job.query):
        return None
    key = "\n".join(
        [
            job.format_name or "",
            str(job.max_rows),
            *(job.default_graphs or ()),
            "|",
            *(job.named_graphs or ()),
        ]
    )
    return "q" + hashlib.sha256(f"{key}\n{job.query}".encode()).hexdigest()[:24]


def _volatile(query: str) -> bool:
    """Whether ``query`` may call RAND, NOW, UUID or STRUUID (a comment naming one counts too).

    >>> _volatile("SELECT (now () AS ?t) {}"), _volatile("SELECT * { ?s ?p ?o }")
    (True, False)
    """
    upper = query.upper()
    return any(word in upper for word in _VOLATILE_WORDS) and _VOLATILE.search(query) is not None


def _service_description() -> Response:
    offers = [*_RDF_OFFERS, ("text/html", None)]
    chosen = negotiate(request.headers.get("Accept"), [media_type for media_type, _ in offers])
    overrides = request.args.getlist("format") + request.args.getlist("output")
    fmt = next((_RDF_NAMES[v.lower()] for v in overrides if v.lower() in _RDF_NAMES), None)
    if fmt is None:
        if chosen == "text/html":
            return redirect(request.script_root + "/", 303)
        fmt = next((fmt for media_type, fmt in offers if media_type == chosen), None)
    if fmt is None:
        acceptable = ", ".join(fmt.media_type for fmt in RDF_FORMATS)
        raise ClientError(f"The service description is available as {acceptable} (or text/html).", 406)
    loaded = loaded_graph()

    def build() -> bytes:
        quads = service_description_quads(loaded, current_app.config["GOVKG_SETTINGS"])
        return serialize_triples((quad.triple for quad in quads), fmt, loaded.base_iri)

    body = app_cache(_SD_CACHE).get(loaded.dataset_version, fmt.name, build)
    return conditional(Response(body, status=200, content_type=fmt.content_type), loaded, f"sd-{fmt.name}")


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Allow"] = _ALLOWED_METHODS
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    requested = request.headers.get("Access-Control-Request-Headers", "")
    names = [name.strip() for name in requested.split(",") if _HEADER_TOKEN.match(name.strip())]
    response.headers["Access-Control-Allow-Headers"] = ", ".join(names) or "Accept, Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response
