"""Real triple stores for the tests, on loopback ports: Oxigraph server (PyPI ``oxigraph``) and Virtuoso.

:func:`start_oxigraph` serves one file read from a store folder; :func:`start_oxigraph_store`
and :func:`start_virtuoso` start empty, writable stores and return a :class:`RunningStore`
(query URL, SPARQL Update URL, Graph Store Protocol URL), stopped by PID with :func:`stop_store`.

Virtuoso (Debian's ``virtuoso-opensource``, ``/usr/bin/virtuoso-t``) gets a minimal ini:
loopback-only SQL and HTTP ports, ``ResultSetMaxRows`` raised (Debian's default of 10000
silently truncates answers), ``DirsAllowed`` limited to its folder, and no SPARQL default
graph, so a query without FROM sees every graph. Writes go to ``/sparql-auth`` with the
``dba`` account by HTTP Digest (the anonymous ``SPARQL`` user may not update); its Graph
Store Protocol endpoint is ``/sparql-graph-crud-auth``. The benchmarks' launcher
(``benchmarks/run.py``) can move onto :func:`start_virtuoso`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.processes import listens, spawn_logged, start_listening, stop_process_group, wait_until_ready
from benchmarks.virtuoso_ini import virtuoso_ini


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
    log_path = tmp_dir / "oxigraph.log"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        bind = f"127.0.0.1:{ports[0]}"
        return spawn_logged(
            [oxigraph_executable(), "serve", "--location", str(location), "--bind", bind], log_path
        )

    process, (port,) = start_listening(
        launch,
        lambda ports: _answers(f"http://127.0.0.1:{ports[0]}/query"),
        timeout=timeout,
        interval=0.05,
        log=lambda ports: log_path.read_text(errors="replace"),
        name="oxigraph serve",
        grace=10,
    )
    return OxigraphServer(process, f"http://127.0.0.1:{port}/query", log_path)


def stop_oxigraph(server: OxigraphServer) -> None:
    """Stop the server by its PID (its own process group): SIGTERM, then SIGKILL."""
    stop_process_group(server.process, grace=10)


VIRTUOSO_USER = "dba"
VIRTUOSO_PASSWORD = "dba"


@dataclass
class RunningStore:
    """A store that answers: its query URL, where it takes writes, and its process."""

    name: str
    process: subprocess.Popen
    query_url: str
    update_url: str
    graph_store_url: str
    workdir: Path
    credentials: tuple[str, str] | None = None
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        """The end of the store's log, for failure messages."""
        return _tail(self.log_path) if self.log_path else ""


def _tail(log_path: Path) -> str:
    """The last 30 lines of a log, for failure messages."""
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
    except OSError:
        return ""


def _answers(url: str) -> bool:
    try:
        response = requests.post(
            url, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}, timeout=5
        )
        return response.status_code == 200
    except requests.RequestException:
        return False


def virtuoso_available() -> bool:
    """Whether Virtuoso open source is installed."""
    return shutil.which("virtuoso-t") is not None


def start_oxigraph_store(
    workdir: Path, timeout_s: int | None = None, union_default_graph: bool = True
) -> RunningStore:
    """An empty, writable ``oxigraph serve`` (by default with the union default graph), on a free port."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "oxigraph.log"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        command = [oxigraph_executable(), "serve", "--location", str(workdir / "db")]
        command += ["--bind", f"127.0.0.1:{ports[0]}"]
        if union_default_graph:
            command.append("--union-default-graph")
        if timeout_s is not None:
            command += ["--timeout-s", str(timeout_s)]
        return spawn_logged(command, log_path)

    process, (port,) = start_listening(
        launch,
        lambda ports: _answers(f"http://127.0.0.1:{ports[0]}/query"),
        timeout=60,
        interval=0.2,
        log=lambda ports: _tail(log_path),
        name="oxigraph serve",
    )
    url = f"http://127.0.0.1:{port}"
    store = RunningStore("oxigraph", process, f"{url}/query", f"{url}/update", f"{url}/store", workdir)
    store.log_path = log_path
    return store


def start_virtuoso(workdir: Path, buffers: int = 20000) -> RunningStore:
    """Virtuoso (``virtuoso-t +foreground``) with the minimal ini above, on free loopback ports."""
    db = workdir / "virtuoso-db"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        shutil.rmtree(db, ignore_errors=True)
        db.mkdir(parents=True)
        ini = db / "virtuoso.ini"
        ini.write_text(virtuoso_ini(db, sql_port=ports[0], http_port=ports[1], buffers=buffers))
        command = ["virtuoso-t", "+foreground", "+configfile", str(ini)]
        return spawn_logged(command, db / "virtuoso.out.log", cwd=db)

    # Ready when the HTTP port answers and the process holds both its ports (SQL, HTTP).
    process, (_sql_port, http_port) = start_listening(
        launch,
        lambda ports: _answers(f"http://127.0.0.1:{ports[1]}/sparql"),
        ports=2,
        timeout=180,
        interval=0.2,
        log=lambda ports: _tail(db / "virtuoso.log"),
        name="Virtuoso",
        grace=30,
    )
    url = f"http://127.0.0.1:{http_port}"
    return RunningStore(
        "virtuoso",
        process,
        f"{url}/sparql",
        f"{url}/sparql-auth",
        f"{url}/sparql-graph-crud-auth",
        workdir,
        credentials=(VIRTUOSO_USER, VIRTUOSO_PASSWORD),
        log_path=db / "virtuoso.log",
    )


def restart_store(store: RunningStore, timeout: float = 60) -> None:
    """Start a stopped store again with the same command, so on the same port(s); wait until it
    answers from its own process (another process may have taken the port meanwhile: then raise)."""
    store.process = spawn_logged(list(store.process.args), store.log_path or store.workdir / "restart.log")
    port = int(store.query_url.split(":")[2].split("/")[0])
    answered = wait_until_ready(store.process, lambda: _answers(store.query_url), timeout, interval=0.2)
    if not (answered and listens(store.process.pid, port)):
        stop_store(store)
        raise RuntimeError(f"{store.name} did not start again on port {port}:\n{store.log()}")


def stop_store(store: RunningStore, grace: float = 20) -> None:
    """SIGTERM the store's process group (by its PID), then SIGKILL it."""
    stop_process_group(store.process, grace)


def store_env(store: RunningStore) -> dict[str, str]:
    """The environment that gives ``govkg`` the store's credentials (none for Oxigraph)."""
    if store.credentials is None:
        return {}
    return {"GOVKG_STORE_USER": store.credentials[0], "GOVKG_STORE_PASSWORD": store.credentials[1]}


def push_article(store: RunningStore, base_iri: str) -> subprocess.CompletedProcess:
    """``govkg load --into`` the store: the article graphs, each replaced whole."""
    import os

    command = [sys.executable, "-m", "govkg", "load", "--into", store.update_url, "--base-iri", base_iri]
    if store.name == "virtuoso":
        command += ["--graph-store", store.graph_store_url]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **store_env(store)}
    )
