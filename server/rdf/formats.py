"""The one registry of RDF and SPARQL-results formats.

Each format is declared once — its short name, media type, file extension, the
pyoxigraph format that reads and writes it, the rdflib plugin name, whether it
carries named graphs, and the IRIs that name it in metadata (W3C's format IRI for
VoID and the service description, the EU file type for DCAT). Content negotiation,
the dumps, the resource pages, the metadata documents and the CLI's ``--format``
options all read these tables: adding a format is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph


@dataclass(frozen=True)
class RdfFormat:
    """An RDF serialization."""

    name: str
    label: str
    media_type: str
    extension: str
    oxigraph: pyoxigraph.RdfFormat
    rdflib_name: str
    carries_graphs: bool
    aliases: tuple[str, ...] = field(default=())
    #: The EU Publications Office file type (DCAT-AP's ``dct:format`` of a distribution).
    eu_file_type: str = ""

    @property
    def content_type(self) -> str:
        """The exact Content-Type header value served for this format."""
        return content_type(self.media_type)

    @property
    def format_iri(self) -> str:
        """The W3C format IRI (``http://www.w3.org/ns/formats/…``): VoID features, SD result formats.

        >>> rdf_format("jsonld").format_iri
        'http://www.w3.org/ns/formats/JSON-LD'
        """
        return w3c_format_iri(self.oxigraph.iri)


@dataclass(frozen=True)
class ResultsFormat:
    """A SPARQL query results serialization (for SELECT and ASK)."""

    name: str
    label: str
    media_type: str
    extension: str
    oxigraph: pyoxigraph.QueryResultsFormat
    aliases: tuple[str, ...] = field(default=())

    @property
    def content_type(self) -> str:
        """The exact Content-Type header value served for this format."""
        return content_type(self.media_type)

    @property
    def format_iri(self) -> str:
        """The W3C format IRI, e.g. ``http://www.w3.org/ns/formats/SPARQL_Results_JSON``."""
        return w3c_format_iri(self.oxigraph.iri)


EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
# pyoxigraph names JSON-LD by its newer IRI; the W3C formats namespace and the service
# description vocabulary use the one below.
_W3C_FORMAT_IRIS = {"https://www.w3.org/ns/formats/data/JSON-LD": "http://www.w3.org/ns/formats/JSON-LD"}


def w3c_format_iri(iri: str) -> str:
    """The W3C format IRI for pyoxigraph's IRI of a format.

    >>> w3c_format_iri("http://www.w3.org/ns/formats/Turtle")
    'http://www.w3.org/ns/formats/Turtle'
    """
    return _W3C_FORMAT_IRIS.get(iri, iri)


# Listed in order of preference: the first is the default when a client accepts anything.
RDF_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat(
        "ttl",
        "Turtle",
        "text/turtle",
        "ttl",
        pyoxigraph.RdfFormat.TURTLE,
        "turtle",
        False,
        ("application/x-turtle", "application/turtle"),
        eu_file_type=EU_FILE_TYPE + "RDF_TURTLE",
    ),
    RdfFormat(
        "nt",
        "N-Triples",
        "application/n-triples",
        "nt",
        pyoxigraph.RdfFormat.N_TRIPLES,
        "nt",
        False,
        ("text/plain",),
        eu_file_type=EU_FILE_TYPE + "RDF_N_TRIPLES",
    ),
    RdfFormat(
        "jsonld",
        "JSON-LD",
        "application/ld+json",
        "jsonld",
        pyoxigraph.RdfFormat.JSON_LD,
        "json-ld",
        False,
        eu_file_type=EU_FILE_TYPE + "JSON_LD",
    ),
    RdfFormat(
        "rdfxml",
        "RDF/XML",
        "application/rdf+xml",
        "rdf",
        pyoxigraph.RdfFormat.RDF_XML,
        "xml",
        False,
        eu_file_type=EU_FILE_TYPE + "RDF_XML",
    ),
    RdfFormat(
        "nq",
        "N-Quads",
        "application/n-quads",
        "nq",
        pyoxigraph.RdfFormat.N_QUADS,
        "nquads",
        True,
        ("text/x-nquads",),
        eu_file_type=EU_FILE_TYPE + "RDF_N_QUADS",
    ),
    RdfFormat(
        "trig",
        "TriG",
        "application/trig",
        "trig",
        pyoxigraph.RdfFormat.TRIG,
        "trig",
        True,
        ("application/x-trig",),
        eu_file_type=EU_FILE_TYPE + "RDF_TRIG",
    ),
)

RESULTS_FORMATS: tuple[ResultsFormat, ...] = (
    ResultsFormat(
        "json",
        "SPARQL JSON",
        "application/sparql-results+json",
        "srj",
        pyoxigraph.QueryResultsFormat.JSON,
        ("application/json",),
    ),
    ResultsFormat(
        "xml",
        "SPARQL XML",
        "application/sparql-results+xml",
        "srx",
        pyoxigraph.QueryResultsFormat.XML,
        ("application/xml", "text/xml"),
    ),
    ResultsFormat("csv", "CSV", "text/csv", "csv", pyoxigraph.QueryResultsFormat.CSV),
    ResultsFormat("tsv", "TSV", "text/tab-separated-values", "tsv", pyoxigraph.QueryResultsFormat.TSV),
)

# Media types that are text get an explicit charset; the SPARQL and RDF media types
# registered as UTF-8-only do too, because clients and proxies (gzip filters among
# them) look for it.
_TEXTUAL_MEDIA_TYPES = {
    "text/turtle",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/sparql-results+json",
    "application/ld+json",
    "text/csv",
    "text/tab-separated-values",
    "text/html",
    "text/plain",
    "application/json",
}


def content_type(media_type: str) -> str:
    """The Content-Type header value for a media type.

    >>> content_type("text/turtle")
    'text/turtle; charset=utf-8'
    >>> content_type("application/rdf+xml")
    'application/rdf+xml'
    """
    if media_type in _TEXTUAL_MEDIA_TYPES:
        return f"{media_type}; charset=utf-8"
    return media_type


def _lookup(formats: tuple, name: str, kind: str):  # noqa: ANN202 - returns an item of ``formats``
    for fmt in formats:
        if name in (fmt.name, fmt.extension, fmt.media_type, *fmt.aliases):
            return fmt
    raise KeyError(f"unknown {kind} format {name!r}")


def rdf_format(name: str) -> RdfFormat:
    """Look an RDF format up by its short name, extension or media type.

    >>> rdf_format("ttl").media_type
    'text/turtle'
    >>> rdf_format("application/ld+json").name
    'jsonld'
    >>> rdf_format("rdf").name
    'rdfxml'
    """
    return _lookup(RDF_FORMATS, name, "RDF")


def results_format(name: str) -> ResultsFormat:
    """Look a results format up by its short name, extension or media type.

    >>> results_format("text/csv").name
    'csv'
    >>> results_format("srj").name
    'json'
    """
    return _lookup(RESULTS_FORMATS, name, "results")


def rdf_format_for_path(path: str) -> RdfFormat:
    """The RDF format of a file from its extension, ignoring a trailing ``.gz``.

    >>> rdf_format_for_path("data/links/geonames.ttl").name
    'ttl'
    >>> rdf_format_for_path("big.nt.gz").name
    'nt'
    """
    name = path[:-3] if path.endswith(".gz") else path
    extension = name.rsplit(".", 1)[-1].lower()
    extension = {"owl": "rdf", "xml": "rdf", "json": "jsonld", "n3": "ttl"}.get(extension, extension)
    return rdf_format(extension)
