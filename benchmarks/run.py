"""Run govkg's SPARQL endpoint side by side with peer triple stores, under a protocol that cannot flatter.

It refuses to start on a busy machine (1-minute load average above 0.5, or another process above
20 % of a core over a 2 s sample; ``--allow-load`` runs anyway and marks everything it writes
INVALID). For each dataset size it generates (or reuses) the data, starts every system on
127.0.0.1 on free ports, loads the same files into each, checks that each gives the same result
counts as ours, warms them up, then runs the query mix in rounds (3 by default), the peers' order
rotated from round to round, every request new to any result cache; each round records the load
average at its start and end and any other busy process. It prints the table of issue 21 (medians
over the rounds) and the ratios ours ÷ peer as median and min–max, with the command and the
conditions, and writes them with the raw figures to ``benchmarks/results/``. Every server it
starts is stopped by PID at the end, also on error. See ``benchmarks/protocol.py``.

    python benchmarks/run.py                     # 100k and 1M, 4 clients, ours/naive/Oxigraph/Virtuoso
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks import generate, loadgen, protocol, queries  # noqa: E402
from benchmarks.loadgen import Endpoint, MemorySampler  # noqa: E402
from benchmarks.processes import spawn_logged, start_listening, stop_process_group  # noqa: E402
from benchmarks.virtuoso_ini import virtuoso_ini  # noqa: E402

CANONICAL_BASE = "https://w3id.org/govkg/"
BENCH_GRAPH = "https://bench.govkg.invalid/graph"
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
OURS = "govkg"
ALL_SYSTEMS = (
    "govkg",
    "govkg-granian",
    "naive-flask",
    "oxigraph-mem",
    "oxigraph-disk",
    "virtuoso",
    "rdflib-endpoint",
)
RDFLIB_MAX_TRIPLES = 100_000


def serve_on_free_ports(
    command_for: Callable[[tuple[int, ...]], list[str]],
    log_path: Path,
    ready: Callable[[tuple[int, ...]], bool],
    timeout: float,
    what: str,
    ports: int = 1,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    failure_log: Path | None = None,
) -> tuple[subprocess.Popen, tuple[int, ...], float]:
    """Start ``command_for(ports)`` on free loopback ports until ``ready(ports)`` holds, answered by the
    server itself (``processes.start_listening``: a port lost to another process is retried); the
    process, its ports and the seconds from its launch until it answered. Failing: :class:`Unavailable`."""
    launched, answered = [], []

    def launch(chosen: tuple[int, ...]) -> subprocess.Popen:
        launched.append(time.perf_counter())
        return spawn_logged(command_for(chosen), log_path, cwd=cwd, env=env)

    def answers(chosen: tuple[int, ...]) -> bool:
        try:
            if ready(chosen):
                answered.append(time.perf_counter())
                return True
        except http.client.HTTPException:
            pass
        return False

    try:
        process, chosen = start_listening(
            launch,
            answers,
            ports=ports,
            timeout=timeout,
            log=lambda _: _tail(failure_log or log_path),
            name=what,
        )
    except RuntimeError as error:
        raise Unavailable(str(error)) from None
    return process, chosen, answered[-1] - launched[-1]


def http_status(port: int, path: str, method: str = "GET", body: bytes | None = None, headers=None) -> int:  # noqa: ANN001
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        reply.read()
        return reply.status
    finally:
        connection.close()


def sparql_answers(port: int, path: str) -> bool:
    body = b"query=ASK%20%7B%7D"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": loadgen.SELECT_ACCEPT}
    return http_status(port, path, "POST", body, headers) == 200


def post_file(port: int, path: str, file_path: Path, content_type: str, timeout: float = 3600) -> None:
    """Stream ``file_path`` to the server's store endpoint; raise unless it answers 2xx."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        with file_path.open("rb") as stream:
            headers = {"Content-Type": content_type, "Content-Length": str(file_path.stat().st_size)}
            connection.request("POST", path, body=stream, headers=headers)
        reply = connection.getresponse()
        detail = reply.read()[:300]
        if not 200 <= reply.status < 300:
            raise RuntimeError(f"POST {path} {file_path.name}: {reply.status} {detail!r}")
    finally:
        connection.close()


@dataclass
class Inputs:
    """The files every system loads, and a scratch folder; no ``data``: the article graph alone."""

    data: Path | None
    article: Path | None
    workdir: Path
    triples: int


@dataclass
class Running:
    """A system that is up, loaded and answering."""

    name: str
    endpoint: Endpoint
    process: subprocess.Popen
    load_seconds: float
    load_what: str
    notes: list[str] = field(default_factory=list)
    extra_processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in [self.process, *self.extra_processes]:
            stop_process_group(process)


class Unavailable(Exception):
    """A system that cannot take part in this run; the message says why."""


@contextmanager
def stopped_on_error(process: subprocess.Popen) -> Iterator[None]:
    """Stop ``process`` if anything (an error, Ctrl-C, SIGTERM) interrupts the block."""
    try:
        yield
    except BaseException:
        stop_process_group(process)
        raise


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------
# The systems.


def our_serve_help() -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "govkg", "serve", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return completed.stdout


#: What ``--jemalloc`` preloads into ours (the README's "A faster allocator"; Debian's libjemalloc2).
JEMALLOC = "libjemalloc.so.2"


def start_govkg(inputs: Inputs, workers: int | str = "auto", preload: str | None = None) -> Running:
    """``govkg serve --data FILE``: our endpoint, timed from launch until /readyz answers 200;
    with ``preload``, that library in ``LD_PRELOAD`` (an allocator)."""
    if inputs.data is not None and "--data" not in our_serve_help():
        raise Unavailable("`govkg serve` has no --data option yet: the bench data cannot be loaded")
    log_path = inputs.workdir / "govkg.log"

    def command(ports: tuple[int, ...]) -> list[str]:
        # The canonical base IRI: the data's gov: terms stay as written, as in the peers' copies.
        command = [
            sys.executable, "-m", "govkg", "serve", "--host", "127.0.0.1", "--port", str(ports[0]),
            "--base-iri", CANONICAL_BASE, "--workers", str(workers),
        ]  # fmt: skip
        return command + (["--data", str(inputs.data)] if inputs.data is not None else [])

    process, (port,), load_seconds = serve_on_free_ports(
        command,
        log_path,
        lambda ports: http_status(ports[0], "/readyz") == 200,
        3600,
        "govkg",
        cwd=PROJECT_ROOT,
        env=None if preload is None else {**os.environ, "LD_PRELOAD": preload},
    )
    endpoint = Endpoint(OURS, f"http://127.0.0.1:{port}/sparql")
    with stopped_on_error(process):
        answers = sparql_answers(port, "/sparql")
    if not answers:
        stop_process_group(process)
        raise Unavailable("govkg is ready but /sparql does not answer a query yet")
    return Running(OURS, endpoint, process, load_seconds, "start-up until /readyz")


def start_oxigraph_memory(inputs: Inputs) -> Running:
    """``oxigraph serve`` without --location (in memory), loaded through POST /store."""
    binary = shutil.which("oxigraph")
    if binary is None:
        raise Unavailable("the oxigraph server is not installed (pip install oxigraph)")
    log_path = inputs.workdir / "oxigraph-mem.log"
    process, (port,), _ = serve_on_free_ports(
        lambda ports: [binary, "serve", "--bind", f"127.0.0.1:{ports[0]}", "--union-default-graph"],
        log_path,
        lambda ports: sparql_answers(ports[0], "/query"),
        60,
        "oxigraph serve",
    )
    try:
        started = time.perf_counter()
        if inputs.data is not None:
            post_file(port, "/store?default", inputs.data, "application/n-triples")
        if inputs.article is not None:
            post_file(port, "/store", inputs.article, "application/n-quads")
        load_seconds = time.perf_counter() - started
    except BaseException:
        stop_process_group(process)
        raise
    endpoint = Endpoint("oxigraph-mem", f"http://127.0.0.1:{port}/query")
    return Running("oxigraph-mem", endpoint, process, load_seconds, "POST /store")


def start_oxigraph_disk(inputs: Inputs) -> Running:
    """``oxigraph load`` into a RocksDB folder, then ``oxigraph serve-read-only`` on it."""
    if inputs.data is None:
        raise Unavailable("runs only with the bench data")
    binary = shutil.which("oxigraph")
    if binary is None:
        raise Unavailable("the oxigraph server is not installed (pip install oxigraph)")
    location = inputs.workdir / "oxigraph-db"
    shutil.rmtree(location, ignore_errors=True)
    log_path = inputs.workdir / "oxigraph-disk.log"
    files = [str(inputs.data)] + ([str(inputs.article)] if inputs.article else [])
    started = time.perf_counter()
    with log_path.open("ab") as log_file:
        subprocess.run(
            [binary, "load", "--location", str(location), "--file", *files],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=3600,
        )
    load_seconds = time.perf_counter() - started
    command = lambda ports: [  # noqa: E731
        binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{ports[0]}",
        "--union-default-graph",
    ]  # fmt: skip
    process, (port,), _ = serve_on_free_ports(
        command,
        log_path,
        lambda ports: sparql_answers(ports[0], "/query"),
        120,
        "oxigraph serve-read-only",
    )
    endpoint = Endpoint("oxigraph-disk", f"http://127.0.0.1:{port}/query")
    return Running("oxigraph-disk", endpoint, process, load_seconds, "oxigraph load (RocksDB)")


def start_virtuoso(inputs: Inputs) -> Running:
    """Virtuoso open source (``virtuoso-t``) with a minimal loopback-only ini; bulk-loaded by isql."""
    if inputs.data is None:
        raise Unavailable("runs only with the bench data")
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if server is None or isql is None:
        raise Unavailable("Virtuoso is not installed (apt-get install virtuoso-opensource)")
    db = inputs.workdir / "virtuoso-db"
    # 8 KiB pages: enough buffers to hold the data in memory (about 2.5 KiB per triple with indexes).
    buffers = max(20_000, min(1_000_000, inputs.triples // 3))
    data_dirs = sorted({str(inputs.data.parent.resolve())} | ({str(inputs.article.parent.resolve())}
                                                              if inputs.article else set()))  # fmt: skip
    ini = db / "virtuoso.ini"

    def command(ports: tuple[int, ...]) -> list[str]:  # SQL and HTTP ports, written into its ini
        shutil.rmtree(db, ignore_errors=True)
        db.mkdir(parents=True)
        ini.write_text(virtuoso_ini(db, ports[0], ports[1], buffers, data_dirs, connections=24))
        return [server, "+foreground", "+configfile", str(ini)]

    process, (sql_port, http_port), _ = serve_on_free_ports(
        command,
        inputs.workdir / "virtuoso.out.log",
        lambda ports: sparql_answers(ports[1], "/sparql"),
        180,
        "Virtuoso",
        ports=2,
        cwd=db,
        failure_log=db / "virtuoso.log",
    )
    try:
        statements = [f"ld_dir('{inputs.data.parent.resolve()}', '{inputs.data.name}', '{BENCH_GRAPH}');"]
        if inputs.article is not None:
            statements.append(
                f"ld_dir('{inputs.article.parent.resolve()}', '{inputs.article.name}', '{BENCH_GRAPH}');"
            )
        statements += [
            "rdf_loader_run();",
            "checkpoint;",
            "select ll_file, ll_error from DB.DBA.LOAD_LIST where ll_error is not null;",
        ]
        started = time.perf_counter()
        completed = subprocess.run(
            [isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={' '.join(statements)}"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        load_seconds = time.perf_counter() - started
        if completed.returncode != 0 or "0 Rows." not in completed.stdout:
            raise Unavailable(
                f"Virtuoso bulk load failed:\n{completed.stdout[-1500:]}{completed.stderr[-500:]}"
            )
    except BaseException:
        stop_process_group(process, grace=30)
        raise
    endpoint = Endpoint("virtuoso", f"http://127.0.0.1:{http_port}/sparql")
    return Running("virtuoso", endpoint, process, load_seconds, "ld_dir + rdf_loader_run + checkpoint")


def start_rdflib_endpoint(inputs: Inputs) -> Running:
    """rdflib-endpoint: one uvicorn process serving an in-memory rdflib Dataset."""
    if inputs.data is None:
        raise Unavailable("runs only with the bench data")
    binary = shutil.which("rdflib-endpoint")
    if binary is None:
        raise Unavailable("rdflib-endpoint is not installed (pip install -e '.[bench]')")
    if inputs.triples > RDFLIB_MAX_TRIPLES:
        raise Unavailable(f"skipped above {RDFLIB_MAX_TRIPLES:,} triples: too slow to load and query")
    log_path = inputs.workdir / "rdflib-endpoint.log"
    # The article first: an rdflib Dataset that parses N-Quads after N-Triples loses the
    # N-Triples from its default-union view (rdflib 7.6).
    files = [str(path) for path in (inputs.article, inputs.data) if path is not None]
    process, (port,), load_seconds = serve_on_free_ports(
        lambda ports: [binary, "serve", "--host", "127.0.0.1", "--port", str(ports[0]), *files],
        log_path,
        lambda ports: sparql_answers(ports[0], "/"),  # rdflib-endpoint serves SPARQL at the root path
        1800,
        "rdflib-endpoint",
    )
    endpoint = Endpoint("rdflib-endpoint", f"http://127.0.0.1:{port}/", timeout=120)
    return Running("rdflib-endpoint", endpoint, process, load_seconds, "start-up (rdflib parse) until ready")


def _module_available(name: str) -> bool:
    completed = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=PROJECT_ROOT, capture_output=True, timeout=60
    )
    return completed.returncode == 0


def _data_files(inputs: Inputs) -> list[Path]:
    return [path for path in (inputs.data, inputs.article) if path is not None]


def start_govkg_granian(inputs: Inputs, workers: int = 1) -> Running:
    """Our Flask app (``server.create_app``, settings from ``GOVKG_*``) under granian: a Rust HTTP front.

    The same app as ``govkg serve`` without gunicorn's arbiter: for comparing the fronts only.
    """
    if not _module_available("granian"):
        raise Unavailable("granian is not installed (pip install granian)")
    log_path = inputs.workdir / "govkg-granian.log"
    command = lambda ports: [  # noqa: E731
        sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
        "--port", str(ports[0]), "--workers", str(workers), "--blocking-threads", "8", "--no-access-log",
        "govkg:create_app",
    ]  # fmt: skip
    env = {**os.environ, "GOVKG_BASE_IRI": CANONICAL_BASE}
    if inputs.data is not None:
        env["GOVKG_DATA"] = str(inputs.data)
    process, (port,), load_seconds = serve_on_free_ports(
        command, log_path, lambda ports: http_status(ports[0], "/readyz") == 200, 3600, "govkg under granian",
        cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    endpoint = Endpoint("govkg-granian", f"http://127.0.0.1:{port}/sparql")
    return Running("govkg-granian", endpoint, process, load_seconds, "start-up until /readyz")


def start_naive_flask(inputs: Inputs) -> Running:
    """``benchmarks/naive_app.py`` (bare Flask + pyoxigraph) under gunicorn: 2 sync workers, preloaded."""
    if inputs.data is None:
        raise Unavailable("runs only with the bench data")
    log_path = inputs.workdir / "naive-flask.log"
    command = lambda ports: [  # noqa: E731
        sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync", "--preload",
        "--bind", f"127.0.0.1:{ports[0]}", "benchmarks.naive_app:app",
    ]  # fmt: skip
    env = {**os.environ, "NAIVE_DATA": os.pathsep.join(str(path) for path in _data_files(inputs))}
    process, (port,), load_seconds = serve_on_free_ports(
        command, log_path, lambda ports: http_status(ports[0], "/readyz") == 200, 3600, "the naive Flask app",
        cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    endpoint = Endpoint("naive-flask", f"http://127.0.0.1:{port}/sparql")
    return Running("naive-flask", endpoint, process, load_seconds, "gunicorn start-up until ready")


STARTERS: dict[str, Callable[[Inputs], Running]] = {
    "govkg": start_govkg,
    "govkg-granian": start_govkg_granian,
    "naive-flask": start_naive_flask,
    "oxigraph-mem": start_oxigraph_memory,
    "oxigraph-disk": start_oxigraph_disk,
    "virtuoso": start_virtuoso,
    "rdflib-endpoint": start_rdflib_endpoint,
}


# ---------------------------------------------------------------------------------------------------
# The run.


def dump_article(workdir: Path) -> Path | None:
    """The article graph as N-Quads (``govkg dump``), for the peers to load beside the bench data."""
    path = workdir / "article.nq"
    completed = subprocess.run(
        [sys.executable, "-m", "govkg", "dump", "--format", "nq", "--base-iri", CANONICAL_BASE,
         "-o", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    if completed.returncode != 0 or not path.is_file():
        print(f"warning: no article dump ({completed.stderr.strip()[-300:]})", file=sys.stderr)
        return None
    return path


def check_counts(
    systems: list[Running], checks: list[queries.QueryInstance]
) -> dict[str, dict[str, int | None]]:
    """Result counts of each check query on each system (rows, 0/1, distinct triples)."""
    counts: dict[str, dict[str, int | None]] = {}
    for running in systems:
        client = loadgen.SparqlClient(running.endpoint)
        try:
            for query in checks:
                response = client.send(query)
                counts.setdefault(query.name, {})[running.name] = loadgen.result_count(response, query.form)
        finally:
            client.close()
    return counts


def mismatches(counts: dict[str, dict[str, int | None]], reference: str) -> list[str]:
    found = []
    for name, by_system in counts.items():
        expected = by_system.get(reference)
        for system, count in by_system.items():
            if system != reference and count != expected:
                found.append(f"{name}: {system} {count} vs {reference} {expected}")
    return found


def ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "–"
    return f"{ours / theirs:.2f}x"


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def render_report(report: dict) -> str:
    """The Markdown tables of one run."""
    systems = [s for s in report["systems"] if s["status"] == "ok"]
    names = [s["name"] for s in systems]
    ours_up = OURS in names
    lines = [
        f"### {report['size_label']} triples ({report['triples']:,}; seed {report['seed']}) — "
        f"{report['started']}",
        "",
        f"Command: `{report['command']}` ({report['machine']}; load average at start "
        f"{report.get('load_average_at_start', '?')})",
        "",
    ]
    for skipped in report["systems"]:
        if skipped["status"] != "ok":
            lines.append(f"- {skipped['name']}: not run — {skipped['reason'].splitlines()[0]}")
    if len(lines) > 4:
        lines.append("")
    header = "| | " + " | ".join(names) + " |"
    rule = "|---|" + "---|" * len(names)
    lines += [header, rule]

    def row(label: str, values: dict[str, str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values.get(n, "–") for n in names) + " |")

    row("load (s)", {s["name"]: f"{s['load_seconds']:.2f}" for s in systems})
    row("PSS after run (MiB)", {s["name"]: fmt(s["memory"]["pss_mib"]) for s in systems})
    row("RSS after run (MiB)", {s["name"]: fmt(s["memory"]["rss_mib"]) for s in systems})
    row("peak PSS (MiB)", {s["name"]: fmt(s["memory"]["peak_pss_mib"]) for s in systems})
    row("processes", {s["name"]: str(s["memory"]["processes"]) for s in systems})
    by_key = {(r["system"], r["scenario"], r["clients"]): r for r in report["scenarios"]}
    for clients in report["clients"]:
        row(
            f"mix q/s, {clients} client{'s' if clients > 1 else ''}",
            {n: fmt(by_key.get((n, "mix", clients), {}).get("throughput_qps")) for n in names},
        )
        row(
            f"p50 / p99 ms, {clients}c",
            {
                n: f"{fmt(r.get('p50_ms'), 2)} / {fmt(r.get('p99_ms'), 2)}"
                for n in names
                if (r := by_key.get((n, "mix", clients)))
            },
        )
        row(
            f"server CPU ms/query, {clients}c",
            {n: fmt(by_key.get((n, "mix", clients), {}).get("cpu_ms_per_query"), 2) for n in names},
        )
        row(
            f"result-cache hits, {clients}c",
            {n: str(by_key.get((n, "mix", clients), {}).get("cache_hits", "–")) for n in names},
        )
        row(
            f"errors, {clients}c",
            {n: str(by_key.get((n, "mix", clients), {}).get("errors", "–")) for n in names},
        )
    repeated = report.get("repeated_clients")
    if repeated:
        row(
            f"repeated query q/s, {repeated}c",
            {n: fmt(by_key.get((n, "repeated", repeated), {}).get("throughput_qps")) for n in names},
        )
        row(
            f"repeated: server CPU ms/query, {repeated}c",
            {n: fmt(by_key.get((n, "repeated", repeated), {}).get("cpu_ms_per_query"), 2) for n in names},
        )
        row(
            "repeated: result-cache hits",
            {n: str(by_key.get((n, "repeated", repeated), {}).get("cache_hits", "–")) for n in names},
        )
    lines.append("")
    if ours_up and len(names) > 1:
        lines += ["Ratios, ours ÷ peer (throughput: higher is better for us; p99, load, PSS: lower is).", ""]
        peers = [n for n in names if n != OURS]
        lines += ["| | " + " | ".join(peers) + " |", "|---|" + "---|" * len(peers)]
        ours_system = next(s for s in systems if s["name"] == OURS)

        def ratio_row(label: str, pick: Callable[[str], float | None]) -> None:
            lines.append(f"| {label} | " + " | ".join(ratio(pick(OURS), pick(p)) for p in peers) + " |")

        for clients in report["clients"]:
            ratio_row(
                f"mix q/s, {clients}c",
                lambda n, c=clients: by_key.get((n, "mix", c), {}).get("throughput_qps"),
            )
            ratio_row(f"p99, {clients}c", lambda n, c=clients: by_key.get((n, "mix", c), {}).get("p99_ms"))
            ratio_row(
                f"CPU ms/query, {clients}c",
                lambda n, c=clients: by_key.get((n, "mix", c), {}).get("cpu_ms_per_query"),
            )
        if repeated:
            ratio_row(
                f"repeated q/s, {repeated}c",
                lambda n: by_key.get((n, "repeated", repeated), {}).get("throughput_qps"),
            )
        system_by_name = {s["name"]: s for s in systems}
        ratio_row("load time", lambda n: system_by_name[n]["load_seconds"])
        ratio_row("PSS", lambda n: system_by_name[n]["memory"]["pss_mib"])
        del ours_system
        lines.append("")
    # Per-query medians at one client.
    one = min(report["clients"])
    lines += [f"Median latency per query, ms ({one} client)", ""]
    lines += [header, rule]
    query_names = list(report["query_names"])
    for query_name in query_names:
        row(
            query_name,
            {
                n: fmt(by_key.get((n, "mix", one), {}).get("median_ms_by_query", {}).get(query_name), 2)
                for n in names
            },
        )
    lines.append("")
    if report["count_mismatches"]:
        lines += ["Result-count mismatches (parameter set 0, against " + report["count_reference"] + "):", ""]
        lines += [f"- {item}" for item in report["count_mismatches"]]
    else:
        lines.append(f"Result counts: every system matches {report['count_reference']} on parameter set 0.")
    lines.append("")
    if report.get("competency_questions"):
        lines.append(render_competency(report["competency_questions"]))
    return "\n".join(lines)


def parse_clients(text: str) -> list[int]:
    """``"1,4,16"`` → ``[1, 4, 16]``.

    >>> parse_clients("1, 4,16")
    [1, 4, 16]
    """
    values = [int(part) for part in text.replace(" ", "").split(",") if part]
    if not values or any(not 1 <= value <= 64 for value in values):
        raise argparse.ArgumentTypeError("client counts must be between 1 and 64")
    return values


PROTOCOL_SYSTEMS = ("govkg", "naive-flask", "oxigraph-mem", "virtuoso")


def parse_sizes(text: str) -> list[str]:
    """``"100k,1M"`` → ``["100k", "1M"]``, each checked by :func:`generate.parse_size`.

    >>> parse_sizes("100k, 1M")
    ['100k', '1M']
    """
    labels = [part.strip() for part in text.split(",") if part.strip()]
    try:
        for label in labels:
            generate.parse_size(label)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not labels:
        raise argparse.ArgumentTypeError("no size given")
    return labels


def measure_size(
    size_label: str, args: argparse.Namespace, selected: list[str], article: Path | None, workdir: Path
) -> dict:
    """One scale: start the systems, check their answers, warm up, run the rounds; stop them all.

    Each round runs every client count with the peers in the round's rotated order, records the
    load average at its start and end, each peer's figures (PSS read after its scenario) and any
    process outside this run that was busy beside a scenario.
    """
    triples = generate.parse_size(size_label)
    data_path = args.data_dir / f"bench-{size_label}-seed{args.seed}.nt"
    print(f"dataset: {data_path.name} ({triples:,} triples)", flush=True)
    generated = time.perf_counter()
    manifest = generate.ensure_dataset(data_path, triples, args.seed)
    print(
        f"  ready in {time.perf_counter() - generated:.1f} s, {manifest.complete_cities} cities", flush=True
    )
    mix = queries.build_mix(manifest.seed, manifest.complete_cities)
    mix_sets = list(mix.values())
    size_dir = workdir / size_label
    size_dir.mkdir()
    inputs = Inputs(data_path, article, size_dir, triples)
    report: dict = {
        "size_label": size_label,
        "triples": manifest.triples,
        "seed": manifest.seed,
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "command": args.command,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_average_at_start": protocol.load_average()[0],
        "clients": args.clients,
        "duration": args.duration,
        "repeated_clients": args.repeated_clients,
        "query_names": list(mix),
        "systems": [],
        "scenarios": [],
        "rounds": [],
        "count_mismatches": [],
        "count_reference": OURS,
    }
    running: list[Running] = []
    samplers: dict[str, MemorySampler] = {}
    try:
        for name in selected:
            print(f"starting {name} ...", flush=True)
            try:
                if name == OURS:
                    system = start_govkg(inputs, args.workers, JEMALLOC if args.jemalloc else None)
                elif name == "govkg-granian":
                    system = start_govkg_granian(inputs, args.granian_workers)
                else:
                    system = STARTERS[name](inputs)
            except Unavailable as reason:
                print(f"  {name}: not run — {reason}", flush=True)
                report["systems"].append({"name": name, "status": "unavailable", "reason": str(reason)})
                continue
            running.append(system)
            print(f"  loaded in {system.load_seconds:.2f} s ({system.load_what})", flush=True)
            samplers[name] = MemorySampler(system.process.pid)
            samplers[name].__enter__()

        names = [system.name for system in running]
        by_name = {system.name: system for system in running}
        reference = OURS if OURS in names else (names[0] if names else OURS)
        report["count_reference"] = reference
        counts = check_counts(running, [sets[0] for sets in mix_sets])
        report["counts"] = counts
        report["count_mismatches"] = mismatches(counts, reference)
        for item in report["count_mismatches"]:
            print(f"  count mismatch: {item}", flush=True)

        for system in running:
            errors = loadgen.warm_up(system.endpoint, mix_sets)
            print(f"warmed up {system.name} ({errors} errors)", flush=True)

        for round_number in range(args.rounds):
            order = protocol.rotated(names, round_number)
            record: dict = {"round": round_number, "order": order, "load_start": protocol.load_average()}
            record["busy"] = []
            for clients in args.clients:
                for name in order:
                    system = by_name[name]
                    ticks_before, scenario_started = protocol.cpu_ticks(), time.monotonic()
                    result = loadgen.run_scenario(
                        system.endpoint, mix_sets, clients, args.duration, server_pid=system.process.pid
                    )
                    # Checked per scenario, so a short burst beside one peer is not averaged away.
                    busy = protocol.busy_between(
                        ticks_before,
                        protocol.cpu_ticks(),
                        time.monotonic() - scenario_started,
                        args.max_process_cpu / 100,
                        exclude=loadgen.process_tree(os.getpid()),
                    )
                    record["busy"] += [
                        f"beside {name} {clients}c: {process}"
                        for process in protocol.with_command_lines(busy)
                    ]
                    summary = result.summary()
                    summary["round"] = round_number
                    summary["pss_mib"] = round(loadgen.tree_memory(system.process.pid).pss_mib, 1)
                    report["scenarios"].append(summary)
                    print(
                        f"round {round_number + 1} mix {name:16} {clients:3}c  {result.throughput:9.1f} q/s  "
                        f"p50 {fmt(summary['p50_ms'], 2)} ms  p99 {fmt(summary['p99_ms'], 2)} ms  "
                        f"CPU {fmt(summary['cpu_ms_per_query'], 2)} ms/q  PSS {summary['pss_mib']} MiB  "
                        f"errors {result.errors}",
                        flush=True,
                    )
            record["load_end"] = protocol.load_average()
            report["rounds"].append(record)
            print(
                f"round {round_number + 1}: load {record['load_start']} → {record['load_end']}; "
                f"other busy processes: {'; '.join(record['busy']) or 'none'}",
                flush=True,
            )

        repeated = [[mix[queries.REPEATED_QUERY][0]]]
        for system in running:
            result = loadgen.run_scenario(
                system.endpoint,
                repeated,
                args.repeated_clients,
                min(args.duration, 10),
                "repeated",
                unique=False,
                server_pid=system.process.pid,
            )
            report["scenarios"].append(result.summary())
            print(
                f"repeated {system.name:16} {result.throughput:9.1f} q/s ({result.cache_hits} hits)  "
                f"CPU {fmt(result.cpu_ms_per_query, 2)} ms/q",
                flush=True,
            )

        for system in running:
            sampler = samplers.pop(system.name)
            sampler.__exit__(None, None, None)
            report["systems"].append(
                {
                    "name": system.name,
                    "status": "ok",
                    "load_seconds": round(system.load_seconds, 3),
                    "load_what": system.load_what,
                    "memory": {
                        "pss_mib": round(sampler.last.pss_mib, 1),
                        "rss_mib": round(sampler.last.rss_mib, 1),
                        "peak_pss_mib": round(sampler.peak.pss_mib, 1),
                        "processes": sampler.last.processes,
                    },
                }
            )
    finally:
        for sampler in samplers.values():
            sampler.__exit__(None, None, None)
        for system in running:
            system.stop()
    return report


def protocol_sizes(report: dict) -> list[dict]:
    """A scale's rounds as :func:`protocol.render_protocol` reads them: one entry per client count."""
    systems = [entry["name"] for entry in report["systems"] if entry["status"] == "ok"]
    entries = []
    for clients in report["clients"]:
        rounds = []
        for record in report["rounds"]:
            results = {
                entry["system"]: entry
                for entry in report["scenarios"]
                if entry["scenario"] == "mix"
                and entry["clients"] == clients
                and entry["round"] == record["round"]
            }
            rounds.append({**record, "results": results})
        label = report["size_label"] if len(report["clients"]) == 1 else f"{report['size_label']}, {clients}c"
        entries.append(
            {
                "label": label,
                "systems": systems,
                "rounds": rounds,
                "count_mismatches": report["count_mismatches"],
            }
        )
    return entries


def invalid_reasons(reports: list[dict], max_share: float) -> list[str]:
    """What in the measured rounds breaks the protocol: busy neighbours, cached or failed answers."""
    reasons = []
    for report in reports:
        for record in report["rounds"]:
            if record["busy"]:
                reasons.append(
                    f"{report['size_label']} round {record['round'] + 1}: other processes above "
                    f"{max_share:.0%} of a core ({'; '.join(record['busy'])})"
                )
        for entry in report["scenarios"]:
            if entry["scenario"] != "mix":
                continue
            where = f"{report['size_label']} round {entry['round'] + 1}: {entry['system']}"
            if entry["cache_hits"]:
                reasons.append(f"{where} answered {entry['cache_hits']} mix queries from a cache")
            if entry["errors"]:
                reasons.append(f"{where} failed {entry['errors']} mix queries")
    return reasons


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # SIGTERM (from `timeout` or a CI runner) unwinds like Ctrl-C, so every server is stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", type=parse_sizes, default="100k,1M", help="dataset sizes in triples (default %(default)s)"
    )
    parser.add_argument("--clients", type=parse_clients, default=[4], help="e.g. 1,4,16 (default 4)")
    parser.add_argument(
        "--duration", type=float, default=15, help="seconds per scenario (default %(default)s)"
    )
    parser.add_argument(
        "--systems",
        default=",".join(PROTOCOL_SYSTEMS),
        help=f"comma-separated, of {', '.join(ALL_SYSTEMS)} (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument(
        "--workers", default="auto", help="our web workers: a number, or auto (default %(default)s)"
    )
    parser.add_argument(
        "--jemalloc",
        action="store_true",
        help=f"start ours with LD_PRELOAD={JEMALLOC} (README: a faster allocator); the peers as they are",
    )
    parser.add_argument(
        "--granian-workers", type=int, default=1, help="govkg-granian's workers (default %(default)s)"
    )
    parser.add_argument(
        "--repeated-clients", type=int, default=4, help="clients of the repeated-query scenario"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=protocol.MIN_ROUNDS,
        help="rounds, the peers' order rotated between them (default %(default)s; fewer: INVALID)",
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=protocol.MAX_LOAD,
        help="refuse to start above this 1-minute load average (default %(default)s)",
    )
    parser.add_argument(
        "--max-process-cpu",
        type=float,
        default=protocol.MAX_PROCESS_SHARE * 100,
        help="refuse to start while another process uses more than this %% of a core (default %(default)s)",
    )
    parser.add_argument(
        "--allow-load",
        action="store_true",
        help="run on a busy machine anyway; everything written says INVALID",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "govkg-bench",
        help="where the generated data is written and reused (default: <tmp>/govkg-bench)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where the JSON and Markdown go (benchmarks/results/)",
    )
    parser.add_argument("--no-article", action="store_true", help="do not load the article graph into peers")
    parser.add_argument(
        "--no-competency", action="store_true", help="skip the competency questions on the article graph"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be between 1 and 600 seconds")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds must be between 1 and 10")
    selected = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = set(selected) - set(ALL_SYSTEMS)
    if unknown:
        parser.error(f"unknown system(s): {', '.join(sorted(unknown))}; choose from {', '.join(ALL_SYSTEMS)}")
    args.command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])

    load_before = protocol.load_average()
    noise = protocol.noisy_conditions(
        args.max_load, args.max_process_cpu / 100, exclude=loadgen.process_tree(os.getpid())
    )
    if noise and not args.allow_load:
        print(
            f"run.py: refusing to measure: {'; '.join(noise)} (--allow-load runs anyway, INVALID)",
            file=sys.stderr,
        )
        return 2
    reasons = ["--allow-load given", *noise] if args.allow_load else []
    if args.rounds < protocol.MIN_ROUNDS:
        reasons.append(f"{args.rounds} round(s), fewer than {protocol.MIN_ROUNDS}")

    started_at = time.strftime("%Y-%m-%d %H:%M %Z")
    workdir = Path(tempfile.mkdtemp(prefix="govkg-bench-run-"))
    try:
        article = None if args.no_article else dump_article(workdir)
        reports = [measure_size(label, args, selected, article, workdir) for label in args.size]
        competency = None
        if not args.no_competency:
            cqs = queries.competency_questions(PROJECT_ROOT / "queries")
            try:
                competency = competency_pass(cqs, article, args) if cqs else None
            except (OSError, RuntimeError, subprocess.SubprocessError) as error:
                print(f"competency questions not measured: {error}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    reasons += invalid_reasons(reports, args.max_process_cpu / 100)
    run = {
        "valid": not reasons,
        "invalid_reasons": reasons,
        "command": args.command,
        "started": started_at,
        "load_before": load_before,
        "conditions": protocol.conditions(PROJECT_ROOT, selected),
        "sizes": [entry for report in reports for entry in protocol_sizes(report)],
        "details": reports,
    }
    table = protocol.render_protocol(run)
    details = []
    for report in reports:
        report["scenarios"] = _merge_rounds(report["scenarios"])  # the detail tables: the median round
        details.append(render_report(report))
    if competency:
        run["competency_questions"] = competency
        details.append(render_competency(competency))
    markdown = table + "\n#### Details (the median round of each scenario)\n\n" + "\n".join(details)
    if not run["valid"]:
        markdown = protocol.mark_invalid(markdown)
    print()
    print(table)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = f"protocol-{'-'.join(args.size)}-{time.strftime('%Y%m%d-%H%M%S')}"
    (args.output_dir / f"{stem}.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    (args.output_dir / f"{stem}.md").write_text(markdown)
    print(
        f"written: {args.output_dir / stem}.json and .md" + ("" if run["valid"] else " (INVALID)"), flush=True
    )
    return 0


CQ_SYSTEMS = ("govkg", "oxigraph-mem")


def competency_pass(cqs: list[queries.QueryInstance], article: Path | None, args: argparse.Namespace) -> dict:
    """The project's competency questions on the article graph alone: ours against Oxigraph in memory.

    ``article`` is the article graph dumped by ``govkg dump``; without it only ours runs.
    """
    workdir = Path(tempfile.mkdtemp(prefix="govkg-bench-cq-"))
    inputs = Inputs(None, article, workdir, 0)
    section: dict = {"queries": [query.name for query in cqs], "systems": {}, "scenarios": []}
    running: list[Running] = []
    try:
        for name in CQ_SYSTEMS:
            if name != OURS and article is None:
                continue
            try:
                if name == OURS:
                    system = start_govkg(inputs, args.workers, JEMALLOC if args.jemalloc else None)
                else:
                    system = STARTERS[name](inputs)
            except Unavailable as reason:
                print(f"  competency questions, {name}: not run — {reason}", flush=True)
                continue
            running.append(system)
        counts = check_counts(running, cqs)
        reference = OURS if any(system.name == OURS for system in running) else CQ_SYSTEMS[1]
        section["counts"] = counts
        section["count_mismatches"] = mismatches(counts, reference)
        sets = [[query] for query in cqs]
        for system in running:
            loadgen.warm_up(system.endpoint, sets)
        for clients in sorted({min(args.clients), 4}):
            for system in running:
                result = loadgen.run_scenario(system.endpoint, sets, clients, min(args.duration, 10), "cq")
                section["scenarios"].append(result.summary())
                print(f"cq  {system.name:16} {clients:3}c  {result.throughput:9.1f} q/s", flush=True)
    finally:
        for system in running:
            system.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return section


def render_competency(section: dict) -> str:
    """The competency-question table: per-query medians and throughput, ours and Oxigraph."""
    names = sorted({entry["system"] for entry in section["scenarios"]}, key=lambda n: n != OURS)
    if not names:
        return ""
    lines = [
        "Competency questions (queries/*.rq) on the article graph alone",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    by_key = {(entry["system"], entry["clients"]): entry for entry in section["scenarios"]}
    one = min(clients for _system, clients in by_key)
    for query_name in section["queries"]:
        cells = []
        for name in names:
            median = by_key.get((name, one), {}).get("median_ms_by_query", {}).get(query_name)
            count = section["counts"].get(query_name, {}).get(name)
            cells.append(f"{fmt(median, 2)} ms ({count} results)")
        lines.append(f"| {query_name} | " + " | ".join(cells) + " |")
    for clients in sorted({clients for _system, clients in by_key}):
        lines.append(
            f"| all, q/s at {clients}c | "
            + " | ".join(fmt(by_key.get((n, clients), {}).get("throughput_qps")) for n in names)
            + " |"
        )
    lines.append("")
    for item in section.get("count_mismatches", []):
        lines.append(f"- count mismatch: {item}")
    return "\n".join(lines) + "\n"


def _merge_rounds(scenarios: list[dict]) -> list[dict]:
    """One entry per (system, scenario, clients): the round with the median throughput."""
    grouped: dict[tuple, list[dict]] = {}
    for entry in scenarios:
        grouped.setdefault((entry["system"], entry["scenario"], entry["clients"]), []).append(entry)
    merged = []
    for entries in grouped.values():
        entries.sort(key=lambda entry: entry["throughput_qps"])
        chosen = dict(entries[len(entries) // 2])
        chosen["rounds"] = len(entries)
        chosen["throughput_qps_rounds"] = [entry["throughput_qps"] for entry in entries]
        merged.append(chosen)
    return merged


if __name__ == "__main__":
    sys.exit(main())
