"""``govkg query``: a query answered on the embedded graph exactly as ``/sparql`` answers it.

The same checks, dataset semantics and limits (:mod:`govkg.sparql.executor`) on the same
backend; only the output differs: a text table for people, or a registry format.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox
from govkg.sparql.executor import check_query, plan_query
from govkg.sparql.runner import QueryAnswer

#: The format of graph answers (CONSTRUCT, DESCRIBE), and of SELECT/ASK answers shown as a table.
GRAPH_FORMAT = "ttl"
TABLE_SOURCE_FORMAT = "json"


def answer_locally(
    backend: Any,  # noqa: ANN401 - a govkg.store.backends.Backend (the store layer is above this one)
    base_iri: str,
    query_text: str,
    format_name: str,
    settings: Mapping[str, Any],
) -> bytes:
    """Check, plan and run ``query_text`` on ``backend`` and write the answer as ``format_name``.

    ``format_name`` is ``table`` or a results format name; graph answers are Turtle whatever
    the format. Errors are :class:`~govkg.errors.ClientError` with the endpoint's messages.
    """
    analysis = check_query(query_text, settings, base_iri)
    graph_answer = analysis.form in ("CONSTRUCT", "DESCRIBE")
    if graph_answer:
        wire_format = GRAPH_FORMAT
    else:
        wire_format = TABLE_SOURCE_FORMAT if format_name == "table" else format_name
    plan = plan_query(query_text, settings, base_iri, wire_format, analysis=analysis)
    answer: QueryAnswer = backend.run_query(plan.job, settings["query_timeout"])
    if graph_answer or format_name != "table":
        return answer.body
    result = ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON)
    if isinstance(result, ox.QueryBoolean):
        return f"{'yes' if bool(result) else 'no'}\n".encode()
    return render_table(result, truncated=answer.truncated).encode("utf-8")


def _cell(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def render_table(solutions: ox.QuerySolutions, truncated: bool = False) -> str:
    """A plain-text table of SELECT solutions, one column per variable, with a row count."""
    variables = [variable.value for variable in solutions.variables]
    rows = [[_cell(solution[name]) for name in variables] for solution in solutions]
    widths = [
        max([display_width(name), *(display_width(row[i]) for row in rows)])
        for i, name in enumerate(variables)
    ]
    lines = [" | ".join(_pad(name, widths[i]) for i, name in enumerate(variables))]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [" | ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)) for row in rows]
    cut = ", cut at the max_result_rows limit" if truncated else ""
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{cut})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide.

    >>> display_width("肇庆 ab")
    7
    """
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))
