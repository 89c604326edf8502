"""``govkg validate``: SHACL over ontology + data, and every evidence quote against the article."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from govkg.graph import evidence, knowledge_graph
from govkg.graph.source_text import article_text
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_QUOTE_SELECTOR = ox.NamedNode(evidence.TEXT_QUOTE_SELECTOR)


@dataclass
class ValidationReport:
    """What ``govkg validate`` found: one readable line per problem."""

    problems: list[str] = field(default_factory=list)
    checked_triples: int = 0
    checked_quotes: int = 0

    @property
    def conforms(self) -> bool:
        return not self.problems


class PreparedQueryGraph(rdflib.Graph):
    """An rdflib Graph that parses each SPARQL query text once (``rdflib.plugins.sparql.prepareQuery``).

    pyshacl evaluates a SPARQL-based constraint once per focus node: the same text each time, with
    ``$this`` bound through ``initBindings``. rdflib would parse the text on every call, about half
    of a validation's time.
    """

    def __init__(self) -> None:
        super().__init__()
        self._prepared: dict[str, Query] = {}

    def query(  # type: ignore[override]
        self,
        query_object: str | Query,
        processor: Any = "sparql",  # noqa: ANN401 - rdflib's own signature
        result: Any = "sparql",  # noqa: ANN401
        initNs: Mapping[str, Any] | None = None,  # noqa: N803
        initBindings: Mapping[str, Any] | None = None,  # noqa: N803
        use_store_provided: bool = True,
        **kwargs: Any,  # noqa: ANN401
    ) -> rdflib.query.Result:
        if isinstance(query_object, str) and processor == "sparql" and not initNs and not kwargs:
            if query_object not in self._prepared:
                self._prepared[query_object] = prepareQuery(query_object, initNs=dict(self.namespaces()))
            query_object = self._prepared[query_object]
        return super().query(
            query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs
        )


def to_rdflib(quads: list[ox.Quad]) -> rdflib.Graph:
    """The union of the quads as one rdflib Graph (N-Triples is the lossless bridge); it parses each
    SPARQL query text it is asked once."""
    graph = PreparedQueryGraph()
    triples = {quad.triple for quad in quads}
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
    return graph


def validate_files(
    data_dir: Path | None = None, ontology_path: Path | None = None, shapes_path: Path | None = None
) -> ValidationReport:
    """Validate what is served: the ontology, facts and links as the server's store holds them.

    The files are loaded into a store as the server loads them (:func:`knowledge_graph.load_store`),
    and the shapes run on what comes back out, so a term the store rewrites (pyoxigraph
    canonicalizes typed literals) is judged as it is served. Every literal the store would
    not keep as written is a problem too: what is published must be what is written.
    The metadata graph (VoID, DCAT-AP) is built at start-up and checked against DCAT-AP's
    own shapes (tests/test_metadata.py), not these. Raises DataFileError for a file that does
    not parse.
    """
    parts = knowledge_graph.graph_parts(
        ontology_path or knowledge_graph.ONTOLOGY_PATH, data_dir or knowledge_graph.DATA_DIR
    )
    shapes_file = shapes_path or knowledge_graph.SHAPES_PATH
    shapes = rdflib.Graph()
    list(knowledge_graph.read_quads(shapes_file, "urn:govkg:shapes"))  # syntax check with file and line
    shapes.parse(shapes_file, format="turtle")

    report = ValidationReport()
    for part in parts:
        for path in part.files:
            changes = knowledge_graph.file_literal_changes(path)
            if changes:
                written, stored = changes.example or (None, None)
                report.problems.append(
                    f"not served as written: {knowledge_graph.display_path(path)}: {changes.count} "
                    f"literal(s) the store rewrites, e.g. {written} is served as {stored}"
                )
    store = knowledge_graph.load_store(knowledge_graph.DEFAULT_BASE_IRI, parts)
    quads = list(store)

    # The ontology is part of the data graph so that sh:targetClass reaches instances of subclasses.
    data_graph = to_rdflib(quads)
    report.checked_triples = len(data_graph)
    # In place: the graph is this validation's own (pyshacl would copy it, as a plain rdflib Graph).
    _conforms, results_graph, _text = pyshacl.validate(
        data_graph, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True, inplace=True
    )
    report.problems.extend(shacl_problems(results_graph))
    report.problems.extend(evidence.check_annotations(store, article_text()))
    report.checked_quotes = sum(1 for _ in store.quads_for_pattern(None, _RDF_TYPE, _QUOTE_SELECTOR))
    return report


def shacl_problems(results_graph: rdflib.Graph) -> list[str]:
    """One line per SHACL result with severity Violation: focus node, path, value and message."""
    lines = []
    for result in results_graph.subjects(RDF.type, SH.ValidationResult):
        severity = results_graph.value(result, SH.resultSeverity)
        if severity != SH.Violation:
            continue
        focus = results_graph.value(result, SH.focusNode)
        path = results_graph.value(result, SH.resultPath)
        value = results_graph.value(result, SH.value)
        messages = sorted(str(m) for m in results_graph.objects(result, SH.resultMessage))
        where = f"<{focus}>" if isinstance(focus, rdflib.URIRef) else str(focus)
        if path is not None:
            where += f" {_short(results_graph, path)}"
        detail = "; ".join(messages) or "constraint violated"
        if value is not None:
            detail += f" (value: {value.n3(results_graph.namespace_manager)})"
        lines.append(f"violation: {where}: {detail}")
    return sorted(lines)


def _short(graph: rdflib.Graph, term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.URIRef):
        return term.n3(graph.namespace_manager)
    return "(complex path)"
