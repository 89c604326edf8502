"""The W3C SPARQL test suites: read the manifests, load expected results, compare, run engines.

The suites live in ``tests/w3c/sparql`` (the files the tests read, vendored: see
README.md beside this file). Every file of the suite is named by a stable,
machine-independent IRI, ``http://w3c-test.invalid/<path under sparql/>``: the
manifests are read with that as their base, so the graph names of ``qt:graphData``,
the IRIs of ``FROM <data.ttl>`` and the ``<data.ttl>`` written in expected results
all agree, wherever the suite is checked out.

Three executors run a test: :class:`OxigraphExecutor` and :class:`RdflibExecutor`
in-process (a fresh dataset per test: the default graph from ``qt:data``, one named
graph per ``qt:graphData`` named by the file's IRI, the query's base IRI being the
query file's IRI), and :class:`HttpExecutor`, which sends the query to a SPARQL
endpoint that holds every data file as a named graph (see :func:`data_files`).

Comparison (:func:`compare`) follows the test-suite conventions:

* blank nodes match under one consistent one-to-one mapping over the whole result
  (solution sequence or graph);
* order counts only when the query has a top-level ``ORDER BY`` and the expected
  format records order (all but a ``rs:ResultSet`` without ``rs:index``);
* literals compare by RDF term equality (lexical form, datatype, language tag, the
  tag in lower case as RDF 1.1 defines its value space). The expected files are known
  to write computed numbers inconsistently (``"2"`` vs ``"2.0"`` for an
  ``xsd:decimal``, w3c/rdf-tests#58); ``numeric_by_value=True`` treats two numeric
  literals *of the same datatype* with equal values as equal. It is off by default
  and every figure we record says which mode produced it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUITE_DIR = Path(__file__).resolve().parent / "sparql"
SUITE_IRI = "http://w3c-test.invalid/"

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SD = "http://www.w3.org/ns/sparql-service-description#"

EVALUATION_TYPES = frozenset({"QueryEvaluationTest", "CSVResultFormatTest"})
POSITIVE_SYNTAX_TYPES = frozenset({"PositiveSyntaxTest", "PositiveSyntaxTest11"})
NEGATIVE_SYNTAX_TYPES = frozenset({"NegativeSyntaxTest", "NegativeSyntaxTest11"})

# The manifests that make up "the query tests" of each version (update, protocol,
# entailment and federation have manifests of their own and need other machinery).
QUERY_MANIFESTS = {
    "sparql11": ("sparql11/manifest-sparql11-query.ttl", "sparql11/manifest-sparql11-results.ttl"),
    "sparql10": ("sparql10/manifest-evaluation.ttl", "sparql10/manifest-syntax.ttl"),
}

# The IRI of a default graph nothing is ever loaded into: the empty default graph.
EMPTY_GRAPH_IRI = SUITE_IRI + "empty-default-graph"


def suite_iri(path: Path, root: Path = SUITE_DIR) -> str:
    """The stable IRI of a file of the suite.

    >>> suite_iri(SUITE_DIR / "sparql11" / "bind" / "data.ttl")
    'http://w3c-test.invalid/sparql11/bind/data.ttl'
    """
    return SUITE_IRI + Path(path).resolve().relative_to(root.resolve()).as_posix()


def suite_path(iri: str, root: Path = SUITE_DIR) -> Path | None:
    """The file a suite IRI names, or None for an IRI outside the suite."""
    if not iri.startswith(SUITE_IRI):
        return None
    return root / iri[len(SUITE_IRI) :].split("#", 1)[0]


# --------------------------------------------------------------------------- test cases


@dataclass(frozen=True)
class TestCase:
    """One test of a manifest, its files as paths and their IRIs."""

    __test__ = False  # not a pytest class

    iri: str
    id: str  # e.g. "sparql11/aggregates/agg01": the folder and the test's local name
    name: str
    type: str  # local name of its class, e.g. "QueryEvaluationTest"
    approval: str | None  # local name, e.g. "Approved"; None when the manifest gives none
    query: Path | None
    data: tuple[Path, ...] = ()
    graph_data: tuple[tuple[str, Path], ...] = ()  # (graph name, file)
    result: Path | None = None
    requires: tuple[str, ...] = ()
    needs_service: bool = False  # qt:serviceData: a federated query
    entailment: bool = False  # sd:entailmentRegime: evaluated under an entailment regime
    lax_cardinality: bool = False  # mf:LaxCardinality: REDUCED may drop any duplicates
    comment: str = ""
    root: Path = field(default=SUITE_DIR, repr=False, compare=False)

    @property
    def approved(self) -> bool:
        return self.approval == "Approved"

    @property
    def is_evaluation(self) -> bool:
        return self.type in EVALUATION_TYPES

    @property
    def is_syntax(self) -> bool:
        return self.type in POSITIVE_SYNTAX_TYPES | NEGATIVE_SYNTAX_TYPES

    @property
    def positive(self) -> bool:
        """For a syntax test: whether the query is valid."""
        return self.type in POSITIVE_SYNTAX_TYPES

    @property
    def query_iri(self) -> str:
        """The query's base IRI: its file's IRI."""
        assert self.query is not None
        return suite_iri(self.query, self.root)

    @property
    def query_text(self) -> str:
        assert self.query is not None
        return self.query.read_text(encoding="utf-8")

    @property
    def data_iris(self) -> tuple[str, ...]:
        return tuple(suite_iri(path, self.root) for path in self.data)

    @property
    def query_dataset(self) -> QueryDataset:
        """The graphs the query names with FROM and FROM NAMED."""
        return query_dataset(self.query_text, self.query_iri)

    @property
    def ordered(self) -> bool:
        """Whether the query orders its solutions (a top-level ORDER BY)."""
        return has_top_level_order_by(self.query_text)

    @property
    def result_format(self) -> str:
        """The expected result's extension: srx, srj, tsv, csv, ttl, rdf, nt."""
        assert self.result is not None
        return self.result.suffix.lstrip(".")


def load_tests(manifest: Path | str, root: Path = SUITE_DIR) -> list[TestCase]:
    """Every test of ``manifest`` and of the manifests it includes, in manifest order.

    ``manifest`` is a path, or a path relative to ``root`` such as
    ``"sparql11/manifest-sparql11-query.ttl"``. Manifests are read once per process.
    """
    path = Path(manifest)
    if not path.is_absolute():
        path = root / path
    return list(_load_tests(path.resolve(), root))


@cache
def _load_tests(path: Path, root: Path) -> tuple[TestCase, ...]:
    tests: list[TestCase] = []
    seen_manifests: set[Path] = set()
    seen_tests: set[str] = set()
    for test in _walk_manifest(path, root, seen_manifests):
        if test.iri not in seen_tests:
            seen_tests.add(test.iri)
            tests.append(test)
    return tuple(tests)


def query_tests(version: str = "sparql11", root: Path = SUITE_DIR) -> list[TestCase]:
    """The query-evaluation and query-syntax tests of a SPARQL version, every approval status."""
    tests = []
    for manifest in QUERY_MANIFESTS[version]:
        tests += load_tests(manifest, root)
    return [test for test in tests if test.is_evaluation or test.is_syntax]


def approved_evaluation_tests(version: str = "sparql11", root: Path = SUITE_DIR) -> list[TestCase]:
    """The approved query-evaluation tests (entailment and federation excluded)."""
    return [
        test
        for test in query_tests(version, root)
        if test.is_evaluation and test.approved and not test.needs_service and not test.entailment
    ]


def approved_syntax_tests(version: str = "sparql11", root: Path = SUITE_DIR) -> list[TestCase]:
    """The approved positive and negative query-syntax tests."""
    return [test for test in query_tests(version, root) if test.is_syntax and test.approved]


def _walk_manifest(path: Path, root: Path, seen: set[Path]) -> Iterator[TestCase]:
    import rdflib
    from rdflib.collection import Collection

    if path in seen:
        return
    seen.add(path)
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=suite_iri(path, root))
    mf, rdf_type = rdflib.Namespace(MF), rdflib.RDF.type
    for manifest in graph.subjects(rdf_type, mf.Manifest):
        for include_list in graph.objects(manifest, mf.include):
            for included in Collection(graph, include_list):
                included_path = suite_path(str(included), root)
                if included_path is not None:
                    yield from _walk_manifest(included_path.resolve(), root, seen)
        for entry_list in graph.objects(manifest, mf.entries):
            for entry in Collection(graph, entry_list):
                yield _test_case(graph, entry, path, root)


def _local_name(iri: object) -> str:
    text = str(iri)
    return re.split(r"[#/]", text)[-1]


def _test_case(graph: Any, node: Any, manifest: Path, root: Path) -> TestCase:
    import rdflib

    mf, qt, dawgt = rdflib.Namespace(MF), rdflib.Namespace(QT), rdflib.Namespace(DAWGT)
    sd, rdfs = rdflib.Namespace(SD), rdflib.RDFS

    def path_of(term: Any) -> Path:
        found = suite_path(str(term), root)
        if found is None:
            raise ValueError(f"{manifest}: {term} is not a file of the suite")
        return found

    test_type = _local_name(graph.value(node, rdflib.RDF.type))
    action = graph.value(node, mf.action)
    if isinstance(action, rdflib.URIRef):  # syntax tests: the action is the query itself
        query, action = path_of(action), None
    else:
        query_term = graph.value(action, qt.query) if action is not None else None
        query = path_of(query_term) if query_term is not None else None
    data: list[Path] = []
    graph_data: list[tuple[str, Path]] = []
    needs_service = entailment = False
    if action is not None:
        data = sorted(path_of(term) for term in graph.objects(action, qt.data))
        for term in graph.objects(action, qt.graphData):
            if isinstance(term, rdflib.URIRef):
                graph_data.append((str(term), path_of(term)))
            else:  # [ qt:graph <file> ; rdfs:label "graph name" ]
                file = graph.value(term, qt.graph)
                label = graph.value(term, rdfs.label)
                graph_data.append((str(label) if label is not None else str(file), path_of(file)))
        graph_data.sort()
        needs_service = (action, qt.serviceData, None) in graph
        entailment = (action, sd.entailmentRegime, None) in graph
    result = graph.value(node, mf.result)
    approval = graph.value(node, dawgt.approval)
    folder = manifest.parent.resolve().relative_to(root.resolve()).as_posix()
    return TestCase(
        iri=str(node),
        id=f"{folder}/{_local_name(node)}",
        name=str(graph.value(node, mf.name) or _local_name(node)),
        type=test_type,
        approval=_local_name(approval) if approval is not None else None,
        query=query,
        data=tuple(data),
        graph_data=tuple(graph_data),
        result=path_of(result) if isinstance(result, rdflib.URIRef) else None,
        requires=tuple(sorted(_local_name(term) for term in graph.objects(node, mf.requires))),
        lax_cardinality=(node, mf.resultCardinality, mf.LaxCardinality) in graph,
        needs_service=needs_service,
        entailment=entailment,
        comment=str(graph.value(node, rdfs.comment) or ""),
        root=root,
    )


def data_files(tests: Iterable[TestCase]) -> dict[str, Path]:
    """Every RDF file the tests read, by its IRI: data, graph data and FROM / FROM NAMED graphs.

    This is what an endpoint has to hold, each file as a named graph, to run the tests.
    """
    files: dict[str, Path] = {}
    for test in tests:
        if not test.is_evaluation:
            continue
        for path in test.data:
            files[suite_iri(path, test.root)] = path
        for _, path in test.graph_data:
            files[suite_iri(path, test.root)] = path
        for iri in test.query_dataset.all_graphs:
            path = suite_path(iri, test.root)
            if path is not None and path.is_file():
                files[iri] = path
    return files


def read_triples(path: Path, root: Path = SUITE_DIR) -> list[ox.Triple]:
    """The triples of an RDF file of the suite, its relative IRIs resolved against its suite IRI."""
    return [
        ox.Triple(quad.subject, quad.predicate, quad.object)
        for quad in ox.parse(path=str(path), format=_rdf_format(path), base_iri=suite_iri(path, root))
    ]


# --------------------------------------------------------------------------- query text


_TOKENS = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\s]*>)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
        |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<comment>\#[^\n]*)""",
    re.VERBOSE | re.DOTALL,
)


def _blank_strings_and_comments(query: str) -> str:
    """The query with strings emptied and comments removed, IRIs kept, so keywords can be found.

    >>> _blank_strings_and_comments('SELECT * { ?s <http://x#p> "a # b" } # ORDER BY ?s')
    'SELECT * { ?s <http://x#p> "" } '
    """

    def replace(match: re.Match[str]) -> str:
        if match.group("iri"):
            return match.group(0)
        if match.group("string"):
            return '""'
        return ""

    return _TOKENS.sub(replace, query)


def has_top_level_order_by(query: str) -> bool:
    """Whether ``ORDER BY`` orders the query's own solutions (not only a subquery's).

    >>> has_top_level_order_by("SELECT * { ?s ?p ?o } ORDER BY ?s")
    True
    >>> has_top_level_order_by("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }")
    False
    """
    text = _blank_strings_and_comments(query)
    depth = 0
    for match in re.finditer(r"[{}]|\bORDER\s+BY\b", text, re.IGNORECASE):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            return True
    return False


@dataclass(frozen=True)
class QueryDataset:
    """The graphs of a query's FROM and FROM NAMED clauses, as absolute IRIs."""

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()

    @property
    def given(self) -> bool:
        return bool(self.default or self.named)

    @property
    def all_graphs(self) -> tuple[str, ...]:
        return self.default + self.named


def query_dataset(query: str, base_iri: str) -> QueryDataset:
    """The FROM / FROM NAMED graphs of a query, resolved against BASE and its own base IRI.

    >>> query_dataset("PREFIX : <http://e/> SELECT * FROM <g1.ttl> FROM NAMED :g2 {}", "http://t/q.rq")
    QueryDataset(default=('http://t/g1.ttl',), named=('http://e/g2',))
    """
    text = _blank_strings_and_comments(query)
    prologue = re.split(r"\b(?:SELECT|CONSTRUCT|DESCRIBE|ASK)\b", text, maxsplit=1, flags=re.IGNORECASE)[0]
    base = base_iri
    prefixes: dict[str, str] = {}
    for match in re.finditer(
        r"\bBASE\s*<([^>]*)>|\bPREFIX\s+([\w.-]*):\s*<([^>]*)>", prologue, re.IGNORECASE | re.UNICODE
    ):
        if match.group(1) is not None:
            base = urljoin(base, match.group(1))
        else:
            prefixes[match.group(2)] = urljoin(base, match.group(3))
    default: list[str] = []
    named: list[str] = []
    # FROM is a keyword only in dataset clauses (strings and comments are blanked out).
    pattern = r"(?<![\w:])FROM\s+(NAMED\s+)?(?:<([^>]*)>|([\w.-]*):([^\s{}]*))"
    for match in re.finditer(pattern, text, re.IGNORECASE):
        if match.group(2) is not None:
            iri = urljoin(base, match.group(2))
        else:
            iri = prefixes.get(match.group(3), match.group(3) + ":") + match.group(4)
        (named if match.group(1) else default).append(iri)
    return QueryDataset(tuple(default), tuple(named))


# --------------------------------------------------------------------------- results


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass
class Solutions:
    """A SELECT result: the variables and one dict per solution (unbound variables absent)."""

    variables: tuple[str, ...]
    rows: list[dict[str, Term]]
    ordered: bool = True  # whether the source records an order


@dataclass
class CsvTable:
    """A SELECT result as CSV, which keeps only strings (SPARQL 1.1 CSV is lossy)."""

    variables: tuple[str, ...]
    rows: list[tuple[str, ...]]


Result = Solutions | CsvTable | bool | list[ox.Triple]

RESULTS_FORMATS = {
    "srx": ox.QueryResultsFormat.XML,
    "srj": ox.QueryResultsFormat.JSON,
    "tsv": ox.QueryResultsFormat.TSV,
}


def load_result_file(path: Path, root: Path = SUITE_DIR) -> Result:
    """The expected result of a test, whatever its format."""
    return parse_result(path.read_bytes(), path.suffix.lstrip("."), suite_iri(path, root))


def parse_result(data: bytes, extension: str, base_iri: str | None = None) -> Result:
    """Parse a result in a results format (srx, srj, tsv, csv) or an RDF format (ttl, nt, rdf).

    An RDF document describing a ``rs:ResultSet`` is a SELECT or ASK result; any other
    RDF document is a graph result.
    """
    if extension == "csv":
        return _parse_csv(data)
    if extension in RESULTS_FORMATS:
        return from_oxigraph(ox.parse_query_results(data, RESULTS_FORMATS[extension]))
    rdf_format = ox.RdfFormat.from_extension(extension)
    if rdf_format is None:
        raise ValueError(f"unknown result format {extension!r}")
    triples = [
        ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, rdf_format, base_iri=base_iri)
    ]
    return _result_set_from_rdf(triples)


def _parse_csv(data: bytes) -> CsvTable:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = [tuple(row) for row in reader]
    if not rows:
        return CsvTable((), [])
    return CsvTable(tuple(rows[0]), [row for row in rows[1:] if row])


def from_oxigraph(result: Any) -> Result:
    """Our model of a pyoxigraph query result (solutions, boolean or triples)."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        variables = tuple(variable.value for variable in result.variables)
        rows = [
            {name: solution[name] for name in variables if solution[name] is not None} for solution in result
        ]
        return Solutions(variables, rows)
    return list(result)


def _result_set_from_rdf(triples: list[ox.Triple]) -> Result:
    by_subject: dict[Any, list[ox.Triple]] = defaultdict(list)
    for triple in triples:
        by_subject[triple.subject].append(triple)

    def values(subject: Any, predicate: str) -> list[Any]:
        return [t.object for t in by_subject.get(subject, []) if t.predicate.value == predicate]

    result_sets = [
        t.subject for t in triples if t.predicate.value == RDF + "type" and t.object.value == RS + "ResultSet"
    ]
    if not result_sets:
        return triples
    result_set = result_sets[0]
    boolean = values(result_set, RS + "boolean")
    if boolean:
        return boolean[0].value == "true"
    variables = tuple(literal.value for literal in values(result_set, RS + "resultVariable"))
    indexed: list[tuple[int, dict[str, Term]]] = []
    for solution in values(result_set, RS + "solution"):
        row = {}
        for binding in values(solution, RS + "binding"):
            (name,) = values(binding, RS + "variable")
            (value,) = values(binding, RS + "value")
            row[name.value] = value
        index = values(solution, RS + "index")
        indexed.append((int(index[0].value) if index else 0, row))
    ordered = any(values(solution, RS + "index") for solution in values(result_set, RS + "solution"))
    indexed.sort(key=lambda item: item[0])
    return Solutions(variables, [row for _, row in indexed], ordered=ordered)


# --------------------------------------------------------------------------- comparison

_NUMERIC_DATATYPES = {
    XSD + name
    for name in (
        "integer decimal float double nonPositiveInteger negativeInteger long int short byte "
        "nonNegativeInteger unsignedLong unsignedInt unsignedShort unsignedByte positiveInteger"
    ).split()
}


def term_key(term: Term, numeric_by_value: bool = False) -> Any:
    """What two terms must share to be equal in a comparison (blank nodes are matched apart).

    >>> term_key(ox.Literal("2.0", datatype=ox.NamedNode(XSD + "decimal"))) == term_key(
    ...     ox.Literal("2", datatype=ox.NamedNode(XSD + "decimal")))
    False
    >>> term_key(ox.Literal("2.0", datatype=ox.NamedNode(XSD + "decimal")), True) == term_key(
    ...     ox.Literal("2", datatype=ox.NamedNode(XSD + "decimal")), True)
    True
    """
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return ("lang", term.value, term.language.lower(), str(getattr(term, "direction", "")))
        datatype = term.datatype.value
        if numeric_by_value and datatype in _NUMERIC_DATATYPES:
            value = _numeric_value(term.value, datatype)
            if value is not None:
                return ("number", datatype, value)
        return ("literal", term.value, datatype)
    if isinstance(term, ox.Triple):
        return ("triple", *(term_key(part, numeric_by_value) for part in term))
    return ("bnode", term.value)


def _numeric_value(lexical: str, datatype: str) -> Any:
    text = lexical.strip()
    try:
        if datatype in (XSD + "float", XSD + "double"):
            number = float(text)
            return "NaN" if math.isnan(number) else repr(number)
        return Decimal(text).normalize() if datatype == XSD + "decimal" else int(text)
    except (ValueError, InvalidOperation):
        return None


Row = tuple[Any, ...]  # comparison keys, with ox.BlankNode left in place


def match_rows(expected: Sequence[Row], actual: Sequence[Row], ordered: bool = False) -> bool:
    """Whether the rows are equal under one one-to-one mapping of blank nodes.

    Rows hold comparison keys or :class:`pyoxigraph.BlankNode`; ``None`` is an unbound
    cell. Unordered rows compare as multisets.

    >>> b, c = ox.BlankNode("b"), ox.BlankNode("c")
    >>> match_rows([(b, "x"), (b, "y")], [(c, "y"), (c, "x")])
    True
    >>> match_rows([(b, "x"), (b, "y")], [(c, "y"), (ox.BlankNode("d"), "x")])
    False
    """
    if len(expected) != len(actual):
        return False
    if ordered:
        forward: dict[Any, Any] = {}
        backward: dict[Any, Any] = {}
        return all(_unify(e, a, forward, backward) is not None for e, a in zip(expected, actual, strict=True))
    ground_expected = Counter(row for row in expected if not _has_bnode(row))
    ground_actual = Counter(row for row in actual if not _has_bnode(row))
    if ground_expected != ground_actual:
        return False
    return _match_bnode_rows(
        [row for row in expected if _has_bnode(row)], [row for row in actual if _has_bnode(row)]
    )


def _has_bnode(row: Row) -> bool:
    return any(isinstance(cell, ox.BlankNode) for cell in row)


def _shape(row: Row) -> Row:
    return tuple("_:" if isinstance(cell, ox.BlankNode) else cell for cell in row)


def _unify(e: Row, a: Row, forward: dict, backward: dict) -> list | None:
    """Extend the bnode mapping so ``e`` maps onto ``a``; return the pairs added, None on failure."""
    if len(e) != len(a):
        return None
    added = []
    for x, y in zip(e, a, strict=True):
        x_blank, y_blank = isinstance(x, ox.BlankNode), isinstance(y, ox.BlankNode)
        if x_blank != y_blank:
            break
        if not x_blank:
            if x != y:
                break
            continue
        if x in forward or y in backward:
            if forward.get(x) != y or backward.get(y) != x:
                break
            continue
        forward[x], backward[y] = y, x
        added.append((x, y))
    else:
        return added
    for x, y in added:
        del forward[x], backward[y]
    return None


def _colors(rows: Sequence[Row], rounds: int = 3) -> dict[Any, int]:
    """Colour refinement of blank nodes: equal colours on both sides are necessary for a match."""
    occurrences: dict[Any, list[tuple[Row, int]]] = defaultdict(list)
    for row in rows:
        for position, cell in enumerate(row):
            if isinstance(cell, ox.BlankNode):
                occurrences[cell].append((row, position))
    colors = {node: 0 for node in occurrences}
    for _ in range(rounds):
        colors = {
            node: hash(
                (
                    colors[node],
                    tuple(
                        sorted(
                            hash((_shape(row), position, tuple(colors.get(cell, -1) for cell in row)))
                            for row, position in places
                        )
                    ),
                )
            )
            for node, places in occurrences.items()
        }
    return colors


def _match_bnode_rows(expected: list[Row], actual: list[Row]) -> bool:
    if len(expected) != len(actual):
        return False
    expected_colors, actual_colors = _colors(expected), _colors(actual)

    def signature(row: Row, colors: dict[Any, int]) -> Row:
        return tuple(("_:", colors[cell]) if isinstance(cell, ox.BlankNode) else cell for cell in row)

    candidates_by_signature: dict[Row, list[int]] = defaultdict(list)
    for index, row in enumerate(actual):
        candidates_by_signature[signature(row, actual_colors)].append(index)
    candidates = [candidates_by_signature.get(signature(row, expected_colors), []) for row in expected]
    if any(not options for options in candidates):
        return False
    order = sorted(range(len(expected)), key=lambda i: len(candidates[i]))
    used = [False] * len(actual)
    forward: dict[Any, Any] = {}
    backward: dict[Any, Any] = {}

    def search(step: int) -> bool:
        if step == len(order):
            return True
        row_index = order[step]
        for option in candidates[row_index]:
            if used[option]:
                continue
            added = _unify(expected[row_index], actual[option], forward, backward)
            if added is None:
                continue
            used[option] = True
            if search(step + 1):
                return True
            used[option] = False
            for x, y in added:
                del forward[x], backward[y]
        return False

    return search(0)


def _csv_cell(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value if not isinstance(term, ox.Triple) else str(term)


def _csv_rows(table: CsvTable, variables: Sequence[str]) -> list[Row]:
    positions = [table.variables.index(name) for name in variables]
    return [
        tuple(
            ox.BlankNode(row[i][2:]) if row[i].startswith("_:") else ("csv", row[i]) if row[i] else None
            for i in positions
        )
        for row in table.rows
    ]


def to_csv_table(solutions: Solutions) -> CsvTable:
    """A solution sequence as SPARQL CSV would write it."""
    return CsvTable(
        solutions.variables,
        [tuple(_csv_cell(row.get(name)) for name in solutions.variables) for row in solutions.rows],
    )


def _show(term: Any) -> str:
    """A term in N-Triples, XSD datatypes shortened.

    >>> _show(ox.Literal("2", datatype=ox.NamedNode(XSD + "decimal")))
    '"2"^^xsd:decimal'
    """
    return re.sub(r"\^\^<http://www\.w3\.org/2001/XMLSchema#(\w+)>$", r"^^xsd:\1", str(term))


def _row_lines(result: Result, variables: Sequence[str] | None = None) -> list[str]:
    """One line per solution (variables in the given order), CSV row or triple."""
    if isinstance(result, Solutions):
        names = [name for name in variables or () if name in result.variables] or result.variables
        return [
            " ".join(f"?{name}={_show(row[name])}" for name in names if name in row) for row in result.rows
        ]
    if isinstance(result, CsvTable):
        names = [name for name in variables or () if name in result.variables] or result.variables
        positions = [result.variables.index(name) for name in names]
        return [",".join(row[i] for i in positions) for row in result.rows]
    if isinstance(result, list):
        return sorted(" ".join(_show(term) for term in triple) + " ." for triple in result)
    return [f"boolean {str(result).lower()}"]


def _describe(result: Result, limit: int = 20) -> str:
    if isinstance(result, bool):
        return f"boolean {str(result).lower()}"
    if isinstance(result, Solutions):
        head = f"{len(result.rows)} solution(s) of {' '.join('?' + v for v in result.variables)}"
    elif isinstance(result, CsvTable):
        head = f"{len(result.rows)} CSV row(s) of {','.join(result.variables)}"
    else:
        head = f"{len(result)} triple(s)"
    return "\n".join([head, *("  " + line for line in _row_lines(result)[:limit])])


def _first_difference(expected: Result, actual: Result) -> str:
    """A one-line summary: the counts, then the first row one side has and the other lacks.

    When a missing and an unexpected solution share bindings, only the differing
    variables are shown, e.g. ``?sum "3.21E4"^^xsd:double ≠ "32100"^^xsd:double``.
    """
    if isinstance(expected, bool) or isinstance(actual, bool):
        return f"expected {_row_lines(expected)[0]}, got {_row_lines(actual)[0]}"
    variables = expected.variables if isinstance(expected, Solutions | CsvTable) else None
    lines_e, lines_a = _row_lines(expected), _row_lines(actual, variables)
    only_e = list((Counter(lines_e) - Counter(lines_a)).elements())
    only_a = list((Counter(lines_a) - Counter(lines_e)).elements())
    counts = f"{len(lines_e)} expected, {len(lines_a)} actual"
    if isinstance(expected, Solutions) and isinstance(actual, Solutions) and only_e and only_a:
        missing = expected.rows[lines_e.index(only_e[0])]
        candidates = [actual.rows[i] for i, line in enumerate(lines_a) if line in set(only_a)]

        def shared(row: dict) -> int:
            return sum(1 for name, term in row.items() if missing.get(name) == term)

        closest = max(candidates, key=shared)
        names = [name for name in expected.variables if missing.get(name) != closest.get(name)]
        if shared(closest) and names:
            diffs = ", ".join(
                f"?{name} {_show(missing.get(name, 'unbound'))} ≠ {_show(closest.get(name, 'unbound'))}"
                for name in names
            )
            return f"{counts}; {diffs}"
    parts = [counts]
    if only_e:
        parts.append(f"missing {only_e[0]}")
    if only_a:
        parts.append(f"unexpected {only_a[0]}")
    return "; ".join(parts)


def compare(
    expected: Result,
    actual: Result,
    *,
    ordered: bool = False,
    numeric_by_value: bool = False,
    lax_cardinality: bool = False,
) -> str:
    """Empty if ``actual`` matches ``expected``, else a description of both.

    ``ordered``: the query has a top-level ORDER BY (order is then checked if the
    expected result records one). ``lax_cardinality``: solutions compare as sets, and
    there may be fewer of them (REDUCED may drop any number of duplicates).
    """

    def key(term: Term | None) -> Any:
        if term is None or isinstance(term, ox.BlankNode):
            return term
        return term_key(term, numeric_by_value)

    def explain(reason: str) -> str:
        summary = _first_difference(expected, actual)
        return f"{reason}: {summary}\nexpected: {_describe(expected)}\nactual:   {_describe(actual)}"

    if isinstance(expected, bool) or isinstance(actual, bool):
        return "" if expected is actual else explain("different answers")
    if isinstance(expected, CsvTable):
        if isinstance(actual, Solutions):
            actual = to_csv_table(actual)
        if not isinstance(actual, CsvTable):
            return explain("expected a SELECT result")
        if set(expected.variables) != set(actual.variables):
            return explain("different variables")
        variables = expected.variables
        matched = match_rows(_csv_rows(expected, variables), _csv_rows(actual, variables), ordered=ordered)
        return "" if matched else explain("different rows")
    if isinstance(expected, Solutions):
        if not isinstance(actual, Solutions):
            return explain("expected a SELECT result")
        if set(expected.variables) != set(actual.variables):
            return explain("different variables")
        variables = expected.variables
        rows_e = [tuple(key(row.get(name)) for name in variables) for row in expected.rows]
        rows_a = [tuple(key(row.get(name)) for name in variables) for row in actual.rows]
        if lax_cardinality:
            if len(rows_a) > len(rows_e):
                return explain("more solutions than without REDUCED")
            rows_e, rows_a = list(dict.fromkeys(rows_e)), list(dict.fromkeys(rows_a))
        in_order = ordered and expected.ordered
        return "" if match_rows(rows_e, rows_a, ordered=in_order) else explain("different solutions")
    if not isinstance(actual, list):
        return explain("expected a graph")
    triples_e = {tuple(key(term) for term in triple) for triple in expected}
    triples_a = {tuple(key(term) for term in triple) for triple in actual}
    matched = match_rows(sorted(triples_e, key=str), sorted(triples_a, key=str))
    return "" if matched else explain("different graphs")


# --------------------------------------------------------------------------- executors


@dataclass
class Outcome:
    """The result of running one test with one executor."""

    test: TestCase
    passed: bool
    message: str = ""
    seconds: float = 0.0


class Executor:
    """Runs tests: :meth:`evaluate` a query test, :meth:`accepts` a syntax test's query."""

    name = "executor"

    def evaluate(self, test: TestCase) -> Result:
        raise NotImplementedError

    def accepts(self, test: TestCase) -> bool:
        raise NotImplementedError


def run_test(test: TestCase, executor: Executor, *, numeric_by_value: bool = False) -> Outcome:
    """Run one evaluation or syntax test; never raises for a failure of the engine."""
    started = time.perf_counter()
    try:
        if test.is_syntax:
            accepted = executor.accepts(test)
            passed = accepted == test.positive
            message = "" if passed else f"query {'rejected' if not accepted else 'accepted'}"
        else:
            assert test.result is not None
            expected = load_result_file(test.result, test.root)
            actual = executor.evaluate(test)
            message = compare(
                expected,
                actual,
                ordered=test.ordered,
                numeric_by_value=numeric_by_value,
                lax_cardinality=test.lax_cardinality,
            )
            passed = not message
    except Exception as error:  # noqa: BLE001 - an engine error is a failed test
        passed, message = False, f"{type(error).__name__}: {error}"
    return Outcome(test, passed, message, time.perf_counter() - started)


def _roundtrip_format(test: TestCase) -> str | None:
    """Tests whose expected result is CSV, TSV or JSON test that serialization too."""
    if test.result is not None and test.result_format in ("csv", "tsv", "srj"):
        return test.result_format
    return None


class OxigraphExecutor(Executor):
    """pyoxigraph in-process: a fresh Store per test."""

    name = "pyoxigraph"

    def evaluate(self, test: TestCase) -> Result:
        store = ox.Store()
        for path in test.data:
            store.load(path=str(path), format=_rdf_format(path), base_iri=suite_iri(path, test.root))
        named = dict(test.graph_data)
        for iri in test.query_dataset.all_graphs:  # graphs the query itself names
            path = suite_path(iri, test.root)
            if iri not in named and path is not None and path.is_file():
                named[iri] = path
        for iri, path in named.items():
            store.load(
                path=str(path),
                format=_rdf_format(path),
                base_iri=suite_iri(path, test.root),
                to_graph=ox.NamedNode(iri),
            )
        result = store.query(test.query_text, base_iri=test.query_iri)
        fmt = _roundtrip_format(test)
        if fmt is not None and isinstance(result, ox.QuerySolutions):
            serialized = result.serialize(format=ox.QueryResultsFormat.from_extension(fmt))
            return parse_result(serialized, fmt)
        return from_oxigraph(result)

    def accepts(self, test: TestCase) -> bool:
        try:
            # Parsing happens here; solutions are only computed when iterated.
            ox.Store().query(test.query_text, base_iri=test.query_iri)
        except SyntaxError:
            return False
        except RuntimeError:  # parsed, then refused, e.g. "custom function ... not supported"
            return True
        return True


def _rdf_format(path: Path) -> ox.RdfFormat:
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None:
        raise ValueError(f"{path.name}: unknown RDF format")
    return fmt


class RdflibExecutor(Executor):
    """rdflib in-process: a fresh Dataset per test, default graph not the union."""

    name = "rdflib"

    _RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "rdf": "xml"}

    def evaluate(self, test: TestCase) -> Result:
        import rdflib
        import rdflib.plugins.sparql as rdflib_sparql

        dataset = rdflib.Dataset(default_union=False)
        with _quiet_rdflib():
            for path in test.data:
                dataset.default_context.parse(
                    path, format=self._format(path), publicID=suite_iri(path, test.root)
                )
            named = dict(test.graph_data)
            for iri in test.query_dataset.all_graphs:
                path = suite_path(iri, test.root)
                if iri not in named and path is not None and path.is_file():
                    named[iri] = path
            for iri, path in named.items():
                dataset.graph(rdflib.URIRef(iri)).parse(
                    path, format=self._format(path), publicID=suite_iri(path, test.root)
                )
            saved = rdflib_sparql.SPARQL_LOAD_GRAPHS, rdflib_sparql.SPARQL_DEFAULT_GRAPH_UNION
            rdflib_sparql.SPARQL_LOAD_GRAPHS = False  # FROM must not fetch anything
            rdflib_sparql.SPARQL_DEFAULT_GRAPH_UNION = False
            try:
                result = dataset.query(test.query_text, base=test.query_iri)
                return self._convert(result, test)
            finally:
                rdflib_sparql.SPARQL_LOAD_GRAPHS, rdflib_sparql.SPARQL_DEFAULT_GRAPH_UNION = saved

    def accepts(self, test: TestCase) -> bool:
        from rdflib.plugins.sparql import prepareQuery

        try:
            with _quiet_rdflib():
                prepareQuery(test.query_text, base=test.query_iri)
        except Exception:  # noqa: BLE001 - rdflib raises many kinds for a bad query
            return False
        return True

    def _format(self, path: Path) -> str:
        return self._RDFLIB_FORMATS[path.suffix.lstrip(".")]

    def _convert(self, result: Any, test: TestCase) -> Result:
        if result.type == "ASK":
            return bool(result.askAnswer)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return [ox.Triple(*(from_rdflib(term) for term in triple)) for triple in result.graph]
        variables = tuple(str(variable) for variable in result.vars)
        fmt = _roundtrip_format(test)
        if fmt == "csv":
            return parse_result(result.serialize(format="csv"), "csv")
        if fmt == "srj":
            return parse_result(result.serialize(format="json"), "srj")
        rows = [
            {str(name): from_rdflib(term) for name, term in binding.items() if term is not None}
            for binding in result.bindings
        ]
        return Solutions(variables, rows)


def from_rdflib(term: Any) -> Term:
    """The pyoxigraph term for an rdflib term."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unexpected rdflib term {term!r}")


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """Silence only rdflib's warning about ill-typed literals, which the tests use on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Failed to convert Literal lexical form", category=UserWarning
        )
        yield


# The media type asked for, by the extension of the expected result.
_ACCEPT = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "srj": "application/sparql-results+json",
    "srx": "application/sparql-results+json",
}
_MEDIA_EXTENSIONS = {
    "application/sparql-results+json": "srj",
    "application/sparql-results+xml": "srx",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/n-triples": "nt",
    "text/turtle": "ttl",
    "application/rdf+xml": "rdf",
}


@dataclass
class HttpExecutor(Executor):
    """A SPARQL 1.1 Protocol endpoint that holds every data file as a named graph named by its IRI.

    The query is sent by POST (form-encoded) with ``BASE <query IRI>`` in front, so
    relative IRIs resolve as in-process. Unless the query has its own FROM / FROM
    NAMED, the dataset is given with the protocol: ``default-graph-uri`` for each
    ``qt:data`` file (or :data:`EMPTY_GRAPH_IRI`), ``named-graph-uri`` for each
    ``qt:graphData`` graph. Graph results are asked for as N-Triples, the others as
    SPARQL JSON (or the CSV / TSV that a results-format test is about).
    """

    session: Any  # requests.Session
    endpoint: str
    timeout: float = 30.0
    name: str = "http"
    last_status: int = 0

    def _send(self, test: TestCase, accept: str, dataset: bool) -> Any:
        query = f"BASE <{test.query_iri}>\n{test.query_text}"
        form: list[tuple[str, str]] = [("query", query)]
        if dataset and not test.query_dataset.given:
            for iri in test.data_iris or (EMPTY_GRAPH_IRI,):
                form.append(("default-graph-uri", iri))
            for name, _ in test.graph_data:
                form.append(("named-graph-uri", name))
        response = self.session.post(
            self.endpoint,
            data=form,
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            timeout=self.timeout,
        )
        self.last_status = response.status_code
        return response

    def evaluate(self, test: TestCase) -> Result:
        expected_format = test.result_format
        if expected_format in _ACCEPT:
            accept = _ACCEPT[expected_format]
        else:  # an RDF file: a graph, or a result set written in RDF
            accept = "application/n-triples, application/sparql-results+json;q=0.9"
        response = self._send(test, accept, dataset=True)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        extension = _MEDIA_EXTENSIONS.get(media_type)
        if extension is None:
            raise RuntimeError(f"unexpected Content-Type {media_type!r}")
        result = parse_result(response.content, extension)
        if isinstance(result, list) and expected_format in _ACCEPT:
            raise RuntimeError("graph result for a SELECT / ASK test")
        return result

    def accepts(self, test: TestCase) -> bool:
        """A query is rejected when the endpoint answers 400 (the protocol's "malformed query").

        Any other status accepts the syntax, a 5xx included: that is a failure to
        evaluate, which the evaluation tests judge.
        """
        response = self._send(
            test, "application/sparql-results+json, application/n-triples;q=0.9", dataset=True
        )
        return response.status_code != 400


def run_tests(
    tests: Iterable[TestCase], executor: Executor, *, numeric_by_value: bool = False
) -> list[Outcome]:
    """Run each test with ``executor``, in order."""
    return [run_test(test, executor, numeric_by_value=numeric_by_value) for test in tests]


def failures(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [outcome for outcome in outcomes if not outcome.passed]


def count_passed(outcomes: Iterable[Outcome]) -> int:
    return sum(outcome.passed for outcome in outcomes)


def first_line(message: str, width: int = 100) -> str:
    """The first line of a failure message, shortened for a table.

    >>> first_line("different solutions\\nexpected: ...")
    'different solutions'
    """
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= width else line[: width - 1] + "…"
