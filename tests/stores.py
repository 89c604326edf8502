"""Real triple stores for the tests: an Oxigraph server (PyPI ``oxigraph``) on a loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port


@dataclass
class OxigraphServer:
    """An ``oxigraph serve`` subprocess on 127.0.0.1 over a store loaded from one file."""

    process: subprocess.Popen
    query_url: str
    log_path: Path


def oxigraph_executable() -> str:
    """The Oxigraph server CLI of the test dependencies (PyPI ``oxigraph``), beside this Python first."""
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if executable is None:
        raise RuntimeError("the oxigraph CLI is not installed (pip install -e '.[test]')")
    return executable


def start_oxigraph(tmp_dir: Path, data_file: Path, timeout: float = 30) -> OxigraphServer:
    """Load ``data_file`` into a new store, serve it on a free port and wait until it answers."""
    location = tmp_dir / "store"
    subprocess.run(
        [oxigraph_executable(), "load", "--location", str(location), "--file", str(data_file)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    log_path = tmp_dir / "oxigraph.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [oxigraph_executable(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = OxigraphServer(process, f"http://127.0.0.1:{port}/query", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph exited with {process.returncode}: {log_path.read_text()}")
        try:
            if requests.get(server.query_url, params={"query": "ASK {}"}, timeout=2).ok:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    stop_oxigraph(server)
    raise RuntimeError(f"oxigraph did not answer in {timeout} s")


def stop_oxigraph(server: OxigraphServer) -> None:
    """Stop the server by its PID (its own process group): SIGTERM, then SIGKILL."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
