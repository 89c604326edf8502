"""Load the knowledge graph — ontology, facts, links — into an embedded pyoxigraph Store.

The dataset has one named graph per part, so a user can ask where a triple comes
from; the endpoint's default graph is their union:

============================  =================================================
``{base}graph/ontology``      ``ontology/govkg.ttl``: the gov: ontology
``{base}graph/facts``         ``data/*.ttl``: the article's facts and evidence
``{base}graph/links``         ``data/links/*.ttl``: links to other datasets
``{base}graph/metadata``      VoID, DCAT-AP and service description (built)
``{base}graph/data/{stem}``   each extra file of the ``data`` setting (or the
                              graph IRI given with it as ``GRAPH_IRI=FILE``)
============================  =================================================

The Turtle files are written with the canonical base ``https://w3id.org/govkg/``;
when the server runs under another base IRI every IRI under the canonical base is
rewritten to it as the files are loaded, so every resource dereferences locally.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import pyoxigraph as ox
from govkg.package_data import DATA_DIR, ONTOLOGY_DIR
from govkg.rdf.formats import rdf_format_for_path
from govkg.rdf.xml_guard import XmlRefused, check_rdf_xml
from govkg.settings import DEFAULT_BASE_IRI, split_data_entry

ONTOLOGY_PATH = ONTOLOGY_DIR / "govkg.ttl"
SHAPES_PATH = ONTOLOGY_DIR / "shapes.ttl"
LINKS_DIR = DATA_DIR / "links"

ONTOLOGY_NAMESPACE_PATH = "ontology#"


class DataFileError(Exception):
    """A data file could not be read or parsed; the message names the file and line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{display_path(self.path)}, line {line}" if line else display_path(self.path)
        super().__init__(f"{where}: {message}")

    @property
    def is_syntax_error(self) -> bool:
        """True when the file was read but its content is not valid RDF."""
        return self.line is not None


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working directory when inside it.

    >>> display_path(Path.cwd() / "data" / "01-overview.ttl")
    'data/01-overview.ttl'
    """
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class GraphPart:
    """One named graph of the dataset and the files it is loaded from.

    ``graph_iri``, when given, names the graph instead of ``{base}graph/{slug}``, and
    relative IRIs in its files resolve against it (the graph is the document); otherwise
    they resolve against each file's own URI.
    """

    slug: str
    files: tuple[Path, ...]
    graph_iri: str | None = None

    def iri(self, base_iri: str) -> str:
        """The named graph's IRI under a base IRI."""
        return self.graph_iri or f"{base_iri}graph/{self.slug}"


def fact_files(data_dir: Path = DATA_DIR) -> tuple[Path, ...]:
    """The Turtle files of the article's facts, one per section, in file-name order."""
    return tuple(sorted(data_dir.glob("*.ttl")))


def link_files(links_dir: Path = LINKS_DIR) -> tuple[Path, ...]:
    """The Turtle files of curated links to other datasets."""
    return tuple(sorted(links_dir.glob("*.ttl"))) if links_dir.is_dir() else ()


def graph_parts(ontology_path: Path = ONTOLOGY_PATH, data_dir: Path = DATA_DIR) -> tuple[GraphPart, ...]:
    """The named graphs built from files, in load order."""
    return (
        GraphPart("ontology", (ontology_path,)),
        GraphPart("facts", fact_files(data_dir)),
        GraphPart("links", link_files(data_dir / "links")),
    )


#: The graphs the server writes itself under ``{base}graph/``: no data file may be loaded into them.
RESERVED_GRAPHS = ("ontology", "facts", "links", "metadata")


def data_file_parts(entries: Iterable[str], base_iri: str) -> tuple[GraphPart, ...]:
    """One graph per extra data file (``FILE`` or ``GRAPH_IRI=FILE``, see the ``data`` setting).

    A file without an IRI gets ``{base}graph/data/{stem}``, its name without the RDF
    and ``.gz`` extensions. The article's own graphs (:data:`RESERVED_GRAPHS`) are refused.
    A file of quads goes whole into its graph, its own graph names dropped.

    >>> [part.iri("http://h/") for part in data_file_parts(["x/census.nt.gz", "urn:g=y.ttl"], "http://h/")]
    ['http://h/graph/data/census', 'urn:g']
    """
    parts = []
    for entry in entries:
        graph_iri, file = split_data_entry(entry)
        path = Path(file)
        if graph_iri in {f"{base_iri}graph/{slug}" for slug in RESERVED_GRAPHS}:
            raise DataFileError(path, f"<{graph_iri}> is one of the article's own graphs; name another")
        stem = path.name.removesuffix(".gz").rsplit(".", 1)[0]
        slug = f"data/{quote(stem, safe='')}"
        parts.append(GraphPart(slug, (path,), graph_iri or f"{base_iri}graph/{slug}"))
    return tuple(parts)


def rebase_term(term: ox.NamedNode | ox.BlankNode | ox.Literal, base_iri: str):  # noqa: ANN201
    """Rewrite an IRI under the canonical base to the same path under ``base_iri``.

    >>> rebase_term(ox.NamedNode("https://w3id.org/govkg/id/place/zhaoqing"), "http://127.0.0.1:5000/")
    <NamedNode value=http://127.0.0.1:5000/id/place/zhaoqing>
    """
    if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE_IRI):
        return ox.NamedNode(base_iri + term.value[len(DEFAULT_BASE_IRI) :])
    return term


def read_quads(
    path: Path, graph_iri: str, base_iri: str = DEFAULT_BASE_IRI, document_iri: str | None = None
) -> Iterator[ox.Quad]:
    """Parse one RDF file (any registry format, gzip included) into quads of ``graph_iri``.

    Relative IRIs in the file resolve against ``document_iri`` (by default the file's URI).
    Raises :class:`DataFileError` naming the file and line of a syntax error.
    """
    try:
        fmt = rdf_format_for_path(path.name)
    except KeyError:
        raise DataFileError(path, "not a known RDF format (by its extension)") from None
    graph = ox.NamedNode(graph_iri)
    rebase = base_iri != DEFAULT_BASE_IRI
    try:
        with _open_maybe_gzip(path) as stream:
            source = stream
            if fmt.oxigraph == ox.RdfFormat.RDF_XML:  # entity bombs and deep nesting are refused first
                source = stream.read()
                check_rdf_xml(source)
            # Blank nodes are renamed: two files' "_:b1" are two nodes (RDF merge, not union).
            base = document_iri or path.resolve().as_uri()
            for triple in ox.parse(source, fmt.oxigraph, base_iri=base, rename_blank_nodes=True):
                s, p, o = triple.subject, triple.predicate, triple.object
                if rebase:
                    s, p, o = rebase_term(s, base_iri), rebase_term(p, base_iri), rebase_term(o, base_iri)
                yield ox.Quad(s, p, o, graph)
    except SyntaxError as error:
        raise DataFileError(path, syntax_message(error), error.lineno) from None
    except XmlRefused as error:
        raise DataFileError(path, f"{error.message} (column {error.column})", error.line) from None
    except OSError as error:
        raise DataFileError(path, error.strerror or str(error)) from None
    except (EOFError, zlib.error) as error:  # a truncated or damaged .gz
        raise DataFileError(path, f"not a valid gzip file: {error}") from None


def syntax_message(error: SyntaxError) -> str:
    message = str(error.msg) if error.msg else str(error)
    # pyoxigraph says "Parser error between line 3 column 11 and line 4 column 1: <reason>";
    # the line is reported separately, so keep the reason and the column.
    if ": " in message and message.startswith("Parser error"):
        message = message.split(": ", 1)[1]
    if error.offset:
        message += f" (column {error.offset})"
    return message


def _open_maybe_gzip(path: Path):  # noqa: ANN202
    if path.name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return path.open("rb")


def load_store(
    base_iri: str = DEFAULT_BASE_IRI,
    parts: Iterable[GraphPart] | None = None,
    store: ox.Store | None = None,
) -> ox.Store:
    """Load the ontology, facts and links into ``store`` (a new in-memory Store by default).

    Every file is parsed before anything is added, so a syntax error in any file
    raises :class:`DataFileError` and leaves the store exactly as it was.
    """
    store = ox.Store() if store is None else store
    quads: list[ox.Quad] = []
    loaded_from: dict[str, Path] = {}
    for part in graph_parts() if parts is None else parts:
        graph_iri = part.iri(base_iri)
        for path in part.files:
            if loaded_from.setdefault(graph_iri, path) != path and part.graph_iri:
                message = f"graph <{graph_iri}> is already loaded from {loaded_from[graph_iri]}"
                raise DataFileError(path, message + "; name another graph with GRAPH_IRI=FILE")
            quads.extend(read_quads(path, graph_iri, base_iri, part.graph_iri))
    store.extend(quads)
    return store


#: Literals the store keeps exactly as written: it canonicalizes only typed literals of the
#: datatypes it knows (derived integer types become xsd:integer, "100.0" becomes "100",
#: "01" becomes "1", oxigraph/oxigraph#526), never a plain string.
_KEPT_AS_WRITTEN = frozenset(
    {"http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
)
_PROBE_PREDICATE = ox.NamedNode("urn:govkg:literal")
_PROBE_BATCH = 50_000


@dataclass(frozen=True)
class LiteralChanges:
    """The triples whose literal the store keeps in another form than the one written.

    ``example`` is one such literal as written and as stored.
    """

    count: int = 0
    example: tuple[ox.Literal, ox.Literal] | None = None

    def __bool__(self) -> bool:
        return self.count > 0

    def message(self, where: str) -> str:
        """One line for the user: how many, and one example."""
        if self.example is None:
            return f"{where}: every literal is stored as written"
        written, stored = self.example
        return (
            f"warning: {where}: the store rewrites {self.count:,} literal(s) to its canonical form, "
            f"e.g. {written} is served as {stored} (pyoxigraph canonicalizes typed literals; "
            "write them in the served form to publish what you wrote)"
        )


def literal_changes(triples: Iterable[ox.Triple | ox.Quad]) -> LiteralChanges:
    """Count the triples whose literal object the store would not keep as written.

    The store is asked itself (a scratch store per batch of distinct literals), so the
    answer follows whatever pyoxigraph canonicalizes, not a list of ours.

    >>> xsd = "http://www.w3.org/2001/XMLSchema#"
    >>> s, p = ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    >>> written = [ox.Literal("7", datatype=ox.NamedNode(xsd + "nonNegativeInteger")), ox.Literal("7")]
    >>> changes = literal_changes(ox.Triple(s, p, o) for o in written)
    >>> changes.count, str(changes.example[1])
    (1, '"7"^^<http://www.w3.org/2001/XMLSchema#integer>')
    """
    count = 0
    example: tuple[ox.Literal, ox.Literal] | None = None
    batch: dict[ox.Literal, int] = {}

    def probe() -> None:
        nonlocal count, example
        literals = list(batch)
        scratch = ox.Store()
        scratch.extend(
            ox.Quad(ox.NamedNode(f"urn:govkg:probe:{index}"), _PROBE_PREDICATE, literal)
            for index, literal in enumerate(literals)
        )
        for quad in scratch:
            written = literals[int(quad.subject.value.rsplit(":", 1)[1])]
            if quad.object != written:
                count += batch[written]
                if example is None or str(written) < str(example[0]):
                    example = (written, quad.object)
        batch.clear()

    for triple in triples:
        literal = triple.object
        if isinstance(literal, ox.Literal) and literal.datatype.value not in _KEPT_AS_WRITTEN:
            batch[literal] = batch.get(literal, 0) + 1
            if len(batch) >= _PROBE_BATCH:
                probe()
    if batch:
        probe()
    return LiteralChanges(count, example)


def file_literal_changes(path: Path, document_iri: str | None = None) -> LiteralChanges:
    """:func:`literal_changes` of one RDF file: a second, streaming parse (DataFileError if it fails).

    In N-Triples and N-Quads every typed literal is written with ``^^`` on its own line,
    so only those lines are parsed again; other formats are parsed whole.
    """
    try:
        fmt = rdf_format_for_path(path.name)
    except KeyError:
        raise DataFileError(path, "not a known RDF format (by its extension)") from None
    if fmt.oxigraph not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return literal_changes(read_quads(path, "urn:govkg:probe", DEFAULT_BASE_IRI, document_iri))
    try:
        with _open_maybe_gzip(path) as stream:
            typed = b"".join(_typed_lines(stream))
    except OSError as error:
        raise DataFileError(path, error.strerror or str(error)) from None
    except (EOFError, zlib.error) as error:
        raise DataFileError(path, f"not a valid gzip file: {error}") from None
    return literal_changes(ox.parse(typed, fmt.oxigraph, rename_blank_nodes=True))


def _typed_lines(stream: BinaryIO, chunk_size: int = 1 << 22) -> Iterator[bytes]:
    """The lines of a line-based RDF file that hold ``^^``, read in chunks."""
    rest = b""
    while chunk := stream.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from (line + b"\n" for line in lines if b"^^" in line)
    if b"^^" in rest:
        yield rest + b"\n"
