"""Opening the knowledge graph where the ``store`` setting says: in memory, a folder, or a SPARQL store.

Each opener returns a :class:`~govkg.store.loaded.LoadedGraph`; :data:`STORE_OPENERS` picks
one. A new backend is one line there and a module of its own (see :mod:`govkg.store.backends`).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govkg.graph import knowledge_graph
from govkg.malloc import release_free_memory
from govkg.settings import DEFAULT_BASE_IRI, REMOTE_STORE_PREFIX
from govkg.store.backends import DiskBackend, MemoryBackend
from govkg.store.loaded import LoadedGraph
from govkg.store.metadata import dataset_metadata_quads, precompute_statistics
from govkg.store.persistent import (
    PersistentStore,
    StoreDirectory,
    bulk_load_file,
    load_files,
    pending_entries,
)
from govkg.store.search_index import SearchIndex, open_search_index
from govkg.store.versions import article_version, dataset_version

log = logging.getLogger(__name__)

#: A data file from this size on is announced before it loads (about a second's work and more).
ANNOUNCED_FILE_SIZE = 8 * 1024 * 1024


def open_knowledge_graph(base_iri: str, data: Iterable[str] = ()) -> LoadedGraph:
    """Load ontology, facts and links, then add the dataset metadata built from them.

    The metadata graph holds no figure that needs a pass over the whole data (counts, dump
    sizes): see :func:`govkg.store.metadata.dataset_metadata_quads`.

    ``data`` lists extra files (the ``data`` setting: ``FILE`` or ``GRAPH_IRI=FILE``),
    each loaded into its own named graph; a bad file raises
    :class:`~govkg.graph.knowledge_graph.DataFileError` and nothing is loaded.
    """
    article = knowledge_graph.graph_parts()
    extra = knowledge_graph.data_file_parts(data, base_iri)
    parts = article + extra
    files = tuple(path for part in parts for path in part.files)
    for part in extra:  # a big file takes seconds: say what is going on (progress follows every 5 s)
        size = sum(path.stat().st_size for path in part.files if path.is_file())
        if size >= ANNOUNCED_FILE_SIZE:
            log.info("loading %s (%s bytes) into <%s>", part.files[0], f"{size:,}", part.iri(base_iri))
    if base_iri == DEFAULT_BASE_IRI and extra:
        # Nothing to rewrite in the data files: pyoxigraph streams them into the store itself,
        # never as Python objects (a million triples would leave the process a gigabyte bigger).
        _check_distinct_graphs(parts, base_iri)
        # The literal check reads the files a second time: on another core, while pyoxigraph's
        # bulk loader (which runs without the GIL) loads them (1M triples: 4 s of 20 at start-up).
        # The version's hash reads them a third time, beside the load too (5M triples: 1.5 s).
        check = _LiteralCheck(extra)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="govkg-data-version") as pool:
            version = pool.submit(dataset_version, files, base_iri)
            try:
                store = knowledge_graph.load_store(base_iri, article)
                for part in extra:
                    bulk_load_file(store, part.files[0], part.iri(base_iri), part.graph_iri, progress=False)
            finally:
                check.join()
            check.warn()
            version_of_files = version.result()
    else:
        store = knowledge_graph.load_store(base_iri, parts)
        _warn_of_rewritten_literals(_literal_changes(extra))
        version_of_files = dataset_version(files, base_iri)
    loaded = LoadedGraph(
        backend=MemoryBackend(store, base_iri),
        base_iri=base_iri,
        dataset_version=version_of_files,
        last_modified=datetime.fromtimestamp(max(p.stat().st_mtime for p in files), tz=UTC).replace(
            microsecond=0
        ),
        source_files=files,
    )
    store.extend(dataset_metadata_quads(loaded))
    return loaded


def open_persistent_store(directory: Path | str, base_iri: str, data: Iterable[str] = ()) -> LoadedGraph:
    """Open a persistent store folder (:mod:`govkg.store.persistent`) without reading its data.

    Anything out of date is brought up to date first, all or nothing: the ``data`` files not
    loaded yet (or changed since), the article graphs (their files or the base IRI changed).
    """
    folder = StoreDirectory(directory)
    folder.recover()
    state = folder.read_state()
    pending = pending_entries(state, list(data), base_iri)
    if pending or not folder.exists() or state.article_version != article_version(base_iri):
        state = load_files(folder, pending, base_iri)
        release_free_memory()  # the bulk loader's buffers: not to be inherited by every fork
    modified = datetime.fromisoformat(state.last_modified) if state.last_modified else datetime.now(tz=UTC)
    return LoadedGraph(
        backend=DiskBackend(PersistentStore(folder), base_iri),
        base_iri=base_iri,
        dataset_version=state.version,
        last_modified=modified.replace(microsecond=0),
        store_directory=folder.path,
    )


def _literal_changes(
    parts: Iterable[knowledge_graph.GraphPart],
) -> list[tuple[Path, knowledge_graph.LiteralChanges]]:
    """Each data file with the literals the store would serve in another form than written."""
    return [
        (path, knowledge_graph.file_literal_changes(path, part.graph_iri))
        for part in parts
        for path in part.files
    ]


def _warn_of_rewritten_literals(changes: Iterable[tuple[Path, knowledge_graph.LiteralChanges]]) -> None:
    """Tell the user when the store serves a literal of their files in another form than written."""
    for path, found in changes:
        if found:
            log.warning("%s", found.message(knowledge_graph.display_path(path)))


class _LiteralCheck(threading.Thread):
    """:func:`_literal_changes` on a thread of its own; :meth:`warn` warns or raises."""

    def __init__(self, parts: Iterable[knowledge_graph.GraphPart]) -> None:
        super().__init__(name="govkg-literal-check", daemon=True)
        self.parts = list(parts)
        self.changes: list[tuple[Path, knowledge_graph.LiteralChanges]] = []
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.changes = _literal_changes(self.parts)
        except BaseException as error:  # noqa: BLE001 - raised again by warn(), on the loading thread
            self.error = error

    def warn(self) -> None:
        if self.error is not None:
            raise self.error
        _warn_of_rewritten_literals(self.changes)


def _check_distinct_graphs(parts: Iterable[knowledge_graph.GraphPart], base_iri: str) -> None:
    """A graph named by ``GRAPH_IRI=FILE`` must not be loaded from a second file."""
    loaded_from: dict[str, Path] = {}
    for part in parts:
        graph_iri = part.iri(base_iri)
        for path in part.files:
            if loaded_from.setdefault(graph_iri, path) != path and part.graph_iri:
                message = f"graph <{graph_iri}> is already loaded from {loaded_from[graph_iri]}"
                raise knowledge_graph.DataFileError(
                    path, message + "; name another graph with GRAPH_IRI=FILE"
                )


def open_remote_store(settings: Mapping[str, Any]) -> LoadedGraph:
    """The graph of a ``sparql:`` store (:mod:`govkg.store.remote`), the article graphs pushed first
    when ``update_url`` is set and the store's copy is out of date."""
    from govkg.store.remote import RemoteBackend, push_article_graphs  # requests: only here

    url = settings["store"][len(REMOTE_STORE_PREFIX) :]
    base_iri = settings["base_iri"]
    backend = RemoteBackend(url, base_iri, settings["query_timeout"])
    backend.probe()
    if settings.get("update_url"):
        article = open_knowledge_graph(base_iri)
        for _ in push_article_graphs(settings["update_url"], article, only_if_changed_at=url):
            pass
    backend.warn_of_empty_default_graph()
    now = datetime.now(tz=UTC).replace(microsecond=0)
    version = hashlib.sha256(f"{url}\n{article_version(base_iri)}\n{now.isoformat()}".encode()).hexdigest()
    # Dumps and counts built from the store are kept in a folder of this server's, removed at exit.
    cache = temporary_folder("govkg-remote-")[0]
    return LoadedGraph(
        backend=backend,
        base_iri=base_iri,
        dataset_version=version[:16],
        last_modified=now,
        store_directory=cache,
    )


def _open_disk(settings: Mapping[str, Any]) -> LoadedGraph:
    return open_persistent_store(settings["store"], settings["base_iri"], settings["data"])


def _open_memory(settings: Mapping[str, Any]) -> LoadedGraph:
    if _data_goes_to_disk(settings):
        # Removed at exit with its folder; a fork (a web worker, a query process) opens it read-only.
        folder = temporary_folder("govkg-store-")[0]
        log.info("loading the data into a temporary on-disk store in %s (disk_data_bytes)", folder)
        return open_persistent_store(folder / "store", settings["base_iri"], settings["data"])
    loaded = open_knowledge_graph(settings["base_iri"], settings["data"])
    # The dumps and counts are built on first request, into files every worker shares:
    # a folder of the server's, made before the workers are forked, removed at exit.
    loaded.store_directory = temporary_folder("govkg-cache-")[0]
    return loaded


def _data_goes_to_disk(settings: Mapping[str, Any]) -> bool:
    """Whether the ``data`` files are bigger in all than ``disk_data_bytes`` (when that is set)."""
    limit = settings.get("disk_data_bytes") or 0
    if not limit or not settings["data"]:
        return False
    parts = knowledge_graph.data_file_parts(settings["data"], settings["base_iri"])
    size = sum(path.stat().st_size for part in parts for path in part.files if path.is_file())
    return size > limit


#: Where the ``store`` setting can point, first match wins: (does it claim the value?, opener).
#: A new backend is one line here and a module of its own.
STORE_OPENERS: tuple[tuple[Callable[[str], bool], Callable[[Mapping[str, Any]], LoadedGraph]], ...] = (
    (lambda location: location.startswith(REMOTE_STORE_PREFIX), open_remote_store),  # sparql:URL
    (lambda location: bool(location), _open_disk),  # a folder
    (lambda location: True, _open_memory),  # empty: the article (and --data) in memory
)


def open_configured_store(settings: Mapping[str, Any]) -> LoadedGraph:
    """Open the graph where the ``store`` setting says (:data:`STORE_OPENERS`), sized by the settings."""
    location = settings.get("store") or ""
    opener = next(opener for claims, opener in STORE_OPENERS if claims(location))
    loaded = opener(settings)
    loaded.backend.query_workers = settings["query_workers"]
    return loaded


def prepare_for_workers(loaded: LoadedGraph) -> SearchIndex:
    """What every worker reads, made before the server forks them: a large store's VoID counts
    (:func:`~govkg.store.metadata.precompute_statistics`: here, not in a worker beside clients)
    and the search index (:func:`~govkg.store.search_index.open_search_index`), for every backend.

    The two are made side by side: the counts are queries that pyoxigraph evaluates without the
    GIL, the index is mostly Python and SQLite (a 5M-triple ``--data``: 11.7 s together instead
    of 17.6 s one after the other, benchmarks/README.md). Both are done when this returns, so no
    thread of ours runs at the fork.
    """
    folder = loaded.store_directory or temporary_folder("govkg-cache-")[0]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="govkg-void-counts") as pool:
        counted = pool.submit(precompute_statistics, loaded)
        index = open_search_index(loaded.store, folder / "cache" / loaded.dataset_version)
        counted.result()  # raises what the counts raised
    return index


def temporary_folder(prefix: str) -> tuple[Path, Callable[[], None]]:
    """A new folder in the system's temp folder, removed when this process exits (not its forks).

    Returns the folder and the function that removes it.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in the forked workers, which run atexit handlers too
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder, remove
