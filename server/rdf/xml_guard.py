"""Hostile RDF/XML is refused before pyoxigraph reads it: entity bombs, external entities, deep nesting.

Every RDF/XML file the server parses is a data file (``--data x.rdf``, ``govkg link --target
x.rdf``; both go through :func:`govkg.graph.knowledge_graph.read_quads`). Nothing else parses XML
from outside: SPARQL results that a SERVICE call receives are read by pyoxigraph's results
parser, which knows no entity but the five predefined ones, and ``govkg link`` asks endpoints
for JSON.

pyoxigraph's RDF/XML parser (Rust, quick-xml) never opens an external entity (a ``SYSTEM``
or ``PUBLIC`` entity is a syntax error to it), but it expands internal entities recursively
and without a limit — the "billion laughs" document of a few hundred bytes grows to gigabytes
— and its work grows with the square of the element nesting depth (20,000 levels take
seconds, 100,000 minutes). So :func:`check_rdf_xml` first reads the document with expat
(Python's XML parser, which loads no external entity or DTD either) and refuses it when:

* its DTD declares an external, parameter or unparsed entity, or an entity whose value
  refers to another entity or is longer than :data:`MAX_ENTITY_VALUE` characters; only the
  plain-text abbreviations that ontology editors write (``<!ENTITY owl
  "http://www.w3.org/2002/07/owl#">``) pass;
* its entity references would add more than :data:`MAX_EXPANSION` bytes (or the file's own
  size, if larger) — checked on the raw text before any reference is expanded;
* its elements nest deeper than :data:`MAX_DEPTH`;
* it is not well-formed XML: then the refusal names the line, which pyoxigraph's RDF/XML
  errors do not.
"""

from __future__ import annotations

import re
from xml.parsers import expat

MAX_ENTITY_VALUE = 1024
MAX_EXPANSION = 16 * 1024 * 1024
MAX_DEPTH = 1000

_REFERENCE = re.compile(rb"&([^\s&;<>\"'#%]+);")


class XmlRefused(ValueError):
    """An RDF/XML document that is not read, with the line (and column) where the problem is."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def check_rdf_xml(data: bytes) -> None:
    """Raise :class:`XmlRefused` if ``data`` is not XML that is safe to hand to pyoxigraph.

    >>> check_rdf_xml(b'<!DOCTYPE r [<!ENTITY e "http://e.org/">]><r a="&e;x">&e;</r>')
    >>> bomb = b'<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>'
    >>> check_rdf_xml(bomb)
    Traceback (most recent call last):
    ...
    govkg.rdf.xml_guard.XmlRefused: the DTD's entity 'b' refers to other entities (an XML bomb?); \
only plain-text entities are read
    >>> check_rdf_xml(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    Traceback (most recent call last):
    ...
    govkg.rdf.xml_guard.XmlRefused: the DTD declares the external entity 'x'; external entities are never read
    >>> check_rdf_xml(b"<r>\\n<a></b></r>")
    Traceback (most recent call last):
    ...
    govkg.rdf.xml_guard.XmlRefused: not well-formed XML: mismatched tag
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    entities: dict[str, int] = {}
    depth = 0

    def refuse(message: str) -> XmlRefused:
        return XmlRefused(message, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def entity_declared(name, is_parameter, value, _base, system_id, public_id, notation) -> None:  # noqa: ANN001
        if is_parameter:
            raise refuse(f"the DTD declares the parameter entity '%{name}'; parameter entities are not read")
        if value is None or system_id or public_id or notation:
            raise refuse(f"the DTD declares the external entity '{name}'; external entities are never read")
        if "&" in value or "%" in value:
            raise refuse(
                f"the DTD's entity '{name}' refers to other entities (an XML bomb?); "
                "only plain-text entities are read"
            )
        if len(value) > MAX_ENTITY_VALUE:
            raise refuse(
                f"the DTD's entity '{name}' is {len(value)} characters long; at most {MAX_ENTITY_VALUE}"
            )
        entities[name] = len(value.encode("utf-8"))

    def doctype_end() -> None:
        if not entities:
            return
        added = sum(
            entities.get(match.group(1).decode("utf-8", "replace"), 0) for match in _REFERENCE.finditer(data)
        )
        limit = max(MAX_EXPANSION, len(data))
        if added > limit:
            raise refuse(f"its entity references would add {added} bytes; at most {limit} (an XML bomb?)")

    def element_start(_name, _attributes) -> None:  # noqa: ANN001
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise refuse(f"elements are nested more than {MAX_DEPTH} deep")

    def element_end(_name) -> None:  # noqa: ANN001
        nonlocal depth
        depth -= 1

    parser.EntityDeclHandler = entity_declared
    parser.EndDoctypeDeclHandler = doctype_end
    parser.StartElementHandler = element_start
    parser.EndElementHandler = element_end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise XmlRefused(
            f"not well-formed XML: {expat.ErrorString(error.code)}", error.lineno, error.offset + 1
        ) from None
