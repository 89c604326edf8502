"""Evaluate a SPARQL query on a pyoxigraph store and serialize its answer, within a row limit.

* **The union default graph.** The default graph is the union of the named graphs:
  queries run on the loaded store itself with pyoxigraph's ``use_default_graph_as_union``,
  never on a copy (a second copy of a big store would cost more memory than the store).
  That option overrides the query's own FROM / FROM NAMED, so it is only given to queries
  without a dataset clause (:func:`govkg.sparql.lexer.has_dataset_clause`); FROM / FROM
  NAMED then work natively, and ``default-graph-uri`` / ``named-graph-uri`` become
  pyoxigraph's ``default_graph`` / ``named_graphs``. A triple stated in two graphs appears
  once per graph in the union (as in Oxigraph server); the article's own graphs are
  disjoint, so this only shows with extra ``data`` files that repeat triples. DESCRIBE
  reads its CBDs from the same store, like the resource pages.
* **Row limit.** SELECT solutions and CONSTRUCT/DESCRIBE triples stop at
  ``max_result_rows``; one more is read to know whether there were more, and the answer
  says so (the endpoint turns that into ``X-Govkg-Truncated: true``).

Every answer is written by pyoxigraph's own serializers; the rows are counted in the bytes as
they are written (see :func:`serialize_solutions`).

The web server runs this on its query threads, with the time limit
(:mod:`govkg.sparql.threads`); the CLI and the W3C test harness call it directly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from govkg.errors import ClientError, InternalError, StoreFailed
from govkg.rdf.describe import concise_bounded_description
from govkg.rdf.formats import RdfFormat, ResultsFormat, rdf_format, results_format
from govkg.sparql.lexer import has_dataset_clause

log = logging.getLogger(__name__)

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")
_UNSUPPORTED_FUNCTION = re.compile(r"The custom function <([^>]*)> is not supported")
_MAX_UNSUPPORTED_FUNCTIONS = 16


@dataclass(frozen=True)
class QueryJob:
    """Everything a query thread needs to answer one query.

    ``format_name`` names a registry format (a results format for SELECT/ASK, an RDF
    format for CONSTRUCT/DESCRIBE). ``default_graphs``/``named_graphs`` are the protocol's
    ``default-graph-uri``/``named-graph-uri``: when either is given they make the dataset;
    otherwise the query's FROM / FROM NAMED do, or else the union default graph.
    """

    query: str
    form: str | None
    format_name: str | None
    max_rows: int
    base_iri: str | None = None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    federated: bool = False


@dataclass(frozen=True)
class QueryAnswer:
    """The serialized answer: body bytes, how many rows/triples, whether rows were cut."""

    body: bytes
    count: int
    truncated: bool


# --- evaluation -----------------------------------------------------------------------------------


def dataset_options(job: QueryJob) -> dict:
    """pyoxigraph's dataset options for ``job``: the protocol's graphs, else the query's own, else the union.

    >>> dataset_options(QueryJob("SELECT * { ?s ?p ?o }", "SELECT", "json", 1))
    {'use_default_graph_as_union': True}
    >>> dataset_options(QueryJob("SELECT * FROM <urn:g> { ?s ?p ?o }", "SELECT", "json", 1))
    {}
    >>> job = QueryJob("SELECT * {}", "SELECT", "json", 1, default_graphs=("urn:g",))
    >>> dataset_options(job)["default_graph"]
    [<NamedNode value=urn:g>]
    """
    if job.default_graphs is not None or job.named_graphs is not None:
        return {
            "default_graph": [ox.NamedNode(iri) for iri in job.default_graphs or ()],
            "named_graphs": [ox.NamedNode(iri) for iri in job.named_graphs or ()],
        }
    if has_dataset_clause(job.query):
        return {}
    return {"use_default_graph_as_union": True}


def execute_query(store: ox.Store, job: QueryJob, prefixes: dict[str, str]) -> QueryAnswer:
    """Evaluate ``job`` on ``store`` and serialize the answer (a failure raises a ``ClientError``).

    The default graph is the union of the named graphs unless the job or the query names
    a dataset (:func:`dataset_options`); DESCRIBE answers CBDs read from ``store``.
    """
    return _execute(store, job, prefixes)


def _execute(store: ox.Store, job: QueryJob, prefixes: dict[str, str]) -> QueryAnswer:
    options: dict = {"base_iri": job.base_iri, **dataset_options(job)}
    try:
        # ASK is evaluated here already, its SERVICE calls with it: their failures too are mapped below.
        result = _prepare(store, job, options)
        if isinstance(result, ox.QueryBoolean):
            _expect(job, ("ASK",))
            return QueryAnswer(result.serialize(format=results_format(job.format_name).oxigraph), 1, False)
        if isinstance(result, ox.QuerySolutions):
            _expect(job, ("SELECT",))
            return serialize_solutions(
                result,
                results_format(job.format_name),
                job.max_rows,
                again=lambda: _prepare(store, job, options),
            )
        _expect(job, ("CONSTRUCT", "DESCRIBE"))
        if job.form == "DESCRIBE":
            triples: Iterable[ox.Triple] = _describe(store, result)
        else:
            triples = result
        return serialize_graph(triples, rdf_format(job.format_name), job.max_rows, prefixes)
    except ClientError:
        raise
    except Exception as error:  # noqa: BLE001 - evaluation errors become one clear message
        if job.federated and isinstance(error, OSError | RuntimeError):
            raise StoreFailed(f"Query evaluation failed while calling a SERVICE: {error}") from None
        if isinstance(error, RuntimeError):  # the query's own doing, e.g. SERVICE on an unbound variable
            raise ClientError(f"Query evaluation failed: {error}") from None
        log.exception("query evaluation failed")
        raise InternalError("Query evaluation failed; the incident was logged.") from None


def _prepare(store: ox.Store, job: QueryJob, options: dict) -> ox.QuerySolutions | ox.QueryTriples | bool:
    """Parse and plan the query; a call of a function the engine lacks evaluates to an error.

    Such a query is valid SPARQL (the W3C syntax test syntax-query/test_4 is one), so the
    call is treated as an expression error: a BIND leaves its variable unbound, a FILTER
    fails. pyoxigraph refuses the whole query instead, naming the function; each function
    it names is registered as one that always errs, and the query is planned again.
    """
    unsupported: dict[ox.NamedNode, object] = {}
    while True:
        try:
            return store.query(job.query, custom_functions=unsupported or None, **options)
        except SyntaxError as error:
            raise ClientError(syntax_error_message(job.query, str(error))) from None
        except RuntimeError as error:  # valid syntax the engine refuses
            match = _UNSUPPORTED_FUNCTION.fullmatch(str(error))
            if match is None or len(unsupported) >= _MAX_UNSUPPORTED_FUNCTIONS:
                raise ClientError(f"The query cannot be evaluated: {error}") from None
            unsupported[ox.NamedNode(match.group(1))] = _evaluation_error


def _evaluation_error(*_arguments: object) -> None:
    """An extension function this engine does not have: every call is an error (``None``)."""
    return None


def _expect(job: QueryJob, forms: tuple[str, ...]) -> None:
    if job.form not in forms or job.format_name is None:
        raise ClientError("Could not determine the query form (SELECT, ASK, CONSTRUCT or DESCRIBE).")


def syntax_error_message(query: str, message: str) -> str:
    """The parser's message, prefixed, with the offending line and a caret under the position.

    >>> print(syntax_error_message("SELECT ?x WHERE {\\n  ?x ?y \\n}", "error at 3:2: expected OPTIONAL"))
    Malformed query: error at 3:2: expected OPTIONAL (line 3, column 2)
    3 | }
      |  ^
    """
    match = _ERROR_POSITION.search(message)
    if not match:
        return f"Malformed query: {message}"
    line_number, column = int(match.group(1)), int(match.group(2))
    lines = query.splitlines() or [""]
    line = lines[min(line_number, len(lines)) - 1]
    gutter = " " * len(str(line_number))
    caret = " " * max(column - 1, 0) + "^"
    return (
        f"Malformed query: {message} (line {line_number}, column {column})\n"
        f"{line_number} | {line}\n{gutter} | {caret}"
    )


def serialize_solutions(
    solutions: ox.QuerySolutions,
    fmt: ResultsFormat,
    max_rows: int,
    again: Callable[[], ox.QuerySolutions] | None = None,
) -> QueryAnswer:
    """pyoxigraph writes the solutions (the GIL released throughout), cut after ``max_rows``.

    Rows are counted in the bytes as they are written, in a format where a row has a mark
    that no value can contain: TSV (one line per row: newlines in values are escaped),
    SPARQL XML (``<result>``: a ``<`` in a value is ``&lt;``) or, for SPARQL JSON, the
    ``},{"`` between two rows (a quote inside a JSON string is always escaped; see
    :class:`_JsonRowWriter`). CSV is written as XML first and converted by pyoxigraph
    (lossless, byte for byte the same as written directly). A JSON answer whose rows cannot
    be counted that way (it holds ``{}``: a solution with no bound variable, or braces in a
    value) is written again through XML, from ``again()`` (the query evaluated once more);
    without ``again`` (a remote store's parsed answer) JSON always goes through XML.
    Iterating the solutions in Python instead would take the GIL back for every row, and
    with other requests running every such hand-over can wait for the interpreter's
    switch interval (5 ms).
    """
    if fmt.oxigraph == ox.QueryResultsFormat.JSON and again is not None:
        json_writer = _JsonRowWriter(max_rows)
        _serialize_counted(solutions, json_writer, ox.QueryResultsFormat.JSON)
        if not json_writer.ambiguous:
            return QueryAnswer(json_writer.body(), json_writer.rows, json_writer.truncated)
        solutions = again()
    tsv = fmt.oxigraph == ox.QueryResultsFormat.TSV
    counted = ox.QueryResultsFormat.TSV if tsv else ox.QueryResultsFormat.XML
    if tsv:
        writer = _RowCountingWriter(b"\n", max_rows, header_marks=1)
    else:
        writer = _RowCountingWriter(b"<result>", max_rows)
    _serialize_counted(solutions, writer, counted)
    body = writer.body()
    if writer.truncated and not tsv:
        body += b"</results></sparql>"
    if counted != fmt.oxigraph:
        body = ox.parse_query_results(body, counted).serialize(format=fmt.oxigraph)
    return QueryAnswer(body, writer.rows, writer.truncated)


def _serialize_counted(
    solutions: ox.QuerySolutions, writer: _RowCountingWriter | _JsonRowWriter, fmt: ox.QueryResultsFormat
) -> None:
    """Write ``solutions`` into a row-counting ``writer``, which stops it at the row limit.

    The writer stops pyoxigraph by refusing a write (it accepts 0 bytes), which pyoxigraph
    reports as an ``OSError`` made in Rust. A Python exception raised inside ``write`` instead
    would carry frames that hold the solutions through pyoxigraph (and one more is raised and
    dropped when its buffer is flushed on the way out); such a frame, left for the cycle
    collector and collected on another thread, failed two full runs with "PyQuerySolutions is
    unsendable, but is being dropped on another thread": pyo3 objects may only be dropped on
    the thread that made them.
    """
    try:
        solutions.serialize(writer, format=fmt)
    except OSError:
        if not writer.stopped:
            raise


class _RowCountingWriter:
    """A file-like sink that counts row marks in what is written and stops after ``limit`` rows.

    A TSV row mark (a newline) ends its row, and the header line has one too
    (``header_marks=1``); an XML one (``<result>``) starts its row. When the mark of row
    ``limit + 1`` arrives, the bytes of that row are dropped and the write is refused (0 bytes
    accepted), which ends the serialization (and the evaluation) there. pyoxigraph writes through a buffer,
    so this runs once per few KB, not per row.

    >>> writer = _RowCountingWriter(b"\\n", 2, header_marks=1)
    >>> writer.write(b"?x\\n1\\n2\\n3\\n")
    0
    >>> writer.body(), writer.rows, writer.truncated
    (b'?x\\n1\\n2\\n', 2, True)
    """

    def __init__(self, mark: bytes, limit: int, header_marks: int = 0) -> None:
        self.mark = mark
        self.limit = limit
        self.truncated = False
        self._header_marks = header_marks
        self._marks = 0  # marks seen
        self._last_end = 0  # where the last mark seen ends
        self._data = bytearray()

    @property
    def stopped(self) -> bool:
        """Whether this writer has refused a write (the row limit was reached)."""
        return self.truncated

    @property
    def rows(self) -> int:
        """Rows kept so far."""
        return min(max(self._marks - self._header_marks, 0), self.limit)

    def write(self, chunk: bytes) -> int:
        if self.truncated:  # pyoxigraph's buffer, flushed again when it is dropped after the stop
            return 0
        mark, keep = self.mark, self.limit + self._header_marks
        start = max(len(self._data) - len(mark) + 1, 0)  # a mark split between two chunks
        self._data += chunk
        found = self._data.count(mark, start)
        if self._marks + found <= keep:
            self._marks += found
            if found:
                self._last_end = self._data.rfind(mark) + len(mark)
            return len(chunk)
        end_of_kept, position = self._last_end, start
        for _ in range(keep - self._marks):
            position = end_of_kept = self._data.index(mark, position) + len(mark)
        first_dropped = self._data.index(mark, position)
        del self._data[end_of_kept if self._header_marks else first_dropped :]
        self._marks = keep + 1
        self.truncated = True
        return 0

    def flush(self) -> None:
        """Nothing to flush: the bytes are kept in memory."""

    def body(self) -> bytes:
        """Everything kept."""
        return bytes(self._data)


class _JsonRowWriter:
    """A file-like sink for pyoxigraph's SPARQL JSON that counts rows and stops after ``limit``.

    pyoxigraph writes ``{"head":…,"results":{"bindings":[ROW,ROW,…]}}`` with no spaces, each
    ROW an object of bound variables, each term an object: a row with a binding starts
    ``[{"x":{"`` (the first) or ``,{"x":{"`` (the others), ``x`` a variable name.
    :data:`_ROW_START` finds exactly those: nowhere else does ``[{"`` or ``,{"`` open an
    object, and inside a JSON string a quote is always escaped, so the bytes of a value
    (``"value":",{"`` ends a string whose content ends with ``,{``) never match up to the
    ``":{"`` that follows a variable name. A row with no binding is ``{}``, which a value
    may hold too: when ``{}`` shows up the count is not certain, :attr:`ambiguous` is set
    and the serialization stops (the caller counts that answer through XML).

    >>> writer = _JsonRowWriter(2)
    >>> writer.write(b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":",{"}},')
    84
    >>> writer.write(b'{"x":{"type":"literal","value":"2"}},{"x":{"type":"literal","value":"3"}}]}}')
    0
    >>> writer.rows, writer.truncated, writer.body()[-39:]
    (2, True, b'{"x":{"type":"literal","value":"2"}}]}}')
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows = 0
        self.truncated = False
        self.ambiguous = False
        self._data = bytearray()
        self._scanned = 0  # rows are counted up to here

    @property
    def stopped(self) -> bool:
        """Whether this writer has refused a write (the row limit, or a ``{}`` it cannot count)."""
        return self.truncated or self.ambiguous

    def write(self, chunk: bytes) -> int:
        if self.stopped:  # pyoxigraph's buffer, flushed again after the stop
            return 0
        old_end = len(self._data)
        self._data += chunk
        data = self._data
        if data.find(b"{}", max(old_end - 1, 0)) >= 0:
            self.ambiguous = True
            return 0
        cut = None
        # Most chunks end well below the limit: count their rows in one C-level pass. Every
        # occurrence of the mark is a row (see above), so the last one found ends the last row.
        # (Two expressions that start with a literal, which the regex engine looks for with a
        # fast search: about 6x quicker than _ROW_START's leading character class.)
        rows, first = _NEXT_ROW.findall(data, self._scanned), _FIRST_ROW.findall(data, self._scanned)
        found = rows + first
        if self.rows + len(found) <= self.limit:
            if found:
                self.rows += len(found)
                self._scanned = max(
                    data.rfind(marks[-1], self._scanned) + len(marks[-1]) for marks in (rows, first) if marks
                )
            found = []
        for match in _ROW_START.finditer(data, self._scanned) if found else ():
            if self.rows == self.limit:
                cut = match.start()  # the comma that starts the row after the limit
                break
            self.rows += 1
            self._scanned = match.end()
        if cut is not None:
            del data[cut:]
            data += b"]}}"
            self.truncated = True
            return 0
        # A mark cut off at the end of the chunk is matched on the next write: scan again from
        # where it may start (a "[{" or ",{" after the last mark, or a "," or "[" at the very end).
        tail = max(data.rfind(b",{", self._scanned), data.rfind(b"[{", self._scanned))
        if data[-1:] in (b",", b"["):
            tail = len(data) - 1
        self._scanned = max(self._scanned, tail)
        return len(chunk)

    def flush(self) -> None:
        """Nothing to flush: the bytes are kept in memory."""

    def body(self) -> bytes:
        """Everything kept."""
        return bytes(self._data)


#: A row with a binding starts here (see :class:`_JsonRowWriter`).
_ROW_START = re.compile(rb'[\[,]\{"[^"\\]*":\{"')
_NEXT_ROW = re.compile(rb',\{"[^"\\]*":\{"')  # _ROW_START of every row but the first
_FIRST_ROW = re.compile(rb'\[\{"[^"\\]*":\{"')  # _ROW_START of the first row


def _describe(store: ox.Store, described: Iterable[ox.Triple]) -> Iterable[ox.Triple]:
    """The union of the CBDs of the resources pyoxigraph's DESCRIBE found (as on resource pages)."""
    resources = dict.fromkeys(
        triple.subject for triple in described if isinstance(triple.subject, ox.NamedNode | ox.BlankNode)
    )
    for resource in resources:
        yield from concise_bounded_description(store, resource)


def serialize_graph(
    triples: Iterable[ox.Triple], fmt: RdfFormat, max_rows: int, prefixes: dict[str, str]
) -> QueryAnswer:
    distinct: dict[ox.Triple, None] = {}
    truncated = False
    for triple in triples:
        if triple in distinct:
            continue
        if len(distinct) == max_rows:
            truncated = True
            break
        distinct[triple] = None
    # Same-subject triples side by side, so Turtle and TriG group them.
    ordered = sorted(distinct, key=lambda t: str(t.subject))
    if fmt.carries_graphs:
        graph = ox.DefaultGraph()
        body = ox.serialize(
            [ox.Quad(t.subject, t.predicate, t.object, graph) for t in ordered],
            format=fmt.oxigraph,
            prefixes=prefixes,
        )
    elif fmt.oxigraph == ox.RdfFormat.N_TRIPLES:
        body = ox.serialize(ordered, format=fmt.oxigraph)
    else:
        body = ox.serialize(ordered, format=fmt.oxigraph, prefixes=prefixes)
    return QueryAnswer(body, len(ordered), truncated)
