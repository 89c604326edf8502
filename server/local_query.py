"""Run SPARQL on the embedded graph for the ``govkg query`` command."""

from __future__ import annotations

import pyoxigraph as ox

from .formats import rdf_format, results_format
from .serialize import serialize_triples
from .store import open_knowledge_graph


class QueryError(Exception):
    """The query could not be parsed or evaluated."""


def run_local_query(query_text: str, format_name: str, base_iri: str) -> bytes:
    """Evaluate ``query_text`` over the union of the graphs and serialize the answer.

    ``format_name`` is ``table`` or a results format name; graph results
    (CONSTRUCT, DESCRIBE) are written as Turtle whatever the format.
    """
    store = open_knowledge_graph(base_iri).store
    try:
        result = store.query(query_text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"bad query: {error}") from None
    if isinstance(result, ox.QueryTriples):
        return serialize_triples(list(result), rdf_format("ttl"), base_iri)
    if format_name != "table":
        return result.serialize(format=results_format(format_name).oxigraph)
    if isinstance(result, ox.QueryBoolean):
        return f"{'yes' if bool(result) else 'no'}\n".encode()
    return render_table(result).encode("utf-8")


def _cell(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def render_table(solutions: ox.QuerySolutions) -> str:
    """A plain-text table of SELECT solutions, one column per variable, with a row count."""
    variables = [variable.value for variable in solutions.variables]
    rows = [[_cell(solution[name]) for name in variables] for solution in solutions]
    widths = [
        max([_display_width(name), *(_display_width(row[i]) for row in rows)])
        for i, name in enumerate(variables)
    ]
    lines = [" | ".join(_pad(name, widths[i]) for i, name in enumerate(variables))]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [" | ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide.

    >>> _display_width("肇庆 ab")
    7
    """
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))
