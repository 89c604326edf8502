"""Lexical helpers over SPARQL query text: what is code, which prefixes it uses, rebasing IRIs.

These never parse a query; they read the terminals found by the endpoint's lexer
(:func:`govkg.sparql.lexer.tokenize`, the SPARQL grammar's rules), so that a
``#`` inside an IRI or a ``gov:`` inside a string is never mistaken for a comment
or a prefixed name.
The query page's JavaScript (``static/query.js``) mirrors :func:`complete_prefixes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from govkg.sparql.lexer import QUERY_FORMS, operation_form, tokenize

_KEPT_KINDS = ("comment", "string", "iri")


def tokens(query_text: str) -> Iterator[tuple[str, str]]:
    """The text as ``(kind, text)`` pairs; kind is comment, string, iri or code (all the rest).

    >>> [kind for kind, _ in tokens('SELECT * { <a#b> ?p "#x" } # done')]
    ['code', 'iri', 'code', 'string', 'code', 'comment']
    """
    code: list[str] = []
    for token in tokenize(query_text):
        text = query_text[token.start : token.end]
        if token.kind in _KEPT_KINDS:
            if code:
                yield "code", "".join(code)
                code = []
            yield token.kind, text
        else:
            code.append(text)
    if code:
        yield "code", "".join(code)


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


def _prefixed_names(query_text: str) -> Iterator[tuple[str, bool]]:
    """Each prefixed name's prefix, and whether it is the one a ``PREFIX`` declaration declares."""
    previous = None  # the last token that is not white space or a comment
    for token in tokenize(query_text):
        if token.kind in ("ws", "comment"):
            continue
        text = query_text[token.start : token.end]
        # A blank node label _:b lexes as the word "_" and then ":b"; it names no prefix.
        blank_node = previous is not None and previous[1] == "_" and previous[0].end == token.start
        if token.kind == "pname" and not blank_node:
            declaring = previous is not None and previous[1].upper() == "PREFIX"
            yield text.split(":", 1)[0], declaring
        previous = (token, text)


def declared_prefixes(query_text: str) -> set[str]:
    """Prefixes the query declares with ``PREFIX`` (the empty prefix as ``""``).

    >>> sorted(declared_prefixes("PREFIX gov: <x> prefix : <y> SELECT * {}"))
    ['', 'gov']
    """
    return {prefix for prefix, declaring in _prefixed_names(query_text) if declaring}


def used_prefixes(query_text: str) -> list[str]:
    """Prefixes of the prefixed names the query uses, in order of first use.

    >>> used_prefixes('SELECT ?s { ?s a gov:Reform ; rdfs:label "x:y"@zh ; ?p 1.5 } # skos:no')
    ['gov', 'rdfs']
    >>> used_prefixes('SELECT * { ?s ?p "1"^^xsd:integer . _:b ?q <urn:x:y> }')  # _: is a blank node
    ['xsd']
    """
    seen: dict[str, None] = {}
    for prefix, declaring in _prefixed_names(query_text):
        if not declaring:
            seen.setdefault(prefix, None)
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
    """The query form: ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` (``None`` for anything else).

    >>> query_form("PREFIX s: <http://x/select#> # CONSTRUCT\\nselect * {}")
    'SELECT'
    >>> query_form("INSERT DATA {}") is None
    True
    """
    form = operation_form(query_text)
    return form if form in QUERY_FORMS else None
