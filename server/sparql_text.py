"""Lexical helpers over SPARQL query text: what is code, which prefixes it uses, rebasing IRIs.

These never parse a query; they split its text into the few token kinds that
matter here (comments, string literals, IRI references, everything else), the
same way the SPARQL grammar's terminals do, so that a ``#`` inside an IRI or a
``gov:`` inside a string is never mistaken for a comment or a prefixed name.
The query page's JavaScript (``static/query.js``) mirrors :func:`complete_prefixes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

# One alternative per token kind; the order matters: long strings before short ones.
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n\r]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
               | '''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)
               | "(?:[^"\\\n\r]|\\.)*"?
               | '(?:[^'\\\n\r]|\\.)*'?)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<code>[^#"'<]+|<)
    """,
    re.VERBOSE | re.DOTALL,
)

_PN_PREFIX = r"[^\W\d_](?:[\w.-]*[\w-])?"
_DECLARED = re.compile(rf"\bPREFIX\s+({_PN_PREFIX})?:", re.IGNORECASE)
# A prefixed name's prefix: not part of a longer name, a variable or another prefixed name.
_USED = re.compile(rf"(?<![\w.\-?$:])({_PN_PREFIX})?:")


def tokens(query_text: str) -> Iterator[tuple[str, str]]:
    """The text as ``(kind, text)`` pairs; kind is comment, string, iri or code.

    >>> [kind for kind, _ in tokens('SELECT * { <a#b> ?p "#x" } # done')]
    ['code', 'iri', 'code', 'string', 'code', 'comment']
    """
    for match in _TOKEN.finditer(query_text):
        kind = match.lastgroup or "code"
        yield kind, match.group()


def code_only(query_text: str, keep_iris: bool = False) -> str:
    """The text with comments, strings (and IRIs unless ``keep_iris``) blanked out.

    Line breaks and lengths are kept, so offsets and line numbers still match.

    >>> code_only('ASK { ?s rdfs:label "a: b" } # gov:x')
    'ASK { ?s rdfs:label        }        '
    >>> code_only('ASK { <http://x#y> ?p ?o }', keep_iris=True)
    'ASK { <http://x#y> ?p ?o }'
    """
    parts = []
    for kind, text in tokens(query_text):
        if kind == "code" or (kind == "iri" and keep_iris):
            parts.append(text)
        else:
            parts.append(re.sub(r"[^\n]", " ", text))
    return "".join(parts)


def declared_prefixes(query_text: str) -> set[str]:
    """Prefixes the query declares with ``PREFIX`` (the empty prefix as ``""``).

    >>> sorted(declared_prefixes("PREFIX gov: <x> prefix : <y> SELECT * {}"))
    ['', 'gov']
    """
    return {match.group(1) or "" for match in _DECLARED.finditer(code_only(query_text))}


def used_prefixes(query_text: str) -> list[str]:
    """Prefixes of the prefixed names the query uses, in order of first use.

    >>> used_prefixes('SELECT ?s { ?s a gov:Reform ; rdfs:label "x:y"@zh ; ?p 1.5 } # skos:no')
    ['gov', 'rdfs']
    >>> used_prefixes('SELECT * { ?s ?p "1"^^xsd:integer . _:b ?q <urn:x:y> }')  # _: is a blank node
    ['xsd']
    """
    seen: dict[str, None] = {}
    for match in _USED.finditer(code_only(query_text)):
        seen.setdefault(match.group(1) or "", None)
    return list(seen)


def complete_prefixes(query_text: str, known: Mapping[str, str]) -> tuple[str, list[str]]:
    """Prepend a ``PREFIX`` line for each known prefix the query uses but does not declare.

    Returns the completed text and the prefixes that were added. Unknown prefixes
    are left alone, so the SPARQL parser reports them as it would anyway.

    >>> text, added = complete_prefixes("SELECT * { ?s rdfs:label ?l ; ex:p ?o }", {"rdfs": "http://r#"})
    >>> print(text)
    PREFIX rdfs: <http://r#>
    SELECT * { ?s rdfs:label ?l ; ex:p ?o }
    >>> added
    ['rdfs']
    >>> complete_prefixes("PREFIX rdfs: <http://r#> ASK { ?s rdfs:label ?l }", {"rdfs": "http://r#"})[1]
    []
    """
    declared = declared_prefixes(query_text)
    added = [prefix for prefix in used_prefixes(query_text) if prefix in known and prefix not in declared]
    if not added:
        return query_text, []
    lines = "".join(f"PREFIX {prefix}: <{known[prefix]}>\n" for prefix in added)
    return lines + query_text, added


def rebase_iris(query_text: str, canonical_base: str, base_iri: str) -> str:
    """Rewrite IRI references under ``canonical_base`` to the same path under ``base_iri``.

    Only IRI references change; comments and strings stay as written. The data is
    rebased the same way when it is loaded, so a stored query finds it on any base.

    >>> rebase_iris('ASK { <https://w3id.org/govkg/id/x> ?p "https://w3id.org/govkg/" }',
    ...             "https://w3id.org/govkg/", "http://127.0.0.1:5000/")
    'ASK { <http://127.0.0.1:5000/id/x> ?p "https://w3id.org/govkg/" }'
    """
    if canonical_base == base_iri:
        return query_text
    parts = []
    for kind, text in tokens(query_text):
        if kind == "iri" and text.startswith("<" + canonical_base):
            text = "<" + base_iri + text[len(canonical_base) + 1 :]
        parts.append(text)
    return "".join(parts)


def query_form(query_text: str) -> str | None:
    """The query form: ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` (``None`` if none is found).

    >>> query_form("PREFIX s: <http://x/select#> # CONSTRUCT\\nselect * {}")
    'SELECT'
    """
    match = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", code_only(query_text), re.IGNORECASE)
    return match.group(1).upper() if match else None
