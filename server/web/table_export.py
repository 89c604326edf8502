"""CSV exports of a resource page's tables: its properties and, for a Data Cube dataset (or one of
its observations), the dataset's observations as one row each.

Each export is a link to the SPARQL endpoint with a ``SELECT`` that gives the table and
``format=csv`` (and a second with ``bom=1``, for Excel): the standard protocol answers it, with
its row cap and time limit, and the reader can open the same query in the editor. Nothing is
stored on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox
from govkg.web import cube_view
from govkg.web.query_page import sparql_url

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
#: Columns a dataset's table leaves out: every row has them, with the same value.
_SAME_IN_EVERY_ROW = frozenset({cube_view.QB_DATASET.value, cube_view.RDF_TYPE.value, RDFS_LABEL})


@dataclass
class TableExport:
    """The two CSV links of one table, and the query they run."""

    query: str
    csv: str
    excel_csv: str


def _export(query: str) -> TableExport:
    return TableExport(
        query, sparql_url(query=query, format="csv"), sparql_url(query=query, format="csv", bom="1")
    )


def _language_filter(variable: str, language: str) -> str:
    return f'FILTER(LANGMATCHES(LANG(?{variable}), "{language}"))'


def properties_query(resource: ox.NamedNode, language: str) -> str:
    """The resource's properties: one row per property and value, with the value's label.

    >>> query = properties_query(ox.NamedNode("http://example.org/x"), "zh")
    >>> query.splitlines()[1]
    '  <http://example.org/x> ?property ?value .'
    >>> 'FILTER(LANGMATCHES(LANG(?label), "zh"))' in query
    True
    """
    return (
        "SELECT ?property ?value (SAMPLE(?label) AS ?value_label) WHERE {\n"
        f"  {resource} ?property ?value .\n"
        f"  OPTIONAL {{ ?value <{RDFS_LABEL}>|<{SKOS_PREF_LABEL}> ?label "
        f"{_language_filter('label', language)} }}\n"
        "}\nGROUP BY ?property ?value\nORDER BY ?property ?value"
    )


def column_names(predicates: list[str]) -> list[str]:
    """A SPARQL variable for each predicate: its local name, made unique.

    >>> column_names(["http://a.org/x#refArea", "http://b.org/refArea", "http://c.org/v/1-b"])
    ['refArea', 'refArea_2', 'b']
    """
    names: list[str] = []
    for predicate in predicates:
        local = re.split(r"[#/]", predicate.rstrip("/#"))[-1]
        base = re.sub(r"\W", "_", local).strip("_")
        base = re.sub(r"^[\d_]+", "", base) or "value"
        name, number = base, 2
        while name in names or name in ("observation", "label"):
            name, number = f"{base}_{number}", number + 1
        names.append(name)
    return names


def dataset_export(store: ox.Store, dataset: ox.NamedNode, language: str) -> TableExport:
    """The dataset's observations, one row each: its label and a column per property they use."""
    predicates = sorted(
        {
            quad.predicate.value
            for observation in cube_view.observations_of(store, dataset)
            for quad in store.quads_for_pattern(observation, None, None, None)
        }
        - _SAME_IN_EVERY_ROW
    )
    columns = column_names(predicates)
    optionals = "".join(
        f"  OPTIONAL {{ ?observation <{predicate}> ?{column} }}\n"
        for predicate, column in zip(predicates, columns, strict=True)
    )
    query = (
        f"SELECT ?observation ?label {' '.join('?' + column for column in columns)} WHERE {{\n"
        f"  ?observation <{cube_view.QB_DATASET.value}> {dataset} .\n"
        f"  OPTIONAL {{ ?observation <{RDFS_LABEL}> ?label {_language_filter('label', language)} }}\n"
        f"{optionals}}}\nORDER BY ?observation"
    )
    return _export(query)


def table_exports(store: ox.Store, resource: ox.NamedNode, language: str) -> dict[str, TableExport | None]:
    """The exports a resource page offers: ``properties`` always, ``dataset`` on the page of a
    Data Cube dataset or of one of its observations."""
    dataset = None
    if any(True for _ in store.quads_for_pattern(None, cube_view.QB_DATASET, resource, None)):
        dataset = resource
    else:
        dataset = cube_view.dataset_of(store, resource)
    return {
        "properties": _export(properties_query(resource, language)),
        "dataset": dataset_export(store, dataset, language) if dataset is not None else None,
    }
