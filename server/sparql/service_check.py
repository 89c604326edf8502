"""The first line against SERVICE: the calls of a query, read where the engine reads them.

pyoxigraph evaluates ``SERVICE <iri> { … }`` by fetching ``<iri>`` itself and has no hook to
refuse it, so the endpoint finds the SERVICE calls of a query before it runs it and refuses
those whose target is not on ``service_allowlist``. Two steps, both linear in the text:

1. **Codepoint escapes first** (:func:`apply_codepoint_escapes`). SPARQL 1.1 §19.2 processes
   ``\\uXXXX`` and ``\\UXXXXXXXX`` before the grammar, anywhere in the text; pyoxigraph reads
   them only inside IRIs and strings, where ``"\\u0022 … "`` stays one string for the engine and
   ends it for any reader that follows the specification. So the whole text is decoded once,
   the check reads that text, and the engine is handed *exactly that text*: with no escapes
   left, there is nothing two readers could decode differently. A text whose decoding makes a
   new escape (``\\u005Cu0022``) or a code point that is no character (a surrogate) is refused.
2. **Every place shaped like a call is a call** (:func:`service_calls`). The engine's grammar
   (spargebra's PEG) reads a call as ``SERVICE``, white space or comments, optionally
   ``SILENT`` (tried first), a target (an IRI, a prefixed name or a variable), white space or
   comments, ``{``; its keywords are ASCII and need no word boundary. The check looks at every
   ``service`` in the text, case-insensitively — in code, strings, comments or names alike —
   and reads such a shape after it, with both readings of ``SILENT``. Its classes are wider
   than the grammar's terminals and end where a call's must, so every call the engine can
   read is a shape here, with the same target. Each target must resolve — with the query's own
   ``BASE`` and ``PREFIX`` declarations, by pyoxigraph's IRI resolver — to an allowed
   endpoint. A shape that is no call for the engine (in a string or a comment, or ``SELECT
   ?service ?x {`` without ``WHERE``) is checked all the same: a rare honest query is refused,
   with a message that says why, and no query is ever read two ways.

There is no parser to outrun, recurse or share between threads: each shape is looked for in a
window of :data:`SHAPE_WINDOW` characters after the keyword (a shape still open at the
window's end is refused: the check cannot read it within its budget), so the work is linear in
the text whatever it holds, and a refusal stops at the first call not allowed.

What remains — a target the engine would reach by some other reading — is stopped by the
second line, :mod:`govkg.sparql.outbound_guard`, which lets the engine connect only to the
hosts and ports of allowed endpoints (origins, not paths: the path is this check's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from govkg.sparql.lexer import prologue, resolve_iri

#: Characters after ``service`` in which a call's shape must end (its ``{``); longer is refused.
SHAPE_WINDOW = 512

_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# White space and comments as the engine skips them between terminals (its four WS characters
# and '#' to the end of the line; \s is wider). Possessive: no text makes them backtrack.
_SKIP = r"(?:\s++|\#[^\n\r]*+)*+"
# A character of a name: anything but the ASCII characters that end a term. Wider than the
# grammar's name characters, and stopping where a call's target must stop.
_NAME = r"[^\s#{}()<>\[\]\\?$,;:!=+*/|&\"'^]"
_LOCAL = r"(?:\\.|[^\s#{}<\\])*+"
_TARGET = rf"(?P<target><[^>]*+>|[?$]{_NAME}*+|{_NAME}*+:{_LOCAL})"
_FLAGS = re.IGNORECASE | re.ASCII  # ASCII case only, as the engine matches its keywords
_KEYWORD = re.compile("service", _FLAGS)
_PLAIN_CALL = re.compile(rf"{_SKIP}{_TARGET}{_SKIP}\{{", _FLAGS)
_SILENT_CALL = re.compile(rf"{_SKIP}silent{_SKIP}{_TARGET}{_SKIP}\{{", _FLAGS)
# The beginning of a shape, however far it got: used only to tell a window that cut a shape short.
_OPEN_SHAPE = re.compile(
    rf"{_SKIP}(?:silent{_SKIP})?+(?:<[^>]*+>?|[?$]{_NAME}*+|{_NAME}*+(?::{_LOCAL})?){_SKIP}", _FLAGS
)
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")

_ANY_PLACE = (
    "A place shaped like a SERVICE call (the word 'service', a target, '{') counts as a call "
    "wherever it is, even in a string or a comment, or after SELECT without WHERE."
)


class QueryTextRefused(Exception):
    """A query text the endpoint does not run as it is written; the message says why."""


class ServiceRefused(QueryTextRefused):
    """A query refused because of its SERVICE calls; the message names the targets, never the allowlist."""


@dataclass(frozen=True)
class ServiceCall:
    """One SERVICE call: its target as written, the IRI it resolves to (``None``: not an IRI) and
    where its keyword starts in the text."""

    target: str
    iri: str | None
    offset: int


def apply_codepoint_escapes(text: str) -> str:
    r"""``text`` with its ``\uXXXX`` and ``\UXXXXXXXX`` escapes replaced, as SPARQL 1.1 §19.2 reads it.

    Raises :class:`QueryTextRefused` for an escape of no character (a surrogate, or past
    U+10FFFF) and for a text whose decoding makes another escape.

    >>> apply_codepoint_escapes(r"ASK { <http://a.example/\u0073> ?p '\u5E02\u0027 } #'")
    "ASK { <http://a.example/s> ?p '市' } #'"
    >>> apply_codepoint_escapes(r"<http://a.example/\u005Cu0073>")
    Traceback (most recent call last):
    govkg.sparql.service_check.QueryTextRefused: The query's escape sequences make another one ...
    """
    if "\\u" not in text and "\\U" not in text:
        return text

    def character(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise QueryTextRefused(
                f"The escape sequence {match.group()} is not a Unicode character (SPARQL 1.1 §19.2)."
            )
        return chr(code)

    decoded = _UCHAR.sub(character, text)
    if _UCHAR.search(decoded):
        raise QueryTextRefused(
            "The query's escape sequences make another one once decoded (\\u005C is a backslash); "
            "write the characters themselves."
        )
    return decoded


def service_calls(text: str, base_iri: str | None) -> tuple[ServiceCall, ...]:
    """Every SERVICE call of ``text`` (its codepoint escapes applied), in order; see the module docstring.

    Raises :class:`ServiceRefused` for a shape the window cut short.

    >>> service_calls("SELECT ?service WHERE { ?service a <http://x/service/1> } # web services", None)
    ()
    >>> [c.iri for c in service_calls("BASE <http://a/x/> ASK { SERVICE <../sparql> { } }", None)]
    ['http://a/sparql']
    >>> [c.target for c in service_calls("PREFIX : <http://a/> ASK { FILTER(1<2)SERVICE:#>\\n{} }", None)]
    [':']
    """
    return tuple(_calls(text, base_iri))


def refused_calls(calls: Iterable[ServiceCall], allowlist: Iterable[str]) -> list[ServiceCall]:
    """The calls whose target is not exactly an IRI of the allowlist.

    >>> calls = service_calls("ASK { SERVICE <http://a.example/sparql> {} }", None)
    >>> refused_calls(calls, ["http://a.example/sparql"]), [c.target for c in refused_calls(calls, [])]
    ([], ['<http://a.example/sparql>'])
    """
    allowed = set(allowlist)
    return [call for call in calls if call.iri is None or call.iri not in allowed]


def allowed_service_calls(
    text: str, base_iri: str | None, allowlist: Iterable[str]
) -> tuple[ServiceCall, ...]:
    """The SERVICE calls of ``text`` if all are allowed; else :class:`ServiceRefused` at the first refused.

    >>> allowed_service_calls("ASK { ?s ?p ?o }", None, [])
    ()
    >>> allowed_service_calls("ASK { SERVICE ?endpoint { } }", None, [])
    Traceback (most recent call last):
    govkg.sparql.service_check.ServiceRefused: SERVICE ?endpoint is not allowed: ...
    """
    allowed = set(allowlist)
    calls = []
    for call in _calls(text, base_iri):
        if call.iri is None or call.iri not in allowed:
            raise ServiceRefused(
                f"SERVICE {call.target} is not allowed: SERVICE must name, by its IRI (not a variable), "
                "an endpoint that this server's operator allows (the service_allowlist setting). "
                + _ANY_PLACE
            )
        calls.append(call)
    return tuple(calls)


def _calls(text: str, base_iri: str | None) -> Iterator[ServiceCall]:
    resolved: tuple[str | None, dict[str, str]] | None = None  # the prologue, read at the first call
    length = len(text)
    for keyword in _KEYWORD.finditer(text):
        start = keyword.end()
        end = min(start + SHAPE_WINDOW, length)
        # One match for most places: how far a shape could reach. Only one that reaches a '{'
        # is read as a call (both readings of SILENT); one still open at the window's end is refused.
        reach = _OPEN_SHAPE.match(text, start, end).end()
        if reach == end < length:
            raise ServiceRefused(
                f"This query has a place shaped like a SERVICE call whose target and '{{' do not "
                f"come within {SHAPE_WINDOW} characters of the word 'service' (line "
                f"{text.count(chr(10), 0, keyword.start()) + 1}); it cannot be checked. " + _ANY_PLACE
            )
        if reach == end or text[reach] != "{":
            continue
        readings = [read for shape in (_SILENT_CALL, _PLAIN_CALL) if (read := shape.match(text, start, end))]
        if not readings:
            continue
        if resolved is None:
            _, base, prefixes = prologue(text, base_iri)
            resolved = (base, prefixes)
        for reading in readings:
            target = reading.group("target")
            yield ServiceCall(target, _target_iri(target, *resolved), keyword.start())


def _target_iri(target: str, base_iri: str | None, prefixes: dict[str, str]) -> str | None:
    """The IRI ``target`` resolves to, as the engine resolves it; ``None`` for a variable or what does not."""
    if target.startswith("<"):
        return resolve_iri(target[1:-1], base_iri)
    if target.startswith(("?", "$")):
        return None
    prefix, _, local = target.partition(":")
    if prefix not in prefixes:
        return None
    return resolve_iri(prefixes[prefix] + _PN_LOCAL_ESCAPE.sub(r"\1", local), None)
