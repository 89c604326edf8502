"""A lexer for SPARQL query text: the query form, the prologue, terminals, dataset clauses.

It never decides SERVICE calls: :mod:`govkg.sparql.service_check` does, on the text with its
codepoint escapes applied. What is here serves the endpoint's other rules (the query form, FROM /
FROM NAMED, the DESCRIBE rewrite of a remote store) and the query page's helpers. Every pattern
is possessive: linear in the text, whatever it holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

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
# Where the prologue ends, in one match: the same declarations prologue() reads, without
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

_UCHAR_RE = re.compile(_UCHAR)
_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Token:
    """One terminal: its kind (ws, comment, string, iri, var, pname, word, other) and span."""

    kind: str
    start: int
    end: int


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


_NOT_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


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


def prologue(text: str, base_iri: str | None) -> tuple[int, str | None, dict[str, str]]:
    """The ``BASE``/``PREFIX`` declarations read as the engine does: where they end, the base, the prefixes.

    Relative IRIs resolve against the base in force where they are declared. The mapping is
    shared by a cache: do not change it.

    >>> prologue("BASE <http://a.example/x/> PREFIX e: <../y#> SELECT", None)
    (45, 'http://a.example/x/', {'e': 'http://a.example/y#'})
    """
    return _read_prologue(text[: _PROLOGUE_END.match(text).end()], base_iri)


# Pure, and the same PREFIX declarations come with query after query (a client's prologue);
# keyed by the prologue alone, so the cache holds no query bodies.
@functools.lru_cache(maxsize=1024)
def _read_prologue(text: str, base_iri: str | None) -> tuple[int, str | None, dict[str, str]]:
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


def operation_form(text: str) -> str | None:
    r"""The keyword that starts the operation after the prologue, without looking for SERVICE.

    ``SELECT``, ``CONSTRUCT``, ``DESCRIBE``, ``ASK``, an update keyword, or ``None``.

    >>> operation_form("PREFIX ex: <http://a/> # ASK\n construct {} where {}"), operation_form("LOAD <x>")
    ('CONSTRUCT', 'LOAD')
    """
    form_match = _FORM.match(text, _prologue_end(text))
    return form_match.group(1).upper() if form_match else None


#: Prologues seen lately, each up to the form keyword that followed it (most recent first).
_recent_prologues: tuple[str, ...] = ()
_RECENT_PROLOGUES = 8


def _prologue_end(text: str) -> int:
    """Where the prologue of ``text`` ends (:data:`_PROLOGUE_END`), from a recent prologue when it
    is one: a client sends the same PREFIX lines with query after query (reading 15 of them is
    about 20 us). A text that starts with a known prologue followed by a form keyword ends its
    prologue there too: the expression reads the same characters the same way up to that point,
    and a keyword (none starts like BASE, PREFIX, a space or a comment) ends it.

    >>> text = "PREFIX e: <http://e/> SELECT * {}"
    >>> _prologue_end(text), _prologue_end(text), _prologue_end("PREFIX e: <http://e/> PREFIX f: <f> ASK {}")
    (22, 22, 36)
    """
    global _recent_prologues  # noqa: PLW0603 - a tuple replaced whole: safe across threads
    for prologue_text in _recent_prologues:
        if text.startswith(prologue_text) and _FORM.match(text, len(prologue_text)):
            return len(prologue_text)
    end = _PROLOGUE_END.match(text).end()
    if end and _FORM.match(text, end):
        _recent_prologues = (text[:end], *_recent_prologues[: _RECENT_PROLOGUES - 1])
    return end


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
    position, _, _ = prologue(query, None)
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
