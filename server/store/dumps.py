"""Dumps: the whole dataset as files, in every format of :mod:`govkg.rdf.formats`, plain and gzipped.

Served by :mod:`govkg.web.dumps` at::

    /dumps/                  the index: every file with its format, byte size and SHA-256
                             (HTML, or JSON for ``Accept: application/json``)
    /dumps/govkg.<ext>       the dataset in one format (ttl, nt, jsonld, rdf, nq, trig)
    /dumps/govkg.<ext>.gz    the same file gzipped, served as application/gzip

The names are stable. Each file's ETag holds the dataset version and the file's
checksum, and the index holds the version, so a client revalidates with
``If-None-Match`` and gets 304 until the data changes.

A dump holds the dataset: every named graph but ``{base}graph/metadata`` —
``ontology``, ``facts``, ``links`` and any extra file of the ``data`` setting (N-Quads
and TriG keep the graphs apart; the other formats hold their union). The metadata
graph is not in the dumps: it describes them, down to their byte sizes, so it could
not be inside them; it is served at ``/.well-known/void`` and ``/catalog``.

Nothing is built when the server starts, whatever the size of the data: each file is
built on its first request, once per dataset version, and written to the server's cache
folder (``{store_directory}/cache/{version}/``: a persistent store's own folder, else a
temporary folder of the server's, removed when it stops), which every worker process
shares. A thread lock and a file lock (``flock``) per file make concurrent first requests,
in one process or in several, wait for one build instead of building twice, so every
process serves the same bytes (the Turtle writer does not always order blank nodes the same
way). A download says how it was served: ``X-Govkg-Cache: miss`` when this request built
the file, ``hit`` otherwise.

How a file is built depends on the size of the data (:attr:`govkg.store.backends.Backend.large`):
a small dataset is serialized whole with :func:`govkg.rdf.serialize.serialize_quads`
(canonical blank nodes, sorted: the same data always gives the same bytes, Turtle aside);
a large one is streamed by pyoxigraph in the store's order. The index (``/dumps/``) and
the catalogue list every file with its size and checksum, so for a small dataset they build
the files not built yet; for a large one they list those built so far. The gzip variants
are compressed with a zero timestamp; they are files in their own right
(``Content-Type: application/gzip``), never a ``Content-Encoding``.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from govkg.rdf.formats import RDF_FORMATS, RdfFormat
from govkg.rdf.serialize import project_prefixes, serialize_quads
from govkg.store.loaded import LoadedGraph

#: The one named graph the dumps leave out: the description of the dumps themselves.
METADATA_GRAPH_SLUG = "metadata"
DUMP_STEM = "govkg"
GZIP_MEDIA_TYPE = "application/gzip"


@dataclass(frozen=True)
class DumpFile:
    """One downloadable file: a format of the registry, plain or gzipped."""

    fmt: RdfFormat
    compressed: bool

    @property
    def name(self) -> str:
        """The file name, e.g. ``govkg.ttl.gz``."""
        return f"{DUMP_STEM}.{self.fmt.extension}" + (".gz" if self.compressed else "")

    @property
    def media_type(self) -> str:
        """What the file is: the RDF media type, or ``application/gzip`` for a ``.gz``."""
        return GZIP_MEDIA_TYPE if self.compressed else self.fmt.media_type


#: Every dump file, in registry order, each plain then gzipped.
DUMP_FILES: tuple[DumpFile, ...] = tuple(
    DumpFile(fmt, compressed) for fmt in RDF_FORMATS for compressed in (False, True)
)
DUMP_FILES_BY_NAME: dict[str, DumpFile] = {dump.name: dump for dump in DUMP_FILES}


@dataclass(frozen=True)
class BuiltDump:
    """A dump file: its bytes (just built, in memory) or its file in the cache folder.

    A file not built yet is known by name only: ``built`` is False and it has no size or
    checksum. ``fresh`` says that the call that returned it built it.
    """

    file: DumpFile
    data: bytes | None = None
    path: Path | None = None
    size: int | None = None
    checksum: str | None = None
    fresh: bool = False

    @property
    def built(self) -> bool:
        """Whether the file exists (its size and checksum are known)."""
        return self.data is not None or self.size is not None

    @property
    def byte_size(self) -> int | None:
        """The length of the file in bytes."""
        return len(self.data) if self.data is not None else self.size

    @property
    def sha256(self) -> str | None:
        """The SHA-256 of the file, in lower-case hex."""
        if self.checksum is None and self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        return self.checksum


def dataset_graphs(loaded: LoadedGraph) -> list[ox.NamedNode]:
    """The named graphs of the dataset: all but the metadata graph, sorted by IRI."""
    metadata = loaded.graph_iri(METADATA_GRAPH_SLUG)
    graphs = (graph for graph in loaded.store.named_graphs() if graph != metadata)
    return sorted((graph for graph in graphs if isinstance(graph, ox.NamedNode)), key=lambda g: g.value)


def dataset_quads(loaded: LoadedGraph) -> list[ox.Quad]:
    """The quads of the dataset: every quad of :func:`dataset_graphs`."""
    quads: list[ox.Quad] = []
    for graph in dataset_graphs(loaded):
        quads.extend(loaded.store.quads_for_pattern(None, None, None, graph))
    return quads


def build_dump(loaded: LoadedGraph, dump: DumpFile, plain: bytes | None = None) -> BuiltDump:
    """Serialize the whole dataset as ``dump``, in memory (gzipping ``plain`` if it is already built).

    Canonical and sorted (:func:`govkg.rdf.serialize.serialize_quads`): for a small dataset.
    """
    if plain is None:
        plain = serialize_quads(dataset_quads(loaded), dump.fmt, loaded.base_iri)
    data = gzip.compress(plain, compresslevel=9, mtime=0) if dump.compressed else plain
    return BuiltDump(dump, data, checksum=hashlib.sha256(data).hexdigest())


def cached_dump(loaded: LoadedGraph, dump: DumpFile) -> BuiltDump:
    """``dump`` as a file of the cache folder, built first if it is not there yet."""
    return file_dump(loaded, dump, build=True)


def known_dumps(loaded: LoadedGraph) -> list[BuiltDump]:
    """Every dump file as far as it is known without building anything (size and checksum if built)."""
    if loaded.store_directory is None:  # no server: nothing is ever built (e.g. `govkg dump`)
        return [BuiltDump(dump) for dump in DUMP_FILES]
    return [file_dump(loaded, dump, build=False) for dump in DUMP_FILES]


def listed_dumps(loaded: LoadedGraph) -> list[BuiltDump]:
    """Every dump file as the index and the catalogue list it.

    A small dataset's files are built first, so every size and checksum is given (the first
    such request waits for the builds: half a second for the article graph); a large
    one's are those built so far, the others being "built on first download".
    """
    if loaded.backend.large:
        return known_dumps(loaded)
    return [cached_dump(loaded, dump) for dump in DUMP_FILES]


_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_LOCK = threading.Lock()


def _dump_folder(loaded: LoadedGraph) -> Path:
    assert loaded.store_directory is not None, "the server keeps its dumps in a folder"
    return loaded.store_directory / "cache" / loaded.dataset_version


def file_dump(loaded: LoadedGraph, dump: DumpFile, build: bool) -> BuiltDump:
    """A dump kept as a file of the cache folder, built first if ``build`` and missing.

    A ``.sha256`` file beside it keeps its checksum; it is written last, so a file counts
    as built once it exists. The build holds a thread lock and a file lock: one build per
    file, whatever the threads and processes that ask for it at once.
    """
    folder = _dump_folder(loaded)
    path = folder / dump.name
    checksum_path = path.with_name(path.name + ".sha256")
    fresh = False
    if not checksum_path.is_file():
        if not build:
            return BuiltDump(dump, path=path)
        with _FILE_LOCKS_LOCK:
            lock = _FILE_LOCKS.setdefault(str(path), threading.Lock())
        with lock:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / f".{dump.name}.lock").open("wb") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)  # other processes: released when closed
                if not checksum_path.is_file():
                    _build_file(loaded, dump, folder)
                    fresh = True
    return BuiltDump(
        dump, path=path, size=path.stat().st_size, checksum=checksum_path.read_text().strip(), fresh=fresh
    )


def _build_file(loaded: LoadedGraph, dump: DumpFile, folder: Path) -> None:
    """Write ``dump`` into ``folder``, then its checksum file (each atomically).

    A small dataset: :func:`build_dump`'s canonical bytes. A large one: streamed by
    pyoxigraph in the store's order, blank nodes with the store's labels (no
    canonicalization, which needs the whole dataset in memory); the triple formats hold
    every graph's triples, so a triple stated in two graphs is written twice (the same graph
    once parsed).
    """
    path = folder / dump.name
    temporary = folder / f".{dump.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    digest = hashlib.sha256()
    if not loaded.backend.large:
        plain = None
        if dump.compressed:
            plain_file = file_dump(loaded, DumpFile(dump.fmt, False), build=True)
            assert plain_file.path is not None
            plain = plain_file.path.read_bytes()
        temporary.write_bytes(build_dump(loaded, dump, plain).data or b"")
    elif dump.compressed:
        plain_file = file_dump(loaded, DumpFile(dump.fmt, False), build=True)
        assert plain_file.path is not None
        with plain_file.path.open("rb") as source:
            with gzip.GzipFile(temporary, "wb", compresslevel=6, mtime=0) as out:
                shutil.copyfileobj(source, out, 1 << 20)
    else:
        quads = (
            quad
            for graph in dataset_graphs(loaded)
            for quad in loaded.store.quads_for_pattern(None, None, None, graph)
        )
        items = quads if dump.fmt.carries_graphs else (quad.triple for quad in quads)
        prefixes = {} if dump.fmt.name in ("nt", "nq") else {"prefixes": project_prefixes(loaded.base_iri)}
        with temporary.open("wb") as out:
            ox.serialize(items, out, format=dump.fmt.oxigraph, **prefixes)
    with temporary.open("rb") as written:
        for chunk in iter(lambda: written.read(1 << 20), b""):
            digest.update(chunk)
    os.replace(temporary, path)
    checksum = path.with_name(path.name + ".sha256")
    checksum.with_suffix(".tmp").write_text(digest.hexdigest() + "\n")
    os.replace(checksum.with_suffix(".tmp"), checksum)


def human_size(byte_size: int) -> str:
    """A byte count for people.

    >>> human_size(512), human_size(123456), human_size(9876543)
    ('512 B', '120.6 KiB', '9.4 MiB')
    """
    if byte_size < 1024:
        return f"{byte_size} B"
    if byte_size < 1024 * 1024:
        return f"{byte_size / 1024:.1f} KiB"
    return f"{byte_size / 1024 / 1024:.1f} MiB"
