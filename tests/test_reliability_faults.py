"""Faults, each against a real ``govkg serve`` subprocess over real HTTP on 127.0.0.1.

* A bad data file at start (a syntax error, an unreadable or damaged file): one line that
  names the file (and the line), exit status 1, nothing listening.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

# --- bad data files at start ----------------------------------------------------------------------


def _serve_exits(tmp_path: Path, data: str) -> tuple[int, str]:
    """Run ``govkg serve --data DATA``; its exit status and output. Nothing may answer on its port."""
    port = free_port()
    command = [sys.executable, "-m", "server", "serve", "--port", str(port), "--data", data]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    text = output.decode("utf-8", "replace")
    assert "Listening at" not in text and "serving on" not in text
    assert "Traceback" not in text
    return process.returncode, text


def _gzip_damaged(path: Path) -> None:
    import gzip

    whole = gzip.compress(b'<http://e.org/s> <http://e.org/p> "a" .\n' * 50)
    path.write_bytes(whole[:40])


BAD_FILES = {
    # name: (how to make it, what the message says after the file name)
    "syntax.ttl": (
        lambda p: p.write_text('@prefix e: <http://e.org/> .\ne:s e:p "x" .\ne:s e:p e:o e:x .\n'),
        "syntax.ttl, line 3: ",
    ),
    "bad-utf8.nt": (
        lambda p: p.write_bytes(
            b'<http://e.org/s> <http://e.org/p> "ok" .\n<http://e.org/s> <http://e.org/p> "\xff" .\n'
        ),
        "bad-utf8.nt, line 2: Invalid UTF-8",
    ),
    "truncated.nt.gz": (_gzip_damaged, "truncated.nt.gz: not a valid gzip file"),
    "not-gzip.nt.gz": (lambda p: p.write_bytes(b"plain text"), "not-gzip.nt.gz: Not a gzipped file"),
    # Unreadable: the tests run as root, whom file modes do not stop; a directory cannot be read.
    "a-directory.ttl": (lambda p: p.mkdir(), "a-directory.ttl: Is a directory"),
    "missing.ttl": (lambda p: None, "missing.ttl: No such file or directory"),
    "unknown.xyz": (lambda p: p.write_text("x"), "unknown.xyz: not a known RDF format"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_data_file_stops_the_start_with_one_clear_line(tmp_path, name):
    make, expected = BAD_FILES[name]
    make(tmp_path / name)
    status, output = _serve_exits(tmp_path, name)
    assert status == 1
    assert output.strip() == output.strip().splitlines()[-1]  # one line
    assert output.startswith(f"Error: {expected}"), output
