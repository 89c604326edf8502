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
from govkg.sparql.lexer import QueryAnalysis, analyze_query, refused_service_calls
from govkg.sparql.runner import QueryJob


class QueryTooLarge(ClientError):
    """The query text is longer than the ``max_query_bytes`` setting."""


READ_ONLY_MESSAGE = "This endpoint is read-only: SPARQL Update is not accepted."


@dataclass(frozen=True)
class QueryPlan:
    """A checked query: what the text is (:class:`QueryAnalysis`) and the job that answers it."""

    analysis: QueryAnalysis
    job: QueryJob


def check_query(query: str, settings: Mapping[str, Any], base_iri: str) -> QueryAnalysis:
    """The analysis of ``query``, or the error that refuses it (too long, an update, an off-list SERVICE)."""
    size = len(query.encode("utf-8"))
    if size > settings["max_query_bytes"]:
        limit = settings["max_query_bytes"]
        raise QueryTooLarge(f"The query is {size} bytes long; at most {limit} are accepted.")
    analysis = analyze_query(query, base_iri)
    if analysis.is_update:
        raise QueryRefused(READ_ONLY_MESSAGE)
    refused = refused_service_calls(analysis.service_calls, settings["service_allowlist"])
    if refused:
        allowlist = settings["service_allowlist"]
        allowed = (
            ", ".join(f"<{iri}>" for iri in allowlist) if allowlist else "none (service_allowlist is empty)"
        )
        targets = ", ".join(dict.fromkeys(call.target for call in refused))
        raise ClientError(
            f"SERVICE {targets} is not allowed: SERVICE must name an allowed endpoint IRI, "
            f"not a variable. Allowed endpoints: {allowed}."
        )
    return analysis


def plan_query(
    query: str,
    settings: Mapping[str, Any],
    base_iri: str,
    format_name: str | None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    analysis: QueryAnalysis | None = None,
) -> QueryPlan:
    """Check ``query`` (unless ``analysis`` is its check already) and make its job.

    ``format_name`` names a registry format fit for the query's form (the caller negotiates it).
    """
    if analysis is None:
        analysis = check_query(query, settings, base_iri)
    protocol_dataset = bool(default_graphs or named_graphs)
    job = QueryJob(
        query=query,
        form=analysis.form,
        format_name=format_name,
        max_rows=settings["max_result_rows"],
        base_iri=base_iri,
        default_graphs=tuple(default_graphs) if protocol_dataset else None,
        named_graphs=tuple(named_graphs) if protocol_dataset else None,
        federated=bool(analysis.service_calls),
    )
    return QueryPlan(analysis, job)
