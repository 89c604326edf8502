"""The first line against SERVICE: every SERVICE target, read by a real SPARQL 1.1 parser.

pyoxigraph evaluates ``SERVICE <iri> { … }`` by fetching ``<iri>`` itself and has no hook to
refuse it, so the endpoint finds the SERVICE calls of a query before it runs it and refuses
those whose target is not on ``service_allowlist``. A home-made lexer cannot do that: the
SPARQL lexical grammar depends on the context (``FILTER(1<2)SERVICE:#>`` is a comparison, a
SERVICE call and a comment, not an IRI), so the query is parsed with a grammar, rdflib's,
in three steps:

1. **Pre-filter** (every query, linear): a call needs the keyword and a call's shape after it
   — optional white space and comments, optional ``SILENT``, a target (an IRI, a variable or
   a prefixed name), white space and comments, ``{``. pyoxigraph reads ``\\u`` escapes only
   inside IRIs and strings (measured: ``SERV\\u0049CE`` and ``\\u0046ILTER`` are syntax errors
   to it), never in a keyword, so the raw text must show the shape; the decoded text is looked
   at too when it has escapes. The shape is a superset of every call the grammar allows (the
   target classes only exclude characters no target can hold), so no shape means no call and
   nothing more runs: most queries stop here, in microseconds. Each shape is looked for in a
   window of :data:`SHAPE_WINDOW` characters after the keyword, and a shape that runs past
   the window counts as a call: the work is linear in the text, whatever it holds.
2. **Parse** (only when a shape was found, under the query's time limit): rdflib's SPARQL 1.1
   grammar parses the text with its escapes decoded (strictly, ``\\u`` four digits and ``\\U``
   eight, as the engine does), on the request thread, stopped at the deadline
   (:func:`_parse_with_deadline`). Every ``ServiceGraphPattern`` of the parse tree — in
   subqueries, ``OPTIONAL``, ``EXISTS`` … — is a call; its target is resolved with the
   query's ``PREFIX``/``BASE`` declarations by pyoxigraph's own IRI resolver. A variable, an
   undeclared prefix or a malformed IRI is refused.
3. **Agreement**: the parser's count of calls must equal the count of shapes in the raw text.
   A text that the grammar cannot parse is refused too (pyoxigraph might read calls in it).
   The parser and the engine read a text differently only where a shape the engine could take
   for a call is something else for the parser, and such a text is refused with a message
   that says so; what remains (the same shape read as a call to another target) is stopped
   by the second line, :mod:`govkg.sparql.outbound_guard`, which lets the engine connect only to
   allowed endpoints.

A rare honest query is refused by step 3: one where a shape is not a call, like a projection
``SELECT ?service ?x {`` (no ``WHERE``) or a comment ``# service ex:x {``. The message names
the rule; writing ``WHERE`` or rewording the comment avoids it.
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

#: Characters after ``service`` in which a call's shape is looked for; longer counts as a call.
SHAPE_WINDOW = 256

_UCHAR = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")
# The shapes are looked for in the text's UTF-8 bytes, ASCII lower-cased: the engine's keywords
# are ASCII, matched without regard to case, and bytes are several times faster to scan than
# str (Chinese text). ``\s`` of bytes is ASCII white space, a superset of the grammar's four.
# White space and comments: possessive, so no text makes them backtrack.
_SKIP = rb"(?:\s++|\#[^\n\r]*+)*+"
# A target: an IRI reference, a variable, a prefixed name. The classes are wider than the
# grammar's (they exclude only ASCII characters that end the term), so every target matches.
_NAME = rb"[^\s#{}()<>\[\]\\?$,;:!=+*/|&\"'^]"
_IRI = rb"<[^<>]*+>"
_VAR = rb"[?$]" + _NAME + rb"*+"
_LOCAL = rb"(?:\\.|[^\s#{}<\\])*+"
_PNAME = _NAME + rb"*+:" + _LOCAL
_TAIL_RE = re.compile(
    _SKIP + rb"(?:silent" + _SKIP + rb")?(?:" + _IRI + rb"|" + _VAR + rb"|" + _PNAME + rb")" + _SKIP + rb"\{"
)
# In a window cut short, running into its end anywhere counts too (a maybe is a call).
_TAIL_CUT_RE = re.compile(
    _SKIP
    + rb"(?:silent"
    + _SKIP
    + rb")?(?:\Z|(?:<[^<>]*+(?:>|\Z)|"
    + _VAR
    + rb"|"
    + _NAME
    + rb"*+(?:\Z|:"
    + _LOCAL
    + rb"))"
    + _SKIP
    + rb"(?:\{|\Z))"
)
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")
_NOT_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


class ServiceRefused(Exception):
    """A query the endpoint does not run because of its SERVICE calls; the message says why."""


class CheckTooSlow(Exception):
    """The check of a query's SERVICE calls did not finish within its time limit."""


@dataclass(frozen=True)
class ServiceCall:
    """One SERVICE call: its target as written and the IRI it resolves to (``None``: not an IRI)."""

    target: str
    iri: str | None


def decode_uchars(text: str) -> str:
    r"""Replace ``\uXXXX`` and ``\UXXXXXXXX`` escapes by their characters (as the engine reads them).

    >>> decode_uchars(r"http://a.example/\u0073parql \u00610000")
    'http://a.example/sparql a0000'
    """
    if "\\u" not in text and "\\U" not in text:
        return text

    def character(match: re.Match) -> str:
        code = int(match.group()[2:], 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _UCHAR.sub(character, text)


def call_shapes(text: str) -> int:
    """How many places in ``text`` could be a SERVICE call (see the module docstring, step 1).

    >>> call_shapes("SELECT ?service WHERE { ?service a <http://x/service/1> ; ex:serviceType ?t }")
    0
    >>> call_shapes("PREFIX : <http://a/> ASK { FILTER(1<2)SERVICE:#>\\n{ } SERVICE SILENT ?e {} }")
    2
    >>> call_shapes("ASK {} # x1 service" + "#" * 26)
    0
    """
    return _shapes(text.encode("utf-8", "surrogatepass").lower())


def _shapes(lowered: bytes) -> int:
    """:func:`call_shapes` of ASCII-lower-cased UTF-8 bytes."""
    count = 0
    length = len(lowered)
    position = lowered.find(b"service")
    while position >= 0:
        start = position + 7
        end = start + SHAPE_WINDOW
        if end < length:
            count += _TAIL_CUT_RE.match(lowered, start, end) is not None
        else:
            count += _TAIL_RE.match(lowered, start) is not None
        position = lowered.find(b"service", start)
    return count


def may_call_service(text: str) -> bool:
    """The pre-filter: whether the engine could read a SERVICE call in ``text`` at all.

    >>> may_call_service("SELECT * { ?s gov:serviceModality ?m } ORDER BY ?service")
    False
    >>> may_call_service(r"ASK { SERVICE <http://a/\\u0073> {} }")
    True
    """
    # ASCII case only (the engine's keywords are ASCII, matched case-insensitively); bytes
    # lower-case an ASCII and Chinese text several times faster than str.lower().
    lowered = text.encode("utf-8", "surrogatepass").lower()
    if b"service" in lowered and _shapes(lowered):
        return True
    if b"\\u" in lowered:
        return call_shapes(decode_uchars(text)) > 0
    return False


def service_calls(text: str, base_iri: str | None, seconds: float) -> tuple[ServiceCall, ...]:
    """Every SERVICE call of ``text`` as the grammar reads it; raises :class:`ServiceRefused`.

    ``seconds`` bounds the parse (:class:`CheckTooSlow` past it). Texts without a call's shape
    return ``()`` at once.

    >>> service_calls("SELECT * { ?service ?p ?o }", None, 1.0)
    ()
    >>> service_calls("BASE <http://a/x/> SELECT * { SERVICE <../sparql> { } }", None, 1.0)
    (ServiceCall(target='<../sparql>', iri='http://a/sparql'),)
    """
    if not may_call_service(text):
        return ()
    return _parsed_calls(text, base_iri, seconds)


# Many clients send the same texts (a dashboard's queries): the outcome is pure, so each
# process remembers the recent ones (texts are at most max_query_bytes long). A time-out is
# not an outcome and is not kept.
_cache: dict[tuple[str, str | None], tuple[ServiceCall, ...] | str] = {}
_cache_lock = threading.Lock()
_CACHE_ENTRIES = 256


def _parsed_calls(text: str, base_iri: str | None, seconds: float) -> tuple[ServiceCall, ...]:
    key = (text, base_iri)
    with _cache_lock:
        outcome = _cache.get(key)
    if outcome is None:
        try:
            outcome = _read_calls(text, base_iri, seconds)
        except ServiceRefused as refusal:
            outcome = str(refusal)
        with _cache_lock:
            if len(_cache) >= _CACHE_ENTRIES:
                _cache.pop(next(iter(_cache)))
            _cache[key] = outcome
    if isinstance(outcome, str):
        raise ServiceRefused(outcome)
    return outcome


def _read_calls(text: str, base_iri: str | None, seconds: float) -> tuple[ServiceCall, ...]:
    from pyparsing import ParseBaseException

    try:
        tree = _parse_with_deadline(decode_uchars(text), seconds)
    except ParseBaseException as error:
        raise ServiceRefused(
            "This query has a SERVICE call's shape, and the endpoint's SPARQL 1.1 grammar cannot "
            f"parse it ({error.msg}, line {error.lineno}, column {error.col}); such queries are "
            "not run, since the engine might read a call in them."
        ) from None
    base, prefixes = _prologue(tree[0], base_iri)
    calls = tuple(_call(term, base, prefixes) for term in _service_terms(tree))
    shapes = call_shapes(text)
    if len(calls) != shapes:
        raise ServiceRefused(
            f"This query has {shapes} place(s) shaped like a SERVICE call and {len(calls)} SERVICE "
            "call(s): the word 'service' followed by a target and '{' must be a SERVICE call "
            "(add WHERE after the projection, or reword a comment)."
        )
    return calls


def _prologue(declarations: Iterable[Any], base_iri: str | None) -> tuple[str | None, dict[str, str]]:
    """The base IRI and prefixes the ``BASE``/``PREFIX`` declarations make, resolved as the engine does."""
    prefixes: dict[str, str] = {}
    for declaration in declarations:
        iri = resolve_iri(str(dict.get(declaration, "iri")), base_iri)
        if declaration.name == "Base":
            base_iri = iri
        elif iri is None:
            prefixes.pop(dict.get(declaration, "prefix") or "", None)
        else:
            prefixes[dict.get(declaration, "prefix") or ""] = iri
    return base_iri, prefixes


def _service_terms(node: Any) -> Iterator[Any]:  # noqa: ANN401 - rdflib's parse tree
    """The target of every ``ServiceGraphPattern`` in the parse tree, wherever it is nested."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                yield dict.get(item, "term")
            stack.extend(dict.values(item))
        elif isinstance(item, list | tuple) or type(item).__name__ == "ParseResults":
            stack.extend(item)


def _call(term: Any, base_iri: str | None, prefixes: dict[str, str]) -> ServiceCall:  # noqa: ANN401
    from rdflib import URIRef, Variable
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(term, Variable):
        return ServiceCall(f"?{term}", None)
    if isinstance(term, URIRef):
        return ServiceCall(f"<{term}>", resolve_iri(str(term), base_iri))
    if isinstance(term, CompValue) and term.name == "pname":
        prefix = dict.get(term, "prefix") or ""
        local = dict.get(term, "localname") or ""
        written = f"{prefix}:{local}"
        if prefix not in prefixes:
            return ServiceCall(written, None)
        return ServiceCall(written, resolve_iri(prefixes[prefix] + _PN_LOCAL_ESCAPE.sub(r"\1", local), None))
    return ServiceCall(str(term), None)


@functools.lru_cache(maxsize=1024)
def resolve_iri(iri: str, base_iri: str | None) -> str | None:
    """``iri`` resolved against ``base_iri`` by the engine's own code; ``None`` if malformed or unresolvable.

    >>> resolve_iri("../sparql", "http://a.example/x/y"), resolve_iri("sparql", None)
    ('http://a.example/sparql', None)
    """
    if _NOT_IRI.search(iri):
        return None
    try:
        triples = list(
            ox.parse(f"<{iri}> <urn:x:p> <urn:x:o> .", format=ox.RdfFormat.TURTLE, base_iri=base_iri)
        )
    except (SyntaxError, ValueError):
        return None
    return triples[0].subject.value if len(triples) == 1 else None


def refused_calls(calls: Iterable[ServiceCall], allowlist: Iterable[str]) -> list[ServiceCall]:
    """The calls whose target is not exactly an IRI of the allowlist.

    >>> calls = service_calls("ASK { SERVICE <http://a.example/sparql> {} }", None, 1.0)
    >>> refused_calls(calls, ["http://a.example/sparql"]), [c.target for c in refused_calls(calls, [])]
    ([], ['<http://a.example/sparql>'])
    """
    allowed = set(allowlist)
    return [call for call in calls if call.iri is None or call.iri not in allowed]


class _Deadline(BaseException):
    """Raised inside the parsing thread at its deadline (a BaseException: no parser catches it)."""


def _parse_with_deadline(text: str, seconds: float) -> Any:  # noqa: ANN401 - pyparsing's ParseResults
    """rdflib's SPARQL 1.1 ``Query`` rule on ``text``, stopped after ``seconds``.

    The parser is pure Python, so an exception set on this thread from a timer thread
    (``PyThreadState_SetAsyncExc``) stops it between two bytecodes: the request gets an answer
    at the deadline and nothing keeps running. (Its regular expressions are linear: a test
    holds the whole check to linear time.)
    """
    from rdflib.plugins.sparql.parser import Query

    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def stop() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(_Deadline)
                )
                state["fired"] = True

    timer = threading.Timer(max(seconds, 0.0), stop)
    timer.daemon = True
    timer.start()
    try:
        try:
            return Query.parse_string(text, parse_all=True)
        finally:
            timer.cancel()
            with lock:
                state["done"] = True
                if state["fired"]:  # set but maybe not delivered yet: take it back
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
    except _Deadline:
        raise CheckTooSlow(f"Checking the query's SERVICE calls took longer than {seconds:g} s.") from None
