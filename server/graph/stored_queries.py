"""Competency questions: SPARQL files that describe themselves with a ``#+`` header (grlc style).

Each ``queries/NAME.rq`` is a valid SPARQL query (the header lines are SPARQL
comments) that starts with a header of ``#+`` lines; without their ``#+``, they
are YAML, read by PyYAML's safe loader as grlc reads them::

    #+ summary: Which firsts did Zhaoqing achieve, and in which scope?
    #+ summary_zh: 肇庆在哪些事项上率先，率先的范围是全省还是全国？
    #+ description: Every "first" the article claims for the city, with the
    #+   scope (province or nation) and the quotation that states it.
    #+ tags:
    #+   - firsts
    #+   - reform
    #+ defaults:
    #+   - scope: province

Keys (an unknown key is an error):

``summary`` (required)
    The question in English, one line.
``summary_zh`` (required)
    The question in Chinese.
``description`` (required)
    What the answer holds; indented ``#+`` lines continue it (a ``#+`` line
    with nothing else on it starts a new paragraph), or ``>-`` and the text on
    the lines below, when a line would end in a colon.
``description_zh`` (optional; every query shipped in queries/ has one)
    The description in Chinese, for the Chinese pages.
``tags`` (required)
    A list: ``#+ tags: [a, b]`` or one ``#+   - tag`` line per tag.
``federated`` (optional, ``true``/``false``, default ``false``)
    The query calls another endpoint with ``SERVICE``; it runs only where that
    endpoint is in the ``service_allowlist`` setting. A query that uses
    ``SERVICE`` must say so, and one that says so must use it.
``endpoint_in_url`` (optional, ``true``/``false``, default ``false``)
    ``/queries/NAME?endpoint=IRI`` replaces the IRI of the query's one
    ``SERVICE <IRI>`` (needs ``federated: true``); the IRI must be allowlisted.
``defaults`` (optional)
    The query's parameters and their default values, one ``#+   - name: value``
    line each. Parameter ``name`` is the variable ``?_name`` of the query; a run
    binds it, to the default or to ``/queries/NAME?name=value``, by a ``VALUES``
    clause appended to the query. That clause joins with the query's solutions,
    so use the variable in triple patterns (a ``FILTER`` inside the query sees
    it unbound). A name ending in ``_iri`` takes an absolute http(s) IRI; any
    other takes a plain string.

Text values are plain, or quoted (``"..."`` with YAML's escapes, ``'...'`` with
``''`` for a quote) when they hold ``: `` or `` #``, start with a YAML indicator,
or would read as another type (``2020``, ``no``). Everything is checked when the
files are loaded: the YAML, each value's type (a number or a boolean where text
is due is an error, not converted), a key given twice, a comment that would cut a
plain value short, the parameters' use, ``SERVICE`` against ``federated``, and
the SPARQL syntax. Any problem is a :class:`StoredQueryError` naming the file and
line; nothing is silently defaulted.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pyoxigraph as ox
import yaml
from govkg.graph.knowledge_graph import DataFileError
from govkg.package_data import QUERIES_DIR
from govkg.settings import DEFAULT_BASE_IRI
from govkg.sparql.lexer import tokenize
from govkg.sparql.service_check import ServiceCall, service_calls
from govkg.sparql.text import code_only, query_form, rebase_iris

#: The header's keys: each required one must be given, and any other is an error.
REQUIRED_KEYS = ("summary", "summary_zh", "description", "tags")
OPTIONAL_KEYS = ("description_zh", "federated", "endpoint_in_url", "defaults")
#: URL parameters that /queries/NAME (and the SPARQL endpoint behind it) read themselves.
RESERVED_PARAMETERS = frozenset({"query", "update", "format", "output", "results", "endpoint", "lang"})
_BOOLEAN_KEYS = ("federated", "endpoint_in_url")
_LIST_KEYS = ("tags", "defaults")

_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_PARAMETER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IRI = re.compile(r"https?://[^<>\"{}|^`\\\x00-\x20]+")
_SYNTAX_POSITION = re.compile(r"error at (\d+):(\d+)")


class StoredQueryError(DataFileError):
    """A stored query file is malformed; the message names the file and line."""


class ParameterError(ValueError):
    """A parameter value given for a run of a stored query is not acceptable."""


@dataclass(frozen=True)
class StoredQuery:
    """One competency question: its ``#+`` header and its SPARQL text.

    ``text`` is the whole file (header included: it is made of SPARQL comments),
    written with the canonical base IRI ``https://w3id.org/govkg/``.
    """

    name: str
    path: Path
    text: str
    summary: str
    summary_zh: str
    description: str
    tags: tuple[str, ...]
    description_zh: str = ""
    federated: bool = False
    endpoint_in_url: bool = False
    defaults: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def form(self) -> str:
        """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``."""
        return query_form(self.text) or "SELECT"

    @property
    def returns_graph(self) -> bool:
        """Whether the answer is RDF (CONSTRUCT, DESCRIBE) rather than a results table."""
        return self.form in ("CONSTRUCT", "DESCRIBE")

    def text_for(self, base_iri: str) -> str:
        """The file's text with its IRIs rebased to ``base_iri``, as the server there runs it."""
        return rebase_iris(self.text, DEFAULT_BASE_IRI, base_iri)

    def defaults_for(self, base_iri: str) -> dict[str, str]:
        """The parameters' default values as a server under ``base_iri`` uses them (IRIs rebased)."""
        return {
            name: rebase_iris(f"<{value}>", DEFAULT_BASE_IRI, base_iri)[1:-1]
            if name.endswith("_iri")
            else value
            for name, value in self.defaults.items()
        }

    def bound_text(
        self,
        base_iri: str,
        values: Mapping[str, str] | None = None,
        endpoint: str | None = None,
    ) -> str:
        """The query to run: rebased, with its parameters bound and its SERVICE endpoint chosen.

        ``values`` overrides :attr:`defaults` (other names are ignored);
        ``endpoint`` replaces the SERVICE IRI of an ``endpoint_in_url`` query.
        Raises :class:`ParameterError` for a value that cannot be bound.
        """
        text = self.text
        if endpoint is not None:
            if not self.endpoint_in_url:
                raise ParameterError(f"query {self.name!r} does not take an endpoint")
            if not _IRI.fullmatch(endpoint):
                raise ParameterError("endpoint must be an absolute http(s) IRI")
            text = _replace_service_iri(text, endpoint)
        if self.defaults:
            chosen = {name: (values or {}).get(name, default) for name, default in self.defaults.items()}
            variables = " ".join(f"?_{name}" for name in chosen)
            terms = " ".join(parameter_term(name, value) for name, value in chosen.items())
            text = f"{text.rstrip()}\nVALUES ({variables}) {{ ({terms}) }}\n"
        return rebase_iris(text, DEFAULT_BASE_IRI, base_iri)

    def service_iri(self) -> str | None:
        """The IRI that the query's first ``SERVICE`` calls, if it has one."""
        calls = _service_calls(self.text)
        return calls[0].iri if calls else None


def parameter_term(name: str, value: str) -> str:
    """The SPARQL term that binds parameter ``name`` to ``value``.

    Values never carry a backslash or a control character into the query, so no
    escape sequence (SPARQL decodes ``\\u`` escapes before parsing) can break out
    of the term.

    >>> parameter_term("scope", 'the "province"')
    '"the \\\\"province\\\\""'
    >>> parameter_term("place_iri", "https://w3id.org/govkg/id/place/zhaoqing")
    '<https://w3id.org/govkg/id/place/zhaoqing>'
    >>> parameter_term("place_iri", "javascript:alert(1)")
    Traceback (most recent call last):
    ...
    govkg.graph.stored_queries.ParameterError: place_iri must be an absolute http(s) IRI
    """
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in value):
        raise ParameterError(f"{name} may not contain a backslash or a control character")
    if name.endswith("_iri"):
        if not _IRI.fullmatch(value):
            raise ParameterError(f"{name} must be an absolute http(s) IRI")
        return f"<{value}>"
    return '"' + value.replace('"', '\\"') + '"'


def _service_calls(text: str) -> tuple[ServiceCall, ...]:
    """The query's SERVICE calls, found by the endpoint's own check."""
    return service_calls(text, None)


def _replace_service_iri(text: str, endpoint: str) -> str:
    (call,) = _service_calls(text)  # exactly one: checked when the file was loaded
    start = text.index(call.target, call.offset)
    return text[:start] + f"<{endpoint}>" + text[start + len(call.target) :]


def load_stored_queries(directory: Path = QUERIES_DIR) -> list[StoredQuery]:
    """Every ``*.rq`` file of ``directory`` (not its subfolders), sorted by name.

    Loaded once per process and directory; raises :class:`StoredQueryError` for
    the first malformed file.
    """
    return list(_load_directory(Path(directory).resolve()))


@functools.cache
def _load_directory(directory: Path) -> tuple[StoredQuery, ...]:
    return tuple(read_stored_query(path) for path in sorted(directory.glob("*.rq")))


def read_stored_query(path: Path) -> StoredQuery:
    """Read and check one ``.rq`` file."""
    if not _NAME.fullmatch(path.stem):
        raise StoredQueryError(
            path, "the file name must be lower-case letters, digits and hyphens (it becomes a URL)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise StoredQueryError(path, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise StoredQueryError(path, error.strerror or str(error)) from None
    return parse_stored_query(path.stem, text, path)


def parse_stored_query(name: str, text: str, path: Path | str | None = None) -> StoredQuery:
    """Parse the header of a stored query's ``text`` and check the query against it.

    >>> query = parse_stored_query("demo", '''#+ summary: What is labelled?
    ... #+ summary_zh: 哪些事物有名称？
    ... #+ description: Everything with an rdfs:label.
    ... #+ tags: [labels, "demo"]
    ... SELECT * WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }
    ... ''')
    >>> query.summary_zh, query.tags, query.federated, query.form
    ('哪些事物有名称？', ('labels', 'demo'), False, 'SELECT')
    >>> parse_stored_query("demo", "#+ summary: x\\n#+ sumary: y\\nASK {}")
    Traceback (most recent call last):
    ...
    govkg.graph.stored_queries.StoredQueryError: demo.rq, line 2: unknown key 'sumary' \
(known: summary, summary_zh, description, tags, description_zh, federated, endpoint_in_url, defaults)
    """
    path = Path(path) if path is not None else Path(f"{name}.rq")
    header, body_start = _parse_header(text, path)
    missing = [key for key in REQUIRED_KEYS if key not in header]
    if missing:
        raise StoredQueryError(path, f"missing required key(s): {', '.join(missing)}", body_start)
    values = {key: value for key, (value, _) in header.items()}
    query = StoredQuery(
        name=name,
        path=path,
        text=text,
        summary=values["summary"],
        summary_zh=values["summary_zh"],
        description=values["description"],
        tags=tuple(values["tags"]),
        description_zh=values.get("description_zh", ""),
        federated=values.get("federated", False),
        endpoint_in_url=values.get("endpoint_in_url", False),
        defaults=MappingProxyType(dict(values.get("defaults", []))),
    )
    _check_query(query, header, body_start)
    return query


# -- the header ---------------------------------------------------------------------------------

#: The tags a YAML value resolves to (PyYAML's safe schema), as a person would name them.
_YAML_TYPES = {
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
}
_STR_TAG = "tag:yaml.org,2002:str"
_QUOTING_HINT = "quote a value that holds ': ' or ' #' or starts with a YAML indicator such as [ or \""

#: A header's values by key, each with the line of its key.
_Header = dict[str, tuple[object, int]]


def _parse_header(text: str, path: Path) -> tuple[_Header, int]:
    """The header's values (each with its line number) and the number of the first body line.

    The ``#+`` block, without its ``#+`` prefixes, is YAML, read by PyYAML's safe loader
    as grlc reads it. The loader's node tree (the first half of ``yaml.safe_load``) is
    kept rather than the Python values, because it has each key's and value's line, sees
    a key given twice (``safe_load`` keeps the last one silently) and tells a quoted
    ``"2020"`` from a number.
    """
    lines = text.splitlines()
    if text.startswith("\ufeff"):
        raise StoredQueryError(
            path, "the file starts with a byte-order mark; save it as UTF-8 without one", 1
        )
    if not lines or not lines[0].startswith("#+"):
        raise StoredQueryError(path, "the file must start with a '#+' header (summary, description, tags)", 1)
    end = next((i for i, line in enumerate(lines) if not line.startswith("#+")), len(lines))
    for number, line in enumerate(lines[end:], start=end + 1):
        if line.startswith("#+"):
            raise StoredQueryError(
                path, "a '#+' line after the header ended; the header must be one block", number
            )
    for number, line in enumerate(lines[:end], start=1):
        if line[2:3] not in ("", " "):
            raise StoredQueryError(
                path, "malformed header line: '#+' is followed by a space, then YAML ('key: value')", number
            )
    root = _header_node("\n".join(line[2:] for line in lines[:end]), path)
    if root is None:
        raise StoredQueryError(path, "the header is empty", 1)
    if not isinstance(root, yaml.MappingNode):
        raise StoredQueryError(path, "malformed header: expected '#+ key: value' lines", _line(root))
    header: _Header = {}
    for key_node, value_node in root.value:
        number = _line(key_node)
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "(a collection)"
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            known = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise StoredQueryError(path, f"unknown key {key!r} (known: {known})", number)
        if key in header:
            raise StoredQueryError(
                path, f"key {key!r} is given twice (first on line {header[key][1]})", number
            )
        header[key] = (_key_value(key, value_node, number, path), number)
    return header, end + 1


def _header_node(block: str, path: Path) -> yaml.Node | None:
    """The YAML node tree of the header block; a YAML error becomes a :class:`StoredQueryError`."""
    try:
        loader = yaml.SafeLoader(block)
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, found before parsing
        line = block.count("\n", 0, error.position) + 1
        raise StoredQueryError(
            path, f"not valid YAML: unacceptable character #x{error.character:04x} ({error.reason})", line
        ) from None
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        # An unclosed quote or bracket is reported where it opened; anything else where it was found.
        opened = error.context_mark is not None and "block" not in (error.context or "")
        mark = error.context_mark if opened else error.problem_mark
        where = f" ({error.context} on line {error.context_mark.line + 1})" if opened else ""
        line = mark.line + 1 if mark is not None else None
        raise StoredQueryError(
            path, f"not valid YAML: {error.problem}{where}; {_QUOTING_HINT}", line
        ) from None
    finally:
        loader.dispose()


def _line(node: yaml.Node) -> int:
    """The header line (1-based, as in the file) where ``node`` starts."""
    return node.start_mark.line + 1


def _key_value(key: str, node: yaml.Node, number: int, path: Path) -> object:
    """The value of ``key``, checked for its kind; ``number`` is the key's line."""
    if key in _BOOLEAN_KEYS:
        if not (isinstance(node, yaml.ScalarNode) and node.style is None and node.value in ("true", "false")):
            shown = node.value if isinstance(node, yaml.ScalarNode) else "a collection"
            raise StoredQueryError(path, f"{key} must be true or false, not {shown!r}", number)
        return node.value == "true"
    if key in _LIST_KEYS:
        if _is_null(node) or (isinstance(node, yaml.SequenceNode) and not node.value):
            raise StoredQueryError(path, f"{key!r} has no items", number)
        if key == "defaults":
            if not isinstance(node, yaml.SequenceNode):
                raise StoredQueryError(path, _DEFAULT_FORM, _line(node))
            defaults: list[tuple[str, str]] = []
            for item in node.value:
                defaults.append(_default(item, defaults, path))
            return defaults
        if not isinstance(node, yaml.SequenceNode):
            raise StoredQueryError(
                path, "a list is written [a, b] or as '#+   - item' lines below the key", _line(node)
            )
        tags: list[str] = []
        for item in node.value:
            tag = _text(item, "a tag", path)
            if tag in tags:
                raise StoredQueryError(path, f"tag {tag!r} is listed twice", _line(item))
            tags.append(tag)
        return tags
    if _is_null(node):
        raise StoredQueryError(path, f"{key} is empty", number)
    return _text(node, key, path)


_DEFAULT_FORM = "defaults are written one '#+   - name: value' line per parameter"


def _default(node: yaml.Node, earlier: list[tuple[str, str]], path: Path) -> tuple[str, str]:
    """One ``- name: value`` item of ``defaults``, checked against the ``earlier`` ones."""
    number = _line(node)
    if not (isinstance(node, yaml.MappingNode) and len(node.value) == 1):
        raise StoredQueryError(path, _DEFAULT_FORM, number)
    ((name_node, value_node),) = node.value
    name = _text(name_node, "a parameter name", path)
    value = _text(value_node, f"the default of {name}", path)
    if not _PARAMETER.fullmatch(name):
        raise StoredQueryError(path, f"parameter name {name!r} must start with a letter", number)
    if name in RESERVED_PARAMETERS:
        raise StoredQueryError(path, f"parameter name {name!r} is reserved for the endpoint", number)
    if any(name == existing for existing, _ in earlier):
        raise StoredQueryError(path, f"parameter {name!r} is given twice", number)
    try:
        parameter_term(name, value)
    except ParameterError as error:
        raise StoredQueryError(path, f"default of {error}", number) from None
    return (name, value)


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and not node.value


def _text(node: yaml.Node, what: str, path: Path) -> str:
    """A YAML scalar that is text: a number, date or boolean left unquoted is an error, not text."""
    number = _line(node)
    if not isinstance(node, yaml.ScalarNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        raise StoredQueryError(path, f"{what} must be text, not {kind}; {_QUOTING_HINT}", number)
    if node.tag != _STR_TAG:
        kind = _YAML_TYPES.get(node.tag, node.tag)
        raise StoredQueryError(path, f"{what} is read by YAML as {kind}; quote it to make it text", number)
    if node.style is None:
        # A plain value ends where ' #' starts a YAML comment: refuse it rather than cut the value short.
        rest = node.end_mark.buffer[node.end_mark.index :].split("\n", 1)[0]
        if rest.lstrip().startswith("#"):
            raise StoredQueryError(
                path, f"' #' starts a YAML comment after {what}; {_QUOTING_HINT}", node.end_mark.line + 1
            )
    if not node.value.strip():
        raise StoredQueryError(path, f"{what} is empty", number)
    return node.value


# -- the query against its header ---------------------------------------------------------------


def _check_query(query: StoredQuery, header: Mapping[str, tuple[object, int]], body_start: int) -> None:
    path = query.path
    code = code_only(query.text)
    if not code.strip():
        raise StoredQueryError(path, "the header is not followed by a query", body_start)
    if query_form(query.text) is None:
        raise StoredQueryError(
            path, "not a query: the form must be SELECT, ASK, CONSTRUCT or DESCRIBE", body_start
        )
    calls = _service_calls(query.text)
    uses_service = bool(calls)
    if uses_service and not query.federated:
        raise StoredQueryError(
            path,
            "the query uses SERVICE: declare '#+ federated: true'",
            _line_of("federated", header, body_start),
        )
    if query.federated and not uses_service:
        raise StoredQueryError(path, "federated: true, but the query has no SERVICE", header["federated"][1])
    if query.endpoint_in_url:
        if not query.federated:
            raise StoredQueryError(
                path, "endpoint_in_url needs federated: true", header["endpoint_in_url"][1]
            )
        if len(calls) != 1 or calls[0].iri is None:
            raise StoredQueryError(
                path,
                "endpoint_in_url needs exactly one 'SERVICE <IRI>' to replace",
                header["endpoint_in_url"][1],
            )
    variables = {query.text[t.start + 1 : t.end] for t in tokenize(query.text) if t.kind == "var"}
    for parameter in query.defaults:
        if f"_{parameter}" not in variables:
            raise StoredQueryError(
                path,
                f"parameter {parameter!r} is not used: the query has no ?_{parameter}",
                header["defaults"][1],
            )
    _check_syntax(query)


def _line_of(key: str, header: Mapping[str, tuple[object, int]], default: int) -> int:
    return header[key][1] if key in header else default


def _check_syntax(query: StoredQuery) -> None:
    """Parse the query (with its parameters bound) without running anything that leaves the process."""
    text = query.bound_text(DEFAULT_BASE_IRI)
    if query.federated:
        # pyoxigraph evaluates an ASK at once, SERVICE calls included: each call is made a
        # GRAPH pattern first, which on an empty store calls nothing.
        local = _services_as_graphs(text)
        if local is None:
            _check_syntax_without_pyoxigraph(query, text)
            return
        text = local
    try:
        ox.Store().query(text)
    except SyntaxError as error:
        message = str(error).splitlines()[0]
        position = _SYNTAX_POSITION.search(message)
        line = int(position.group(1)) if position else None
        raise StoredQueryError(query.path, f"SPARQL syntax error: {message}", line) from None


#: ``SERVICE``, then ``SILENT`` if it follows (as the parser reads it: greedily, whatever comes next).
_SERVICE_KEYWORD = re.compile(r"SERVICE((?:\s++|#[^\n\r]*+)*+)(SILENT)?", re.IGNORECASE)


def _services_as_graphs(text: str) -> str | None:
    """``text`` with every SERVICE call made a GRAPH pattern, character for character.

    ``SERVICE SILENT? VarOrIri GroupGraphPattern`` and ``GRAPH VarOrIri GroupGraphPattern``
    are the same syntax but for ``SILENT``: ``SERVICE`` becomes ``GRAPH`` and ``SILENT``
    blanks, padded with spaces so that every position (and a syntax error's line) stays.
    ``None`` when the text has ``\\u`` escapes: the calls' positions are then those of
    the decoded text.

    >>> _services_as_graphs("ASK { service silent <http://a.example/> { ?s ?p ?o } }")
    'ASK { GRAPH          <http://a.example/> { ?s ?p ?o } }'
    """
    if "\\u" in text.lower():
        return None
    chars = list(text)
    for offset in {call.offset for call in _service_calls(text)}:
        keyword = _SERVICE_KEYWORD.match(text, offset)
        if keyword is None:  # the lexer found the word: the parser will say what it is
            continue
        chars[offset : offset + 7] = "GRAPH  "
        if keyword.group(2):
            chars[keyword.start(2) : keyword.end(2)] = " " * 6
    return "".join(chars)


def _check_syntax_without_pyoxigraph(query: StoredQuery, text: str) -> None:
    from rdflib.plugins.sparql.parser import parseQuery  # only parses (and takes 0.3 s to import and warm)

    try:
        parseQuery(text)
    except Exception as error:  # pyparsing's ParseException and friends
        line = getattr(error, "lineno", None)
        raise StoredQueryError(query.path, f"SPARQL syntax error: {error}", line) from None


def queries_by_name(queries: Iterable[StoredQuery]) -> dict[str, StoredQuery]:
    """The queries keyed by name.

    >>> sorted(queries_by_name([]))
    []
    """
    return {query.name: query for query in queries}


# -- reviewed answers ---------------------------------------------------------------------------

#: The reviewed answer of each non-federated query: ``expected/NAME.srj`` (SPARQL JSON).
EXPECTED_DIR = QUERIES_DIR / "expected"


def answer_json(query: StoredQuery, store: ox.Store) -> dict:
    """The query's answer on ``store`` (union default graph, defaults bound) as SPARQL JSON.

    ``store`` holds the graph under the canonical base IRI. Only SELECT and ASK
    answers can be written as SPARQL JSON.
    """
    if query.federated:
        raise StoredQueryError(query.path, "a federated query has no stored answer")
    if query.returns_graph:
        raise StoredQueryError(query.path, f"a {query.form} answer is a graph, not SPARQL JSON")
    result = store.query(query.bound_text(DEFAULT_BASE_IRI), use_default_graph_as_union=True)
    return json.loads(result.serialize(format=ox.QueryResultsFormat.JSON))


def expected_text(answer: Mapping) -> str:
    """SPARQL JSON as stored in ``queries/expected``: indented, keys sorted, UTF-8 unescaped.

    >>> print(expected_text({"head": {}, "boolean": True}), end="")
    {
      "boolean": true,
      "head": {}
    }
    >>> "肇庆" in expected_text({"value": "肇庆"})
    True
    """
    return json.dumps(answer, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_expected(names: Iterable[str], store: ox.Store, directory: Path = QUERIES_DIR) -> list[Path]:
    """Run the named queries on ``store`` (the embedded graph) and (re)write their ``expected/NAME.srj``.

    Every name is checked before anything is written; review the diff afterwards.
    ``govkg write-expected NAME`` is the command for it.
    """
    names = list(names)
    known = queries_by_name(load_stored_queries(directory))
    for name in names:
        if name not in known:
            raise StoredQueryError(Path(directory) / f"{name}.rq", "no such query")
        if known[name].federated:
            raise StoredQueryError(known[name].path, "a federated query has no stored answer")
    written = []
    for name in names:
        target = Path(directory) / "expected" / f"{name}.srj"
        target.parent.mkdir(exist_ok=True)
        target.write_text(expected_text(answer_json(known[name], store)), encoding="utf-8")
        written.append(target)
    return written
