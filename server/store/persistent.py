"""A persistent on-disk store (pyoxigraph on RocksDB) for data too big to parse at every start.

``govkg load FILE… --store DIR`` streams RDF files (any registry format, gzip included) each
into its own named graph, as the ``data`` setting names them (``FILE`` or
``GRAPH_IRI=FILE``); ``govkg serve --store DIR`` then starts without parsing anything big.

Layout of ``DIR``::

    DIR/oxigraph/          the RocksDB database (pyoxigraph ``Store(path)``)
    DIR/state.json         what is loaded: base IRI, versions, graphs and their files
    DIR/rollback/          a checkpoint of the database while a load runs (gone after it)
    DIR/cache/             statistics and dumps, built on first request, per data version

**A load is all or nothing.** Before it writes, a load takes a RocksDB checkpoint of the
database (``Store.backup``: hard links, a few milliseconds whatever the size). It then
bulk-loads each file (``Store.bulk_load``: streaming, its memory growing far slower than
the file — 0.9 GB at 1M triples, 1.6 GB at 3M — but not transactional).
If a file is bad (a syntax error stops the load with the file and line) or the process
dies, the database is put back from the checkpoint, so the store is exactly as before the
load — a half-loaded graph is never served (a crashed load is rolled back when the folder
is next opened). Alternatives measured and rejected: ``Store.load`` is transactional but
holds the whole file in memory; validating first (a parse pass in Python) costs more than
the load itself; loading into a temporary graph needs a copy to rename it.

**Processes.** RocksDB allows one read-write opener, and any number of read-only ones
while nobody writes. ``govkg serve`` writes only at start-up, in the gunicorn master and
only if something is out of date (the article graphs, the ``data`` files given to serve,
the metadata graph), then opens the database read-only. A RocksDB handle must not be used
across ``fork()``: a read in the child can deadlock on a lock another thread of the parent
held at the fork (tried: 16 hangs in 150 forks of a process with reading threads). So
:class:`PersistentStore` opens its own read-only handle in each process that reads — the
master and each web worker — on first use, after the fork; the
inherited handle is kept (never closed: closing it would touch the parent's threads) and
never used.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import io
import json
import logging
import os
import secrets
import shutil
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
from govkg.graph.knowledge_graph import (
    DataFileError,
    data_file_parts,
    display_path,
    graph_parts,
    read_quads,
)
from govkg.graph.knowledge_graph import file_literal_changes as literal_changes_of_file
from govkg.rdf.formats import rdf_format_for_path
from govkg.rdf.xml_guard import XmlRefused, check_rdf_xml
from govkg.settings import DEFAULT_BASE_IRI
from govkg.store.versions import article_version

log = logging.getLogger(__name__)

STATE_VERSION = 1
#: The article's own graphs, rewritten whenever their files or the base IRI change.
ARTICLE_SLUGS = ("ontology", "facts", "links")


class StoreError(Exception):
    """The store folder cannot be used (locked by another process, not a govkg store …)."""


@dataclass
class StoreState:
    """What a store folder holds, kept in ``state.json`` beside the database."""

    base_iri: str = DEFAULT_BASE_IRI
    article_version: str = ""
    data_version: str = ""
    last_modified: str = ""
    metadata_key: str = ""
    graphs: dict[str, dict[str, Any]] = field(default_factory=dict)  # data graph IRI -> its file

    @property
    def version(self) -> str:
        """The dataset version: changes with any load, the article files or the base IRI."""
        digest = hashlib.sha256(f"{self.base_iri}\n{self.article_version}\n{self.data_version}".encode())
        return digest.hexdigest()[:16]


def check_store_folder(path: Path | str, create: bool) -> None:
    """Refuse, in one line that says what to do, a store path that cannot be or is not meant to be one.

    A folder without a store is refused unless ``create`` (a mistyped path would otherwise be
    served as a new, empty store); a file, a folder that holds other things, and a folder that
    cannot be made or written are refused always.
    """
    folder = StoreDirectory(path)
    shown = display_path(folder.path)
    if folder.path.exists() and not folder.path.is_dir():
        raise StoreError(f"{shown} is a file, not a store folder; give the folder `govkg load` filled")
    if folder.exists():
        if not os.access(folder.path, os.W_OK | os.X_OK):
            raise StoreError(f"{shown}: no permission to write here; give a folder of yours")
        return
    if not create:
        raise StoreError(f"{shown}: no store here; check the path, or add --create to make a new store there")
    own = {folder.database.name, folder.state_file.name, folder.cache.name}
    if folder.path.is_dir() and any(
        entry.name not in own and not entry.name.startswith(folder.rollback.name)
        for entry in folder.path.iterdir()
    ):
        raise StoreError(f"{shown} is a folder with other files in it; give an empty or new folder")
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot make the store folder {shown}: {error.strerror or error}") from None
    if not os.access(folder.path, os.W_OK | os.X_OK):
        raise StoreError(f"{shown}: no permission to write here; give a folder of yours")


class StoreDirectory:
    """A store folder (see the module docstring for its layout)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.database = self.path / "oxigraph"
        self.rollback = self.path / "rollback"
        self.state_file = self.path / "state.json"
        # The checkpoint is taken in rollback.partial and renamed to rollback once complete,
        # beside the state it goes with; a load that completes renames it to rollback.done first.
        self.rollback_partial = self.path / "rollback.partial"
        self.rollback_state = self.path / "rollback.state.json"
        self.rollback_done = self.path / "rollback.done"
        self.cache = self.path / "cache"

    def exists(self) -> bool:
        """Whether a database has been created in the folder."""
        return self.database.is_dir()

    def has_loaded(self) -> bool:
        """Whether a load into the folder has ever finished (its ``state.json`` is written then)."""
        return self.state_file.is_file()

    def read_state(self) -> StoreState:
        """The recorded state; an empty one for a new folder."""
        try:
            raw = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return StoreState()
        except (OSError, ValueError) as error:
            raise StoreError(f"{display_path(self.state_file)}: cannot be read ({error})") from None
        if raw.get("format") != STATE_VERSION:
            raise StoreError(f"{display_path(self.state_file)}: not a govkg store of format {STATE_VERSION}")
        raw.pop("format")
        return StoreState(**raw)

    def write_state(self, state: StoreState) -> None:
        """Replace ``state.json`` atomically."""
        temporary = self.state_file.with_suffix(".json.tmp")
        data = {"format": STATE_VERSION, **state.__dict__}
        temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(temporary, self.state_file)

    def recover(self) -> bool:
        """Put the database and its state back from the checkpoint a load left behind (it died); True if done.

        Each step can be interrupted and taken again: the checkpoint is used only once complete
        (``rollback``), and only until the load that took it completed (``rollback.done``).
        """
        shutil.rmtree(self.rollback_partial, ignore_errors=True)
        shutil.rmtree(self.rollback_done, ignore_errors=True)
        if not self.rollback.is_dir():
            self.rollback_state.unlink(missing_ok=True)  # it went with a checkpoint never completed
            return False
        # The state that goes with the checkpoint; null: the load was the first into the folder.
        saved = self.rollback_state.read_text(encoding="utf-8") if self.rollback_state.is_file() else None
        if saved is not None and saved.strip() == "null":
            log.warning(
                "%s: the first load into this store did not finish; the store is empty",
                display_path(self.path),
            )
        else:
            log.warning(
                "%s: put back as it was before the last load, which did not finish", display_path(self.path)
            )
        if saved is not None:
            if saved.strip() == "null":
                self.state_file.unlink(missing_ok=True)
            else:
                temporary = self.state_file.with_suffix(".json.tmp")
                temporary.write_text(saved, encoding="utf-8")
                os.replace(temporary, self.state_file)
        shutil.rmtree(self.database, ignore_errors=True)
        os.replace(self.rollback, self.database)
        self.rollback_state.unlink(missing_ok=True)
        return True

    def checkpoint(self, store: ox.Store) -> None:
        """Take the rollback checkpoint of ``store`` and of ``state.json``: complete, or not at all."""
        shutil.rmtree(self.rollback_partial, ignore_errors=True)
        shutil.rmtree(self.rollback, ignore_errors=True)
        store.flush()
        store.backup(str(self.rollback_partial))
        saved = self.state_file.read_text(encoding="utf-8") if self.state_file.is_file() else "null"
        self.rollback_state.write_text(saved, encoding="utf-8")
        os.replace(self.rollback_partial, self.rollback)

    def commit(self) -> None:
        """The load is complete and its state written: drop the checkpoint (renamed away first)."""
        os.replace(self.rollback, self.rollback_done)
        self.rollback_state.unlink(missing_ok=True)
        shutil.rmtree(self.rollback_done, ignore_errors=True)

    def open_read_write(self) -> ox.Store:
        """The database, read-write (one process at a time)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.recover()
        try:
            return ox.Store(str(self.database))
        except OSError as error:
            raise StoreError(
                f"{display_path(self.path)}: cannot open the store for writing ({error}); "
                "is another govkg process loading or serving it with other settings?"
            ) from None

    def open_read_only(self) -> ox.Store:
        """The database, read-only."""
        if not self.exists():
            raise StoreError(f"{display_path(self.path)}: no store here; fill it with `govkg load`")
        try:
            return ox.Store.read_only(str(self.database))
        except OSError as error:
            raise StoreError(f"{display_path(self.path)}: cannot open the store ({error})") from None


class PersistentStore:
    """A read-only handle on a store folder, opened anew in each process that uses it (fork-safe)."""

    def __init__(self, directory: StoreDirectory) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._pid = -1
        self._store: ox.Store | None = None
        self._inherited: list[ox.Store] = []
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    @property
    def store(self) -> ox.Store:
        """This process's handle on the database."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    if self._store is not None:
                        self._inherited.append(self._store)  # never used, never closed here
                    self._store = self.directory.open_read_only()
                    self._pid = os.getpid()
        assert self._store is not None
        return self._store

    def release(self) -> None:
        """Close this process's handle (it must have opened it), e.g. before writing at start-up."""
        if self._pid == os.getpid():
            self._store = None
            self._pid = -1

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # another thread of the parent may have held it at the fork


# --- loading ----------------------------------------------------------------------------------


@dataclass
class LoadedFile:
    """One file loaded by :func:`load_files`."""

    graph_iri: str
    path: Path
    triples: int
    seconds: float


class _Progress:
    """A file stream that reports bytes and lines read: a tqdm bar on a terminal, log lines otherwise.

    The bar measures the file read (the store indexes as it goes, and a little after); its
    text counts the triples. It reaches 100 % only when the load is done: an interrupted load
    leaves it where it stopped.
    """

    def __init__(self, stream: IO[bytes], path: Path, total: int, line_based: bool, terminal: bool) -> None:
        self.stream = stream
        self.line_based = line_based
        self.lines = 0
        self.bytes = 0
        self.started = time.monotonic()
        self._last_log = self.started
        self._path = path
        self._total = total
        self._bar = None
        if terminal:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"{path.name} read",
                leave=True,
            )

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self._advance(len(chunk), chunk.count(b"\n"))
        return chunk

    def readinto(self, buffer: bytearray | memoryview) -> int:
        count = self.stream.readinto(buffer)
        self._advance(count, bytes(memoryview(buffer)[:count]).count(b"\n") if self.line_based else 0)
        return count

    def _position(self) -> int:
        raw = getattr(self.stream, "fileobj", None)  # a gzip stream: progress in compressed bytes
        return raw.tell() if raw is not None else self.bytes

    def _advance(self, count: int, lines: int) -> None:
        self.bytes += count
        self.lines += lines
        now = time.monotonic()
        rate = self.lines / max(now - self.started, 1e-9)
        if self._bar is not None:
            self._bar.n = min(self._position(), self._total)
            if self.line_based:
                self._bar.set_postfix_str(f"{self.lines:,} triples, {rate:,.0f} triples/s", refresh=False)
            self._bar.refresh() if now - self._last_log > 0.2 else None
            self._last_log = now if now - self._last_log > 0.2 else self._last_log
        elif now - self._last_log >= 5:
            self._last_log = now
            done = 100 * self._position() / max(self._total, 1)
            what = f", {self.lines:,} triples ({rate:,.0f}/s)" if self.line_based else ""
            log.info("%s: %.0f%% read%s", display_path(self._path), done, what)

    def close(self, triples: int | None = None) -> None:
        """End the bar: with the triples loaded when the load is done, as it stands when it is not."""
        if self._bar is not None:
            if triples is None:
                self._bar.set_postfix_str(f"{self.lines:,} triples read, stopped", refresh=False)
            else:
                self._bar.n = self._total
                rate = triples / max(time.monotonic() - self.started, 1e-9)  # over the whole load
                self._bar.set_postfix_str(f"{triples:,} triples loaded, {rate:,.0f} triples/s", refresh=False)
            self._bar.close()


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def _graph_size(store: ox.Store, graph: ox.NamedNode) -> int:
    result = store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    return int(next(iter(result))[0].value)


def bulk_load_file(
    store: ox.Store, path: Path, graph_iri: str, document_iri: str | None, progress: bool | None = None
) -> LoadedFile:
    """Stream one file into ``graph_iri`` (emptied first); raise :class:`DataFileError` on a bad line.

    Not transactional: call it inside :func:`load_files`, which rolls back on failure.
    """
    try:
        fmt = rdf_format_for_path(path.name)
    except KeyError:
        raise DataFileError(path, "not a known RDF format (by its extension)") from None
    terminal = sys.stderr.isatty() if progress is None else progress
    line_based = fmt.oxigraph in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)
    graph = ox.NamedNode(graph_iri)
    started = time.monotonic()
    store.clear_graph(graph)
    try:
        with _open(path) as raw:
            reader = _Progress(raw, path, path.stat().st_size, line_based, terminal)
            if fmt.oxigraph == ox.RdfFormat.RDF_XML:  # entity bombs and deep nesting are refused first
                data = raw.read()
                check_rdf_xml(data)
                reader = _Progress(io.BytesIO(data), path, len(data), line_based, terminal)
            triples = None
            base_iri = document_iri or path.resolve().as_uri()
            try:
                if fmt.oxigraph.supports_datasets:
                    # A file of quads (TriG, N-Quads) is one graph like any other data file: its
                    # GRAPH blocks go to ``graph`` too, never into the article's graphs or another
                    # file's (bulk_load would keep their names).
                    quads = ox.parse(reader, format=fmt.oxigraph, base_iri=base_iri, rename_blank_nodes=True)
                    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads)
                else:
                    store.bulk_load(reader, format=fmt.oxigraph, base_iri=base_iri, to_graph=graph)
                # N-Triples and N-Quads: one statement a line, counted while reading (a COUNT query
                # would cost another tenth of the load); other formats are counted in the store.
                triples = reader.lines if line_based and reader.lines else _graph_size(store, graph)
            finally:
                reader.close(triples)
    except SyntaxError as error:
        from govkg.graph.knowledge_graph import syntax_message

        raise DataFileError(path, syntax_message(error), error.lineno) from None
    except XmlRefused as error:
        raise DataFileError(path, f"{error.message} (column {error.column})", error.line) from None
    except OSError as error:  # as knowledge_graph.read_quads words them
        raise DataFileError(path, error.strerror or str(error)) from None
    except (EOFError, zlib.error) as error:  # a truncated or damaged .gz
        raise DataFileError(path, f"not a valid gzip file: {error}") from None
    seconds = time.monotonic() - started
    return LoadedFile(graph_iri, path, triples, seconds)


def _file_key(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"file": str(path.resolve()), "size": stat.st_size, "mtime": stat.st_mtime}


def pending_entries(state: StoreState, entries: Iterable[str], base_iri: str) -> list[str]:
    """The ``data`` entries whose file is not loaded yet, or changed since (by size and time)."""
    pending = []
    for entry, part in zip(entries, data_file_parts(entries, base_iri), strict=True):
        path = part.files[0]
        recorded = state.graphs.get(part.iri(base_iri))
        if (
            not path.is_file()
            or recorded is None
            or {**recorded, "triples": None}
            != {
                **_file_key(path),
                "triples": None,
            }
        ):
            pending.append(entry)
    return pending


def load_files(
    directory: StoreDirectory,
    entries: Sequence[str],
    base_iri: str,
    progress: bool | None = None,
    report: Callable[[LoadedFile], None] | None = None,
) -> StoreState:
    """Load ``entries`` (``FILE`` or ``GRAPH_IRI=FILE``) into the store folder, all or nothing.

    The article graphs are (re)written too when their files or the base IRI changed. A bad
    file raises :class:`DataFileError` and leaves the store as it was (see the module docstring).
    """
    store: ox.Store | None = directory.open_read_write()
    try:
        state = directory.read_state()
        if state.graphs and state.base_iri != base_iri:
            raise StoreError(
                f"{display_path(directory.path)} was loaded with base IRI {state.base_iri}; "
                f"load it again into a new folder to serve it under {base_iri}"
            )
        parts = data_file_parts(entries, base_iri)
        seen: dict[str, Path] = {}
        for part in parts:
            iri = part.iri(base_iri)
            if iri in seen:
                raise DataFileError(part.files[0], f"graph <{iri}> is already loaded from {seen[iri]}")
            seen[iri] = part.files[0]
        article = article_version(base_iri)
        if not parts and state.article_version == article:
            return state
        directory.checkpoint(store)
        try:
            for part in parts:
                loaded = bulk_load_file(store, part.files[0], part.iri(base_iri), part.graph_iri, progress)
                if changes := literal_changes_of_file(part.files[0], part.graph_iri):
                    log.warning("%s", changes.message(display_path(part.files[0])))
                state.graphs[loaded.graph_iri] = {**_file_key(loaded.path), "triples": loaded.triples}
                if report is not None:
                    report(loaded)
            if state.article_version != article or state.base_iri != base_iri:
                _write_article_graphs(store, base_iri, state.base_iri if state.article_version else None)
                state.article_version = article
            state.base_iri = base_iri
            if parts:
                state.data_version = secrets.token_hex(8)
            state.last_modified = datetime.now(tz=UTC).replace(microsecond=0).isoformat()
            state.metadata_key = ""
            store.flush()
            directory.write_state(state)
        except BaseException as error:
            # Close the database before the checkpoint is put back: RocksDB writes into its
            # folder when it closes. The traceback's frames hold the handle too, and so do
            # those of the error it was raised from (a parse error in a frame below).
            chained: BaseException | None = error
            while chained is not None:
                traceback.clear_frames(chained.__traceback__)
                chained = chained.__context__
            del store
            store = None
            gc.collect()
            directory.recover()
            raise
        directory.commit()
        return state
    finally:
        if store is not None:
            store.flush()


def _write_article_graphs(store: ox.Store, base_iri: str, old_base_iri: str | None = None) -> None:
    """Replace the ontology, facts and links graphs with the article's files (small: in one go).

    Those written under another base IRI before (``old_base_iri``) go, with its metadata graph.
    """
    quads: list[ox.Quad] = []
    for part in graph_parts():
        graph_iri = part.iri(base_iri)
        for path in part.files:
            quads.extend(read_quads(path, graph_iri, base_iri, part.graph_iri))
    for base in {base_iri, old_base_iri or base_iri}:
        for slug in (*ARTICLE_SLUGS, *(("metadata",) if base != base_iri else ())):
            store.clear_graph(ox.NamedNode(f"{base}graph/{slug}"))
    store.extend(quads)


def write_metadata_graph(directory: StoreDirectory, store: ox.Store, quads: list[ox.Quad], key: str) -> None:
    """Replace the metadata graph and record ``key`` (what it was built from)."""
    state = directory.read_state()
    graph = ox.NamedNode(f"{state.base_iri}graph/metadata")
    store.clear_graph(graph)
    store.extend(quads)
    store.flush()
    state.metadata_key = key
    directory.write_state(state)
