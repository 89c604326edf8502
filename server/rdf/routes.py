"""The public paths of the server's system routes, each spelled once.

The web blueprints register their URL rules from this table, and the VoID description,
the DCAT-AP catalogue, the service description and the dumps index name the same URLs
from it, so a path is changed in one place. The builders below the web layer
(``govkg dump`` and ``govkg load`` write the metadata too) must not import Flask: this
module imports nothing.

Each path is relative to the base IRI (the server answers for the base, so
``{base}{path}`` is both an IRI of the published data and a URL the server answers).
"""

from __future__ import annotations

#: The SPARQL 1.1 Protocol endpoint (and the service description, without a query).
SPARQL_ENDPOINT = "sparql"
#: The VoID description (RFC 8615 well-known URI, named by the VoID note §7.2).
VOID_DOCUMENT = ".well-known/void"
#: The DCAT-AP catalogue.
CATALOG = "catalog"
#: The dumps index; each dump file is below it (:func:`dump_url`).
DUMPS = "dumps/"


def rule(path: str) -> str:
    """The site-relative URL rule of a path of this table (what a blueprint registers).

    >>> rule(SPARQL_ENDPOINT), rule(DUMPS)
    ('/sparql', '/dumps/')
    """
    return "/" + path


def endpoint_url(base_iri: str) -> str:
    """The SPARQL endpoint's URL, which is also the base IRI its queries are resolved against.

    >>> endpoint_url("https://w3id.org/govkg/")
    'https://w3id.org/govkg/sparql'
    """
    return base_iri + SPARQL_ENDPOINT


def void_url(base_iri: str) -> str:
    """The URL of the VoID description.

    >>> void_url("https://w3id.org/govkg/")
    'https://w3id.org/govkg/.well-known/void'
    """
    return base_iri + VOID_DOCUMENT


def catalog_url(base_iri: str) -> str:
    """The URL of the DCAT-AP catalogue.

    >>> catalog_url("https://w3id.org/govkg/")
    'https://w3id.org/govkg/catalog'
    """
    return base_iri + CATALOG


def dumps_index_url(base_iri: str) -> str:
    """The URL of the dumps index.

    >>> dumps_index_url("https://w3id.org/govkg/")
    'https://w3id.org/govkg/dumps/'
    """
    return base_iri + DUMPS


def dump_url(base_iri: str, file_name: str) -> str:
    """The download URL of one dump file.

    >>> dump_url("https://w3id.org/govkg/", "govkg.ttl.gz")
    'https://w3id.org/govkg/dumps/govkg.ttl.gz'
    """
    return dumps_index_url(base_iri) + file_name
