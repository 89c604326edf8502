"""Hostile input: XML bombs and external entities in RDF/XML data files.

Every place the server parses RDF/XML is a data file (``--data x.rdf``, ``govkg link --target
x.rdf``), read by :func:`server.knowledge_graph.read_quads`; ``server/xml_guard.py`` says why
the others (SPARQL results of a SERVICE call, ``govkg link`` against an endpoint) read no XML
entities.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import pytest

from server.knowledge_graph import DataFileError, read_quads
from server.linking import LinkingError, dump_entities
from tests.conftest import free_port

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _rdf_xml(dtd: str, body: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n{dtd}\n]>\n'
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="http://example.org/">\n'
        f'<rdf:Description rdf:about="http://example.org/s">{body}</rdf:Description>\n</rdf:RDF>\n'
    )


def _billion_laughs() -> str:
    entities = ['<!ENTITY lol "lol">', '<!ENTITY lol1 "' + "&lol;" * 10 + '">']
    entities += [f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(2, 10)]
    return _rdf_xml("\n".join(entities), "<ex:p>&lol9;</ex:p>")


HOSTILE_RDF_XML = {
    # name: (document, words the refusal must contain)
    "billion-laughs.rdf": (_billion_laughs(), "line 4: the DTD's entity 'lol1' refers to other entities"),
    "quadratic.rdf": (
        _rdf_xml(f'<!ENTITY big "{"x" * 1000}">', "<ex:p>" + "&big;" * 20000 + "</ex:p>"),
        "its entity references would add 20000000 bytes",
    ),
    "xxe.rdf": (
        _rdf_xml('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "<ex:p>&xxe;</ex:p>"),
        "line 3: the DTD declares the external entity 'xxe'; external entities are never read",
    ),
    "xxe-public.rdf": (
        _rdf_xml('<!ENTITY xxe PUBLIC "-//x//y" "file:///etc/passwd">', "<ex:p>&xxe;</ex:p>"),
        "the DTD declares the external entity 'xxe'",
    ),
    "parameter-entity.rdf": (
        _rdf_xml('<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;', "<ex:p>x</ex:p>"),
        "the DTD declares the parameter entity '%remote'",
    ),
    "deep.rdf": (
        _rdf_xml(
            "", "<ex:p><rdf:Description>" * 5000 + "<ex:p>x</ex:p>" + "</rdf:Description></ex:p>" * 5000
        ),
        "elements are nested more than 1000 deep",
    ),
    "not-well-formed.rdf": (_rdf_xml("", "<ex:p>x</ex:q>"), "line 6: not well-formed XML: mismatched tag"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_RDF_XML))
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
def test_hostile_rdf_xml_data_files_are_refused_before_parsing(tmp_path, name, compressed):
    document, expected = HOSTILE_RDF_XML[name]
    path = tmp_path / (name + (".gz" if compressed else ""))
    path.write_bytes(gzip.compress(document.encode()) if compressed else document.encode())
    started = time.monotonic()
    with pytest.raises(DataFileError) as refused:
        list(read_quads(path, "urn:x:g"))
    assert time.monotonic() - started < 2
    assert expected in str(refused.value)
    assert "root:" not in str(refused.value)
    with pytest.raises(LinkingError, match="refers|external|parameter|nested|would add|well-formed"):
        list(dump_entities(path))  # govkg link --target FILE reads data files the same way


def test_plain_text_entities_of_ontology_editors_still_load(tmp_path):
    path = tmp_path / "ontology.owl"
    path.write_text(
        _rdf_xml('<!ENTITY ex "http://example.org/">', '<ex:p rdf:resource="&ex;o"/><ex:q>&ex;</ex:q>'),
        encoding="utf-8",
    )
    objects = sorted(str(quad.object) for quad in read_quads(path, "urn:x:g"))
    assert objects == ['"http://example.org/"', "<http://example.org/o>"]


def test_serve_refuses_an_xml_bomb_at_once_with_file_and_line(tmp_path):
    (tmp_path / "bomb.rdf").write_text(_billion_laughs(), encoding="utf-8")
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--data", "bomb.rdf"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 1
    assert time.monotonic() - started < 30
    assert output.decode().startswith(
        "Error: bomb.rdf, line 4: the DTD's entity 'lol1' refers to other entities"
    )


def test_the_guard_is_reached_for_every_rdf_xml_extension(tmp_path):
    for name in ("x.rdf", "x.owl", "x.xml", "x.rdf.gz"):
        path = tmp_path / name
        document = _rdf_xml('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "<ex:p>&xxe;</ex:p>").encode()
        path.write_bytes(gzip.compress(document) if name.endswith(".gz") else document)
        with pytest.raises(DataFileError, match="external entities are never read"):
            list(read_quads(path, "urn:x:g"))
