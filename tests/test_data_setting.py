"""The ``data`` setting: extra RDF files served beside the article graph, each in its own named graph."""

import gzip

import pyoxigraph as ox
import pytest
from govkg.graph.knowledge_graph import DataFileError, data_file_parts, load_store
from govkg.settings import load_settings
from govkg.store.opening import open_knowledge_graph
from govkg.store.persistent import bulk_load_file

BASE = "http://127.0.0.1:5000/"


def _graph_names(store: ox.Store) -> set[str]:
    return {graph.value for graph in store.named_graphs()}


def test_each_file_is_its_own_named_graph(tmp_path):
    (tmp_path / "census.ttl").write_text("<s> <http://example.org/p> <> .\n", encoding="utf-8")
    with gzip.open(tmp_path / "links.nt.gz", "wt", encoding="utf-8") as stream:
        stream.write("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n")
    entries = f"{tmp_path / 'census.ttl'}, urn:x:links={tmp_path / 'links.nt.gz'}"
    data = load_settings({"data": entries})["data"]
    store = open_knowledge_graph(BASE, data).store

    census = ox.NamedNode(BASE + "graph/data/census")
    assert {BASE + "graph/data/census", "urn:x:links"} <= _graph_names(store)
    # Relative IRIs resolve against the graph's IRI, not the machine's file path.
    assert list(store.quads_for_pattern(None, None, None, census)) == [
        ox.Quad(ox.NamedNode(BASE + "graph/data/s"), ox.NamedNode("http://example.org/p"), census, census)
    ]
    assert len(list(store.quads_for_pattern(None, None, None, ox.NamedNode("urn:x:links")))) == 1


def test_a_syntax_error_names_file_and_line_and_loads_nothing(tmp_path):
    (tmp_path / "good.ttl").write_text("<urn:a> <urn:p> <urn:b> .\n", encoding="utf-8")
    (tmp_path / "bad.ttl").write_text("<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:p> .\n", encoding="utf-8")
    store = ox.Store()
    parts = data_file_parts([str(tmp_path / "good.ttl"), str(tmp_path / "bad.ttl")], BASE)
    with pytest.raises(DataFileError, match=r"bad\.ttl, line 2: ") as raised:
        load_store(BASE, parts, store)
    assert raised.value.line == 2
    assert len(store) == 0


def test_a_damaged_gzip_fails_the_load_however_much_of_it_was_read(tmp_path):
    """A .gz cut short fails the load with its own error (file named), not as a load of what was
    read before the cut, both for one file and for ``--data``."""
    lines = "".join(f'<urn:s:{index}> <urn:p> "{index * 7919}" .\n' for index in range(200_000))
    compressed = gzip.compress(lines.encode(), mtime=0)
    assert len(lines) > 4 << 20  # several of the reading thread's reads before the cut
    (tmp_path / "cut.nt.gz").write_bytes(compressed[: len(compressed) * 3 // 4])
    with pytest.raises(DataFileError, match=r"cut\.nt\.gz: not a valid gzip file"):
        bulk_load_file(ox.Store(), tmp_path / "cut.nt.gz", "urn:x:cut", None, progress=False)
    data = load_settings({"data": str(tmp_path / "cut.nt.gz")})["data"]
    with pytest.raises(DataFileError, match=r"cut\.nt\.gz: not a valid gzip file"):
        open_knowledge_graph(BASE, data)


def test_two_files_cannot_share_a_graph(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "data.ttl").write_text("<urn:a> <urn:p> <urn:b> .\n", encoding="utf-8")
    parts = data_file_parts([str(tmp_path / "one" / "data.ttl"), str(tmp_path / "two" / "data.ttl")], BASE)
    with pytest.raises(DataFileError, match="already loaded from"):
        load_store(BASE, parts)


def test_unknown_extension_and_missing_file_are_data_file_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a known RDF format"):
        load_store(BASE, data_file_parts([str(tmp_path / "notes.txt")], BASE))
    with pytest.raises(DataFileError, match="missing.ttl"):
        load_store(BASE, data_file_parts([str(tmp_path / "missing.ttl")], BASE))


def test_blank_nodes_of_two_files_are_distinct(tmp_path):
    """Loading is an RDF merge: the same label in two files names two blank nodes."""
    for name in ("one", "two"):
        (tmp_path / f"{name}.ttl").write_text(f'_:x <urn:p> "{name}" .\n', encoding="utf-8")
    store = load_store(BASE, data_file_parts([str(tmp_path / "one.ttl"), str(tmp_path / "two.ttl")], BASE))
    assert len({quad.subject for quad in store}) == 2
