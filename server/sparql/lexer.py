"""A lexer for SPARQL query text: the query form, terminals, and the SERVICE calls of trusted text.

The endpoint no longer decides SERVICE calls with it: a context-free lexer disagrees with the
engine's parser somewhere (``FILTER(1<2)SERVICE:#>`` read as one IRI was a bypass), so
:mod:`govkg.sparql.service_check` reads them with a SPARQL grammar and :mod:`govkg.sparql.outbound_guard`
confines the engine. What follows is kept for the stored queries (files of this server) and
the query page's helpers. Every pattern is possessive: linear in the text, whatever it holds.

pyoxigraph evaluates ``SERVICE <iri> { … }`` by fetching ``<iri>`` over HTTP itself, and
it offers no hook to refuse that; so the endpoint must find every SERVICE call in the text
*before* evaluation and refuse those whose target is not on the ``service_allowlist``. This
module does that without parsing the query: it splits the text into the SPARQL grammar's
terminals that can hide code (comments, strings, IRI references, variables) and looks at
everything else.

It errs on the side of refusal, matching how pyoxigraph's parser (a PEG, whose keywords need
no word boundary: ``SERVICESILENT<…>{…}`` is a SERVICE call) actually reads text:

* the keyword ``SERVICE`` is looked for case-insensitively anywhere in code, also inside
  words and prefixed names, not only as a whole word; only comments, strings, IRIs and
  variable names are skipped (their rules are the grammar's, exactly);
* a call is ``SERVICE``, optional ``SILENT``, a target (IRI, prefixed name or variable),
  then ``{`` — both with and without ``SILENT`` consumed; text that cannot be a call can
  only be a syntax error for the parser, so it is left to the parser;
* a target is allowed only when it resolves, with the query's own ``PREFIX`` and ``BASE``
  declarations (and the endpoint's base IRI), to an IRI on the allowlist; a variable, an
  undeclared prefix or a malformed IRI is refused;
* ``\\u`` escapes are decoded inside IRIs, and if the text contains any, it is checked a
  second time as if they were decoded everywhere (as the SPARQL specification says).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from govkg.sparql.service_check import resolve_iri

# Character classes of the SPARQL 1.1 grammar (§19.8), verbatim.
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_VARNAME = f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*+"
# Every repetition is possessive (``*+``), with no choice left to backtrack into: a name's
# inner dots are taken only when a name character follows them. So each terminal is matched
# in time linear in its length, whatever the text (an exponential pattern here held a worker
# for 18 s on 45 bytes).
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}]|\\.++(?=[{_PN_CHARS}]))*+"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:[{_PN_CHARS}:]|{_PLX}|\\.++(?=[{_PN_CHARS}:]|{_PLX}))*+"
_UCHAR = r"(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})"
_ECHAR = rf"(?:\\[tbnrf\"'\\]|{_UCHAR})"
_IRIREF = rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>"
# Whitespace and comments between terminals. Python's \s is a superset of the grammar's
# four WS characters: seeing more separators than the parser only finds more calls.
_SKIP = r"(?:\s++|#[^\n\r]*+)*+"

_TOKEN = re.compile(
    rf"""
      (?P<ws>\s++)
    | (?P<comment>\#[^\n\r]*+)
    | (?P<string>\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*+\"\"\"
               | '''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*+'''
               | "(?:[^"\\\n\r]|{_ECHAR})*+"
               | '(?:[^'\\\n\r]|{_ECHAR})*+')
    | (?P<iri>{_IRIREF})
    | (?P<var>[?$]{_VARNAME})
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_BASE_DECL = re.compile(rf"BASE{_SKIP}({_IRIREF})", re.IGNORECASE)
_PREFIX_DECL = re.compile(rf"PREFIX{_SKIP}((?:{_PN_PREFIX})?):{_SKIP}({_IRIREF})", re.IGNORECASE)
_SKIP_RE = re.compile(_SKIP)
# Where the prologue ends, in one match: the same declarations _prologue reads, without
# resolving their IRIs (operation_form runs on every query; resolving cost it ~80 us).
_PROLOGUE_END = re.compile(
    rf"(?:{_SKIP}(?:BASE{_SKIP}{_IRIREF}|PREFIX{_SKIP}(?:{_PN_PREFIX})?:{_SKIP}{_IRIREF}))*+{_SKIP}",
    re.IGNORECASE,
)
_FORM = re.compile(
    r"(SELECT|CONSTRUCT|DESCRIBE|ASK|INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)",
    re.IGNORECASE,
)
QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")

_SERVICE = re.compile("service", re.IGNORECASE)
# A target: anything in angle brackets (checked strictly afterwards), a variable or a
# prefixed name; then the group graph pattern's opening brace.
_TARGET = rf"(?:(?P<iri><[^>]*+>)|(?P<var>[?$]{_VARNAME})|(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?))"
_CALL_TAIL = re.compile(rf"{_SKIP}{_TARGET}{_SKIP}\{{")
_CALL_TAIL_SILENT = re.compile(rf"{_SKIP}SILENT{_SKIP}{_TARGET}{_SKIP}\{{", re.IGNORECASE)
_UCHAR_RE = re.compile(_UCHAR)
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Token:
    """One terminal: its kind (ws, comment, string, iri, var, pname, word, other) and span."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class ServiceCall:
    """A ``SERVICE`` call found in the text: its target as written and the IRI it resolves to."""

    target: str
    iri: str | None  # None: a variable, an undeclared prefix or a malformed IRI
    offset: int


@dataclass(frozen=True)
class QueryAnalysis:
    """What the endpoint must know about a query text before it runs it.

    ``form`` is ``SELECT``, ``CONSTRUCT``, ``DESCRIBE``, ``ASK``, an update keyword
    (``INSERT``, ``LOAD``, ``CLEAR`` …) or ``None`` when the text starts with neither
    (the parser will then report the syntax error).
    """

    form: str | None
    service_calls: tuple[ServiceCall, ...] = field(default=())

    @property
    def is_update(self) -> bool:
        """Whether the text is a SPARQL Update request rather than a query."""
        return self.form is not None and self.form not in QUERY_FORMS


def tokenize(text: str) -> Iterator[Token]:
    """The terminals of ``text``, in order; every character belongs to exactly one.

    >>> [(t.kind, 'SELECT ?s { "#" } # c'[t.start:t.end]) for t in tokenize('SELECT ?s { "#" } # c')
    ...  if t.kind != "ws"]
    [('word', 'SELECT'), ('var', '?s'), ('other', '{'), ('string', '"#"'), ('other', '}'), ('comment', '# c')]
    >>> [t.kind for t in tokenize(r"ex:a\\#b <http://x#y>")]
    ['pname', 'ws', 'iri']
    """
    for match in _TOKEN.finditer(text):
        yield Token(match.lastgroup or "other", match.start(), match.end())


def decode_uchars(text: str) -> str:
    r"""Replace ``\uXXXX`` and ``\UXXXXXXXX`` escapes by the characters they stand for.

    >>> decode_uchars(r"http://a.example/\u0073parql")
    'http://a.example/sparql'
    """
    return _UCHAR_RE.sub(lambda m: chr(int(m.group()[2:], 16)), text)


# Pure, and the same PREFIX declarations come with query after query (a client's prologue).
@functools.lru_cache(maxsize=1024)
def _prologue(text: str, base_iri: str | None) -> tuple[int, str | None, dict[str, str]]:
    """Read ``BASE``/``PREFIX`` declarations as the parser does: the end offset, base and prefixes."""
    prefixes: dict[str, str] = {}
    position = 0
    while True:
        position = _SKIP_RE.match(text, position).end()
        if match := _BASE_DECL.match(text, position):
            base_iri = resolve_iri(decode_uchars(match.group(1)[1:-1]), base_iri)
        elif match := _PREFIX_DECL.match(text, position):
            namespace = resolve_iri(decode_uchars(match.group(2)[1:-1]), base_iri)
            if namespace is None:
                prefixes.pop(match.group(1), None)
            else:
                prefixes[match.group(1)] = namespace
        else:
            return position, base_iri, prefixes
        position = match.end()


def _target_iri(match: re.Match, base_iri: str | None, prefixes: dict[str, str]) -> str | None:
    """The IRI a SERVICE target resolves to, or ``None`` if it is not a plain, resolvable IRI."""
    if iri := match.group("iri"):
        return resolve_iri(decode_uchars(iri[1:-1]), base_iri)
    if pname := match.group("pname"):
        prefix, _, local = pname.partition(":")
        if prefix not in prefixes or "\\" in local:
            return None
        return resolve_iri(prefixes[prefix] + local, None)
    return None  # a variable


def _has_call_shape(text: str) -> bool:
    """Whether ``service`` is followed by a call's tail anywhere in the raw text.

    Every call :func:`_service_calls` finds is such a place (it matches the same tails at
    the same offsets, only among code tokens), so where there is none the token scan
    (a tenth of a millisecond per line of query) cannot find a call either. IRIs that
    merely contain the word, like ``<…/id/service/1>``, do not have the shape.

    >>> _has_call_shape("SELECT * { <http://a.example/service/1> ?p ?o }")
    False
    >>> _has_call_shape("SELECT * { SERVICE SILENT <http://a.example/sparql> { ?s ?p ?o } }")
    True
    """
    return any(
        tail.match(text, hit.end())
        for hit in _SERVICE.finditer(text)
        for tail in (_CALL_TAIL, _CALL_TAIL_SILENT)
    )


def _service_calls(text: str, base_iri: str | None) -> Iterator[ServiceCall]:
    _, base_iri, prefixes = _prologue(text, base_iri)
    for token in tokenize(text):
        if token.kind not in ("word", "pname", "other"):
            continue
        for hit in _SERVICE.finditer(text, token.start, token.end):
            for tail in (_CALL_TAIL, _CALL_TAIL_SILENT):
                if match := tail.match(text, hit.end()):
                    target = match.group("iri") or match.group("var") or match.group("pname")
                    yield ServiceCall(target, _target_iri(match, base_iri, prefixes), hit.start())


# Many clients send the same texts (the examples, a dashboard's queries): the analysis is
# pure and its result immutable, so each process remembers the recent ones. Texts are at
# most max_query_bytes long, so the cache holds at most 256 of them.
@functools.lru_cache(maxsize=256)
def analyze_query(text: str, base_iri: str | None = None) -> QueryAnalysis:
    """Analyze a query text: its form and its SERVICE calls.

    ``base_iri`` is the base the query is evaluated with (relative IRIs resolve to it).

    >>> analyze_query("PREFIX ex: <http://a.example/> ask { SERVICE ex:sparql { ?s ?p ?o } }")
    QueryAnalysis(form='ASK', service_calls=(ServiceCall(target='ex:sparql', \
iri='http://a.example/sparql', offset=37),))
    >>> [c.iri for c in analyze_query("SELECT*{SERVICESILENT<sparql>{}}", "http://b.example/").service_calls]
    ['http://b.example/sparql']
    >>> analyze_query('SELECT ?service { ?service a ?t } # SERVICE <x> {').service_calls
    ()
    >>> [c.target for c in analyze_query("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }").service_calls]
    ['?endpoint']
    >>> analyze_query("INSERT DATA { <a> <b> <c> }").is_update
    True
    """
    position, _, _ = _prologue(text, base_iri)
    form_match = _FORM.match(text, position)
    form = form_match.group(1).upper() if form_match else None
    lowered = text.lower()
    calls: list[ServiceCall] = []
    # A call cannot appear without its letters and its shape: most queries skip the token scan.
    if "service" in lowered and _has_call_shape(text):
        calls.extend(_service_calls(text, base_iri))
    if "\\u" in lowered:
        decoded = decode_uchars(text)
        if "service" in decoded.lower() and _has_call_shape(decoded):
            calls.extend(_service_calls(decoded, base_iri))
    return QueryAnalysis(form, tuple(calls))


def operation_form(text: str) -> str | None:
    r"""The keyword that starts the operation after the prologue, without looking for SERVICE.

    ``SELECT``, ``CONSTRUCT``, ``DESCRIBE``, ``ASK``, an update keyword, or ``None``.

    >>> operation_form("PREFIX ex: <http://a/> # ASK\n construct {} where {}"), operation_form("LOAD <x>")
    ('CONSTRUCT', 'LOAD')
    """
    form_match = _FORM.match(text, _PROLOGUE_END.match(text).end())
    return form_match.group(1).upper() if form_match else None


def has_dataset_clause(text: str) -> bool:
    """Whether the query names its own dataset with ``FROM`` or ``FROM NAMED``.

    Only code is looked at (not comments, strings, IRIs, variables or prefixed names), and,
    as for SERVICE, a keyword glued to another word (``SELECT*FROM<g>``) counts: no other
    word of the grammar contains ``from``. ``\\u`` escapes are decoded for a second look.

    >>> has_dataset_clause("SELECT * FROM <urn:g> { ?s ?p ?o }"), has_dataset_clause("ASK{}FROM NAMED<g>")
    (True, True)
    >>> has_dataset_clause('SELECT ?from { ?from ex:from "FROM" } # FROM <g>')
    False
    """
    texts = [text]
    if "\\u" in text.lower():
        texts.append(decode_uchars(text))
    for candidate in texts:
        if "from" not in candidate.lower():
            continue
        for token in tokenize(candidate):
            if token.kind == "word" and "from" in candidate[token.start : token.end].lower():
                return True
    return False


def describe_as_select(query: str) -> str | None:
    """The SELECT of the resources a DESCRIBE names (``None`` if the text is no DESCRIBE).

    >>> describe_as_select("PREFIX ex: <http://e/> DESCRIBE ex:a ?x WHERE { ?x ex:p ex:a }")
    'PREFIX ex: <http://e/> SELECT DISTINCT (ex:a AS ?govkg_described_0) ?x WHERE { ?x ex:p ex:a }'
    >>> describe_as_select("DESCRIBE <http://e/a>")
    'SELECT DISTINCT (<http://e/a> AS ?govkg_described_0) {}'
    """
    position, _, _ = _prologue(query, None)
    form = _FORM.match(query, position)
    if form is None or form.group(1).upper() != "DESCRIBE":
        return None
    items: list[str] = []
    rest = len(query)
    has_pattern = False
    for token in tokenize(query[form.end() :]):
        text = query[form.end() + token.start : form.end() + token.end]
        if token.kind in ("ws", "comment"):
            continue
        if token.kind == "var" or text == "*":
            items.append(text)
        elif token.kind in ("iri", "pname"):
            items.append(f"({text} AS ?govkg_described_{len(items)})")
        else:
            rest = form.end() + token.start
            has_pattern = "{" in query[rest:]
            break
    if not items:
        return None
    tail = query[rest:].rstrip()
    select = f"{query[:position]}SELECT DISTINCT {' '.join(items)}"
    return f"{select} {tail}" if has_pattern else f"{select} {tail} {{}}".replace("  ", " ")
