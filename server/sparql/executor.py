"""The one way a SPARQL query is checked, planned and answered: for ``/sparql``, the CLI and the pages.

:func:`plan_query` applies the endpoint's rules to the query text (its size, no updates, SERVICE
only to allowlisted endpoints) and makes the :class:`~govkg.sparql.runner.QueryJob` with the
dataset semantics every caller shares: the protocol's ``default-graph-uri``/``named-graph-uri``
when given, else the query's own FROM / FROM NAMED, else the union of the named graphs
(:func:`govkg.sparql.runner.dataset_options`). The job then runs on a backend
(:mod:`govkg.store.backends`) with the time and row limits. No web framework here: the web
layer adds negotiation, caching and headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govkg.errors import ClientError, QueryRefused
from govkg.sparql.lexer import QUERY_FORMS, operation_form
from govkg.sparql.runner import QueryJob
from govkg.sparql.service_check import (
    QueryTextRefused,
    ServiceCall,
    allowed_service_calls,
    apply_codepoint_escapes,
)


class QueryTooLarge(ClientError):
    """The query text is longer than the ``max_query_bytes`` setting."""


READ_ONLY_MESSAGE = "This endpoint is read-only: SPARQL Update is not accepted."


@dataclass(frozen=True)
class CheckedQuery:
    """What the checks found: the text the engine is given, the query form (None if unknown: the
    engine reports the error) and the SERVICE calls."""

    text: str
    form: str | None
    service_calls: tuple[ServiceCall, ...]


@dataclass(frozen=True)
class QueryPlan:
    """A checked query and the job that answers it."""

    checked: CheckedQuery
    job: QueryJob


def check_query(query: str, settings: Mapping[str, Any], base_iri: str) -> CheckedQuery:
    """The text to run, the query's form and SERVICE calls, or the error that refuses it.

    The codepoint escapes are applied first, to the whole text, and every rule reads that text,
    which is also the text the engine is given (:attr:`CheckedQuery.text`). Refused: a text over
    ``max_query_bytes``; escapes that decode to no character or to another escape; an update;
    a SERVICE call that is not to an endpoint of ``service_allowlist`` by its IRI
    (:mod:`govkg.sparql.service_check`). A refusal names the targets, never the allowlist (it
    may name internal endpoints).
    """
    size = len(query.encode("utf-8", "surrogatepass"))
    if size > settings["max_query_bytes"]:
        limit = settings["max_query_bytes"]
        raise QueryTooLarge(f"The query is {size} bytes long; at most {limit} are accepted.")
    try:
        text = apply_codepoint_escapes(query)
        form = operation_form(text)
        if form is not None and form not in QUERY_FORMS:
            raise QueryRefused(READ_ONLY_MESSAGE)
        calls = allowed_service_calls(text, base_iri, settings["service_allowlist"])
    except QueryTextRefused as refusal:
        raise ClientError(str(refusal)) from None
    return CheckedQuery(text, form, calls)


def plan_query(
    query: str,
    settings: Mapping[str, Any],
    base_iri: str,
    format_name: str | None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    checked: CheckedQuery | None = None,
) -> QueryPlan:
    """Check ``query`` (unless ``checked`` is its check already); the job runs the checked text.

    ``format_name`` names a registry format fit for the query's form (the caller negotiates it).
    """
    if checked is None:
        checked = check_query(query, settings, base_iri)
    protocol_dataset = bool(default_graphs or named_graphs)
    job = QueryJob(
        query=checked.text,
        form=checked.form,
        format_name=format_name,
        max_rows=settings["max_result_rows"],
        base_iri=base_iri,
        default_graphs=tuple(default_graphs) if protocol_dataset else None,
        named_graphs=tuple(named_graphs) if protocol_dataset else None,
        federated=bool(checked.service_calls),
    )
    return QueryPlan(checked, job)
