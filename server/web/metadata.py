"""``/.well-known/void`` and ``/catalog``: the VoID and DCAT-AP documents of :mod:`govkg.store.metadata`."""

from __future__ import annotations

import hashlib
import importlib.util

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, request
from govkg.rdf.routes import CATALOG, VOID_DOCUMENT, rule
from govkg.rdf.serialize import serialize_triples
from govkg.store.loaded import LoadedGraph
from govkg.store.metadata import (
    LICENSE_IRI,
    THEMES,
    THEMES_ZH,
    DatasetStatistics,
    MetadataIris,
    cached_statistics,
    dataset_prose,
    dataset_statistics,
    dcat_triples,
    example_resources,
    linksets,
    metadata_documents,
    metadata_graph_quads,
    void_triples,
)
from govkg.web.i18n import page_language
from govkg.web.negotiation import negotiate
from govkg.web.representations import HTML, TRIPLE_FORMATS, document_name, representation_headers
from govkg.web.responses import app_cache, html_page, install_cache
from werkzeug.exceptions import NotAcceptable, NotFound

blueprint = Blueprint("metadata", __name__)


@blueprint.record_once
def _install(state) -> None:  # noqa: ANN001
    install_cache(state.app, "metadata")
    _refresh_metadata_graph(state.app)


def _metadata_graph_triples(app: Flask, loaded: LoadedGraph, documents: dict) -> list[ox.Triple]:
    triples = [t for part in documents.values() for t in part]
    if importlib.util.find_spec("govkg.store.service_description") is not None:
        from govkg.store.service_description import service_description_quads

        triples += [q.triple for q in service_description_quads(loaded, app.config["GOVKG_SETTINGS"])]
    return triples


def _refresh_metadata_graph(app: Flask) -> None:
    """The app's metadata graph, from what is known without reading the data, plus the service description.

    The SPARQL service description (``govkg.store.service_description``) depends on the app's
    settings (limits, allowlist), which the loader does not see. Counts and dump sizes
    are in the graph only when computed before: a persistent store's, from the start after
    their first request. A persistent store's graph is rewritten only when what it is built
    from changed, so replicas with the same settings never write.
    """
    from govkg.store.dumps import known_dumps
    from govkg.web.store import EXTENSION_KEY

    loaded = app.extensions[EXTENSION_KEY]
    if loaded.backend.kind == "remote":
        return  # an external store's metadata graph is the one `govkg load --into` put there
    dumps = known_dumps(loaded)
    graph = loaded.graph_iri("metadata")
    if loaded.backend.kind == "memory":  # rebuilt in place
        triples = _metadata_graph_triples(app, loaded, metadata_documents(loaded, dumps, counted=False))
        loaded.store.clear_graph(graph)
        loaded.store.extend(metadata_graph_quads(loaded.store, graph, triples))
        return
    settings = app.config["GOVKG_SETTINGS"]
    key_parts = [
        loaded.dataset_version,
        str(cached_statistics(loaded) is not None),
        *(f"{d.file.name}:{d.sha256}" for d in dumps),
        *(str(settings[name]) for name in ("service_allowlist", "max_result_rows", "query_timeout")),
    ]
    key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:16]
    from govkg.store.persistent import StoreDirectory, write_metadata_graph

    folder = StoreDirectory(loaded.store_directory)
    if folder.read_state().metadata_key == key:
        return
    documents = metadata_documents(loaded, dumps, counted=False)
    triples = _metadata_graph_triples(app, loaded, documents)
    loaded.backend.handle.release()  # RocksDB: one writer, and no reader in this process meanwhile
    store = folder.open_read_write()
    try:
        store.clear_graph(graph)
        write_metadata_graph(folder, store, metadata_graph_quads(store, graph, triples), key)
    finally:
        del store


def _statistics(loaded: LoadedGraph) -> DatasetStatistics:
    """The dataset's counts, computed on first use, once per dataset version and process."""
    return app_cache("metadata").get(loaded.dataset_version, "statistics", lambda: dataset_statistics(loaded))


def _document_triples(loaded: LoadedGraph, kind: str) -> list[ox.Triple]:
    """The served document ``kind`` (``void`` or ``catalog``), with every figure, built on first request.

    The VoID description carries the counts (:func:`_statistics`); the catalogue the
    dumps' sizes and checksums as the dumps index lists them (:func:`govkg.store.dumps.listed_dumps`:
    a small dataset's files are built for it). Each is built once per dataset version
    and process; concurrent first requests wait for one build.
    """
    from govkg.store.dumps import known_dumps, listed_dumps

    def build() -> list[ox.Triple]:
        if kind == "void":
            return void_triples(loaded, _statistics(loaded), known_dumps(loaded))
        return dcat_triples(loaded, listed_dumps(loaded))

    return app_cache("metadata").get(loaded.dataset_version, ("document", kind), build)


def _serve(kind: str, local_path: str, extension: str | None, template: str) -> Response:
    from govkg.web.store import loaded_graph

    extensions = {fmt.extension: fmt for fmt in TRIPLE_FORMATS}
    if extension is not None and extension not in extensions and extension != "html":
        raise NotFound(f"Available as {', '.join('.' + ext for ext in [*extensions, 'html'])}.")
    loaded = loaded_graph()
    if extension is None:
        offered = [fmt.media_type for fmt in TRIPLE_FORMATS] + [HTML]
        offered += [alias for fmt in TRIPLE_FORMATS for alias in fmt.aliases]
        chosen = negotiate(request.headers.get("Accept"), offered)
        if chosen is None:
            raise NotAcceptable("Available as " + ", ".join(offered[: len(TRIPLE_FORMATS) + 1]) + ".")
        fmt = (
            None
            if chosen == HTML
            else next(f for f in TRIPLE_FORMATS if chosen in (f.media_type, *f.aliases))
        )
    else:
        fmt = extensions.get(extension)
    triples = _document_triples(loaded, kind)
    if fmt is not None:
        data = app_cache("metadata").get(
            loaded.dataset_version, (kind, fmt.name), lambda: serialize_triples(triples, fmt, loaded.base_iri)
        )
        response = Response(data, headers={"Content-Type": fmt.content_type})
        return representation_headers(
            response, loaded, local_path, fmt.extension, extension is None, fmt.name
        )
    from govkg.store.dumps import human_size, known_dumps, listed_dumps

    language = page_language()
    iris = MetadataIris(loaded.base_iri)
    cache = app_cache("metadata")
    response = html_page(
        template,
        loaded=loaded,
        iris=iris,
        language=language,
        page_language=language,
        title=dataset_prose().title[language],
        description=dataset_prose().description[language],
        keywords=dataset_prose().keywords[language],
        themes=THEMES_ZH if language == "zh" else THEMES,
        stats=_statistics(loaded) if kind == "void" else None,
        linksets=cache.get(loaded.dataset_version, "linksets", lambda: linksets(loaded)),
        examples=cache.get(loaded.dataset_version, "examples", lambda: example_resources(loaded)),
        built=known_dumps(loaded) if kind == "void" else listed_dumps(loaded),
        human_size=human_size,
        alternates=[(document_name(local_path, f.extension), f.label, f.media_type) for f in TRIPLE_FORMATS],
        license_iri=LICENSE_IRI,
    )
    return representation_headers(response, loaded, local_path, "html", extension is None, f"html-{language}")


@blueprint.get(rule(VOID_DOCUMENT))
@blueprint.get(rule(VOID_DOCUMENT) + ".<extension>")
def void_document(extension: str | None = None) -> Response:
    """The VoID description of the dataset (Turtle unless the client prefers another form)."""
    return _serve("void", VOID_DOCUMENT, extension, "void.html")


@blueprint.get(rule(CATALOG))
@blueprint.get(rule(CATALOG) + ".<extension>")
def catalog(extension: str | None = None) -> Response:
    """The DCAT-AP 3.0.1 catalogue (Turtle unless the client prefers another form)."""
    return _serve("catalog", CATALOG, extension, "catalog.html")
