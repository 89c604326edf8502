"""Soak: our server under mixed load for minutes, with a client that sends only pathological queries.

One command (loopback only; bounded in time and in count; it stops the server it started)::

    python -m benchmarks.soak                    # 5 minutes
    python -m benchmarks.soak --duration 60      # shorter
    python -m benchmarks.soak --public           # through govkg serve-public (nginx, 2 instances)

It generates the 100k-triple benchmark data (``benchmarks.generate``, reused when present),
starts ``python -m govkg serve --port P --workers 1 --query-workers 8 --query-timeout 10
--data FILE`` as a subprocess, touches every URL once (warm-up: caches and dumps built),
then runs 16 clients for ``--duration`` seconds, each picking at random:

========== ===================================================================== ========
class      request                                                               expected
========== ===================================================================== ========
cq-stored  ``GET /queries/NAME`` (the competency questions but the federated one, 200
           asked of the article's graphs with ``default-graph-uri``)
cq-sparql  ``POST /sparql`` of the same texts, the same way                      200
bench-mix  ``POST /sparql`` of the benchmark mix (``benchmarks.queries``)        200
page-html  ``GET /id/...`` etc. as ``text/html``                                 200
page-rdf   the same as Turtle or JSON-LD                                         200
dump       a whole dump file, ``/dumps/govkg.*``                                 200
revalidate a conditional GET with ``If-None-Match`` (dumps, pages, a query)      304
========== ===================================================================== ========

while one more client sends pathological queries, one after another, each with a short time
limit (``timeout=2``, the /sparql parameter for a limit below ``query_timeout``): cartesian
products, a regular expression over one, an unbounded property path
``?s (rdf:type|^rdf:type)* ?o``, a huge OFFSET, 40 nested OPTIONALs. Each must end at its
time limit with 503.

The bounds (exit status 1 if one is broken, 2 if the server did not start):

* no error in the 16 clients (any other status, a connection error or a time-out);
* every pathological query answered 503, never sooner than its limit: "timed out" (it ran and was
  stopped), or "stayed busy" (it waited its whole limit for a free query process while the 16
  clients held them: admission control, the other way a query is bounded); and 90 % of
  them within twice the limit plus :data:`PATHOLOGICAL_MARGIN` seconds (a query may first wait up
  to its limit for a free query thread, then run up to its limit; the slowest are reported);
* p99 latency of each class under :data:`P99_BOUNDS`;
* no memory growth once warm: the PSS of the server's process tree (master and web workers;
  sampled every 5 s) at the end at most :data:`PSS_GROWTH` times its highest value
  in the first half of the run plus :data:`PSS_SLACK_MIB`; RSS and the start are reported too;
* no more open descriptors in the process tree at the end than at the start (read once the
  clients have stopped and their connections are closed; with ``--public``, once nginx has
  closed its idle connections to the instances, a minute later). Fewer is no leak: a query process
  the kernel ended at a bound takes its descriptors with it, and the next is forked only when
  a query needs it.

A JSON report goes to ``benchmarks/results/soak-*.json``; the table is printed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from govkg.settings import DEFAULT_BASE_IRI
from govkg.web.public import UPSTREAM_KEEPALIVE_SECONDS

from benchmarks import generate
from benchmarks.loadgen import process_tree, tree_memory
from benchmarks.processes import start_listening
from benchmarks.queries import build_mix, competency_questions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
HOST = "127.0.0.1"

QUERY_TIMEOUT = 10.0
#: The pathological client asks for this time limit with the ``timeout`` parameter of /sparql.
PATHOLOGICAL_TIMEOUT = 2.0
PATHOLOGICAL_MARGIN = 1.0
#: p99 latency bounds in seconds, per class, with the pathological client running throughout.
P99_BOUNDS = {
    "cq-stored": 2.0,
    "cq-sparql": 2.0,
    "bench-mix": 2.0,
    "page-html": 2.0,
    "page-rdf": 2.0,
    "dump": 3.0,
    "revalidate": 2.0,
}
#: No leak: the PSS at the end is at most this times the highest PSS of the first half, plus the slack.
#: (The first minutes do grow: the heap settles at the size of the biggest answers.)
PSS_GROWTH = 1.10
PSS_SLACK_MIB = 64
MEMORY_SAMPLE_SECONDS = 5
#: The share of each class in the clients' requests.
WEIGHTS = {
    "cq-stored": 14,
    "cq-sparql": 14,
    "bench-mix": 30,
    "page-html": 12,
    "page-rdf": 12,
    "dump": 4,
    "revalidate": 14,
}
#: A hard bound on the requests of one client, whatever the duration.
MAX_REQUESTS_PER_CLIENT = 1_000_000

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
PATHOLOGICAL = {
    "cartesian": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "regex": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f "
    'FILTER(REGEX(CONCAT(STR(?c), STR(?f)), "^(\\\\w+\\\\s?)*$")) }',
    "property-path": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ({RDF_TYPE}|^{RDF_TYPE})* ?o }}",
    "huge-offset": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } OFFSET 1000000000000 LIMIT 1",
    "deep-nesting": "SELECT (COUNT(*) AS ?n) WHERE { "
    + "".join(f"?x{i} ?p{i} ?x{i + 1} OPTIONAL {{ " for i in range(40))
    + "?x40 ?p40 ?x41 "
    + "} " * 40
    + "}",
}


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    ok: bool
    detail: str = ""
    retried: bool = False


@dataclass
class Target:
    """One request a client may send."""

    kind: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: int = 200


# --- the server -------------------------------------------------------------------------------------


#: ``--public``: the per-client limits of nginx raised past what the soak's clients (all on one
#: address) send, so that the soak measures serving through the proxy, not its refusals.
PUBLIC_OPTIONS = ("--instances", "2", "--client-rate", "100000", "--client-connections", "1024")


def start_server(
    data: Path, workdir: Path, workers: int, query_workers: int, query_timeout: float, public: bool = False
) -> tuple[subprocess.Popen, int]:
    """``govkg serve`` (``serve-public`` if ``public``) on a free port, ready when /readyz answers
    200 from it (``start_listening``)."""
    log_path = workdir / "server.log"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        command = [
            sys.executable, "-m", "govkg", "serve-public" if public else "serve",
            "--host", HOST, "--port", str(ports[0]),
            "--workers", str(workers), "--query-workers", str(query_workers),
            "--query-timeout", str(query_timeout), "--data", str(data),
            *(PUBLIC_OPTIONS if public else ()),
        ]  # fmt: skip
        with log_path.open("wb") as log:
            return subprocess.Popen(
                command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    process, (port,) = start_listening(
        launch,
        lambda ports: request("GET", ports[0], "/readyz", timeout=5)[0] == 200,
        timeout=600,
        interval=0.5,
        log=lambda ports: f"see {log_path}",
        name="the server",
        grace=30,
    )
    return process, port


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (by the PID of the process started here), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def request(
    method: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 60,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, str], bytes]:
    own = connection is None
    connection = connection or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(
            method, path, body=body, headers={"Accept-Encoding": "identity", **(headers or {})}
        )
        reply = connection.getresponse()
        data = reply.read()
        return reply.status, {name.lower(): value for name, value in reply.getheaders()}, data
    finally:
        if own:
            connection.close()


def descriptors(pid: int) -> dict[int, int]:
    """Open descriptors of every process of the tree under ``pid``."""
    counts = {}
    for member in process_tree(pid):
        try:
            counts[member] = len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            pass
    return counts


# --- what the clients send -------------------------------------------------------------------------------


SELECT_OR_GRAPH = "application/sparql-results+json, text/turtle;q=0.9"


def form(query: str, accept: str, *extra: tuple[str, str]) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    return headers, urlencode([("query", query), *extra]).encode()


#: The competency questions are asked of the article's graphs (they are meant for them): with
#: the generated data in the default graph too, external-identifiers runs past 10 s.
ARTICLE_DATASET = [
    (parameter, f"{DEFAULT_BASE_IRI}graph/{graph}")
    for parameter in ("default-graph-uri", "named-graph-uri")
    for graph in ("ontology", "facts", "links")
]


def build_targets(port: int, seed: int, complete_cities: int) -> dict[str, list[Target]]:
    targets: dict[str, list[Target]] = defaultdict(list)
    stored = json.loads(request("GET", port, "/queries/", {"Accept": "application/json"})[2])
    for query in stored:
        if not query["federated"]:
            targets["cq-stored"].append(
                Target(
                    "cq-stored",
                    "GET",
                    f"/queries/{query['name']}?{urlencode(ARTICLE_DATASET)}",
                    {"Accept": SELECT_OR_GRAPH},
                )
            )
    for instance in competency_questions(PROJECT_ROOT / "queries"):
        if re.search(r"\bSERVICE\b", instance.text, re.IGNORECASE):
            continue
        headers, body = form(instance.text, SELECT_OR_GRAPH, *ARTICLE_DATASET)
        targets["cq-sparql"].append(Target("cq-sparql", "POST", "/sparql", headers, body))
    for instances in build_mix(seed, complete_cities).values():
        for instance in instances:
            accept = (
                "application/n-triples" if instance.form in ("construct", "describe") else SELECT_OR_GRAPH
            )
            headers, body = form(instance.text, accept)
            targets["bench-mix"].append(Target("bench-mix", "POST", "/sparql", headers, body))
    # Resource pages: the article's things (their IRIs are under the server's base).
    subjects = (
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER(isIRI(?s) && STRSTARTS(STR(?s), STR(<BASE>))) } ORDER BY ?s LIMIT 150"
    )
    base = DEFAULT_BASE_IRI  # the server is started without --base-iri
    rows = json.loads(
        request("GET", port, "/sparql?" + urlencode({"query": subjects.replace("BASE", base)}))[2]
    )["results"]["bindings"]
    paths = ["/" + row["s"]["value"][len(base) :].split("#")[0] for row in rows]
    paths = sorted({path for path in paths if path.startswith(("/id/", "/eli/", "/graph/", "/ontology"))})
    paths += ["/.well-known/void", "/catalog", "/dumps/", "/"]
    for path in paths:
        targets["page-html"].append(Target("page-html", "GET", quote(path), {"Accept": "text/html"}))
        if path not in ("/dumps/", "/"):
            accept = random.Random(path).choice(["text/turtle", "application/ld+json"])
            targets["page-rdf"].append(Target("page-rdf", "GET", quote(path), {"Accept": accept}))
    listing = json.loads(request("GET", port, "/dumps/", {"Accept": "application/json"})[2])
    for dump in listing["dumps"]:
        targets["dump"].append(Target("dump", "GET", f"/dumps/{dump['name']}"))
    # Revalidation: the ETag of a first answer, sent back; 304 expected.
    revalidated = [*targets["dump"][:4], *targets["page-html"][:20], *targets["page-rdf"][:20]]
    query = "/sparql?" + urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?class }"})
    revalidated.append(Target("revalidate", "GET", query, {"Accept": "application/sparql-results+json"}))
    for target in revalidated:
        status, headers, _ = request(target.method, port, target.path, target.headers)
        if status == 200 and "etag" in headers:
            conditional = {**target.headers, "If-None-Match": headers["etag"]}
            targets["revalidate"].append(Target("revalidate", "GET", target.path, conditional, expect=304))
    return targets


# --- running -----------------------------------------------------------------------------------------------


def client(
    port: int, targets: dict[str, list[Target]], seed: int, deadline: float, samples: list[Sample]
) -> None:
    """Requests one after another on one keep-alive connection, until ``deadline``.

    Like any HTTP client, it sends a request once more on a new connection when a kept-alive
    one turns out to be closed (RFC 9112 §9.3.1: the server may close an idle connection as the
    request leaves; every request here is safe to repeat). Such repeats are counted.
    """
    rng = random.Random(seed)
    kinds = [kind for kind in WEIGHTS if targets.get(kind)]
    weights = [WEIGHTS[kind] for kind in kinds]
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    reused = False
    try:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            target = rng.choice(targets[rng.choices(kinds, weights)[0]])
            started = time.perf_counter()
            retried = False
            for attempt in range(2):
                try:
                    status, _, body = request(
                        target.method, port, target.path, target.headers, target.body, connection=connection
                    )
                    detail = "" if status == target.expect else body[:200].decode("utf-8", "replace")
                    reused = True
                    break
                except (OSError, http.client.HTTPException) as error:
                    status, detail = 0, f"{type(error).__name__}: {error}"
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, port, timeout=60)
                    closed_kept_alive = reused and isinstance(
                        error, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected
                    )
                    reused = False
                    if attempt or not closed_kept_alive:
                        break
                    retried = True
            elapsed = time.perf_counter() - started
            samples.append(Sample(target.kind, status, elapsed, status == target.expect, detail, retried))
    finally:
        connection.close()


def pathological_client(port: int, deadline: float, samples: list[Sample]) -> None:
    query_timeout = PATHOLOGICAL_TIMEOUT
    connection = http.client.HTTPConnection(HOST, port, timeout=query_timeout + 30)
    names = sorted(PATHOLOGICAL)
    try:
        for index in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                return
            name = names[index % len(names)]
            headers, body = form(
                PATHOLOGICAL[name], "application/sparql-results+json", ("timeout", str(query_timeout))
            )
            started = time.perf_counter()
            try:
                status, _, answer = request("POST", port, "/sparql", headers, body, connection=connection)
                text = answer.decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as error:
                status, text = 0, f"{type(error).__name__}: {error}"
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=query_timeout + 30)
            elapsed = time.perf_counter() - started
            stopped = "timed out" in text or "stayed busy" in text
            ok = status == 503 and stopped and elapsed >= query_timeout
            samples.append(Sample(f"pathological:{name}", status, elapsed, ok, "" if ok else text[:200]))
    finally:
        connection.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def settle_descriptors(pid: int, expected: dict[int, int], within: float) -> dict[int, int]:
    """Descriptors of the tree, polled until their total is back to ``expected``'s (or time is up)."""
    deadline = time.monotonic() + within
    while True:
        now = descriptors(pid)
        if sum(now.values()) <= sum(expected.values()) or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (default: 300)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: 16)")
    parser.add_argument("--size", default="100k", help="generated triples beside the article (default: 100k)")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn web workers (default: 1)")
    parser.add_argument(
        "--query-workers", type=int, default=8, help="query processes per web worker (default: 8)"
    )
    parser.add_argument("--query-timeout", type=float, default=QUERY_TIMEOUT)
    parser.add_argument(
        "--public",
        action="store_true",
        help="serve through the public profile (govkg serve-public: nginx in front of 2 instances)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "govkg-soak", help="data and server log"
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 3600 or not 0 < args.clients <= 64:
        parser.error("--duration must be in (0, 3600] and --clients in (0, 64]")
    args.workdir.mkdir(parents=True, exist_ok=True)
    triples = generate.parse_size(args.size)
    data = args.workdir / f"bench-{args.size}-seed{args.seed}.nt"
    manifest = generate.ensure_dataset(data, triples, args.seed)
    print(f"data: {manifest.triples} triples, {manifest.complete_cities} complete cities", flush=True)

    load_started = time.monotonic()
    try:
        process, port = start_server(
            data, args.workdir, args.workers, args.query_workers, args.query_timeout, args.public
        )
    except RuntimeError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 2
    report: dict = {"load_seconds": round(time.monotonic() - load_started, 1)}
    try:
        targets = build_targets(port, args.seed, manifest.complete_cities)
        # Warm-up: every target once, so caches and dumps exist before the start figures.
        for kind_targets in targets.values():
            for target in kind_targets:
                request(target.method, port, target.path, target.headers, target.body)
        # Each pathological query once too: its worker retires and is replaced before the start figures.
        for name, query in PATHOLOGICAL.items():
            headers, body = form(
                query, "application/sparql-results+json", ("timeout", str(PATHOLOGICAL_TIMEOUT))
            )
            status = request("POST", port, "/sparql", headers, body)[0]
            print(f"warm-up: pathological {name}: {status}", flush=True)
        time.sleep(3)
        start_memory, start_fds = tree_memory(process.pid), descriptors(process.pid)
        load_average = os.getloadavg()

        samples: list[Sample] = []
        deadline = time.monotonic() + args.duration
        threads = [
            threading.Thread(target=client, args=(port, targets, args.seed * 1000 + i, deadline, samples))
            for i in range(args.clients)
        ]
        threads.append(threading.Thread(target=pathological_client, args=(port, deadline, samples)))
        print(
            f"soak: {args.clients} clients + 1 pathological for {args.duration:g} s on port {port}",
            flush=True,
        )
        for thread in threads:
            thread.start()
        memory_samples = []
        started = time.monotonic()
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline + 120:
            memory = tree_memory(process.pid)
            memory_samples.append((round(time.monotonic() - started, 1), memory.rss, memory.pss))
            time.sleep(MEMORY_SAMPLE_SECONDS)
        for thread in threads:
            thread.join(timeout=120)
        end_load_average = os.getloadavg()
        # Through nginx, its idle keep-alive connections to the instances (a descriptor at each
        # end) are closed UPSTREAM_KEEPALIVE_SECONDS after their last request: wait that long too.
        settle = 20 + (UPSTREAM_KEEPALIVE_SECONDS if args.public else 0)
        end_fds = settle_descriptors(process.pid, start_fds, within=settle)
        end_memory = tree_memory(process.pid)
    finally:
        stop_server(process)

    classes: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        classes[sample.kind].append(sample)
    rows = []
    broken: list[str] = []
    for kind in [*WEIGHTS, *sorted(k for k in classes if k.startswith("pathological:"))]:
        group = classes.get(kind, [])
        if not group:
            continue
        seconds = [sample.seconds for sample in group]
        errors = [sample for sample in group if not sample.ok]
        row = {
            "class": kind,
            "requests": len(group),
            "errors": len(errors),
            "p50_ms": round(percentile(seconds, 0.5) * 1000, 1),
            "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
            "max_ms": round(max(seconds) * 1000, 1),
            "statuses": dict(sorted(statistics_of(group).items())),
            "retried": sum(sample.retried for sample in group),
            "first_errors": [f"{e.status} {e.detail}" for e in errors[:3]],
        }
        rows.append(row)
        if errors:
            broken.append(f"{kind}: {len(errors)} errors, e.g. {row['first_errors'][0]}")
        bound = P99_BOUNDS.get(kind)
        if bound is not None and row["p99_ms"] > bound * 1000:
            broken.append(f"{kind}: p99 {row['p99_ms']} ms over the bound of {bound * 1000:g} ms")
    pathological = [sample.seconds for sample in samples if sample.kind.startswith("pathological:")]
    pathological_bound = 2 * PATHOLOGICAL_TIMEOUT + PATHOLOGICAL_MARGIN
    if pathological and percentile(pathological, 0.9) > pathological_bound:
        broken.append(
            f"pathological: p90 {percentile(pathological, 0.9):.2f} s over {pathological_bound:g} s"
        )
    first_half = [pss for at, _, pss in memory_samples if at <= args.duration / 2] or [start_memory.pss]
    pss_limit = max(first_half) * PSS_GROWTH + PSS_SLACK_MIB * 2**20
    if end_memory.pss > pss_limit:
        broken.append(
            f"PSS grew from {max(first_half) / 2**20:.0f} MiB (first half) to {end_memory.pss_mib:.0f} MiB"
        )
    if sum(end_fds.values()) > sum(start_fds.values()):
        broken.append(
            f"descriptors: {sum(start_fds.values())} at the start, {sum(end_fds.values())} at the end"
        )
    if not any(kind.startswith("pathological:") for kind in classes):
        broken.append("the pathological client sent nothing")

    report.update(
        {
            "command": "python -m benchmarks.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
            "duration_s": args.duration,
            "clients": args.clients,
            "workers": args.workers,
            "public": args.public,
            "query_workers": args.query_workers,
            "query_timeout_s": args.query_timeout,
            "pathological_timeout_s": PATHOLOGICAL_TIMEOUT,
            "data_triples": manifest.triples,
            "load_average_start_end": [round(load_average[0], 2), round(end_load_average[0], 2)],
            "requests": len(samples),
            "errors_outside_pathological": sum(
                row["errors"] for row in rows if not row["class"].startswith("pathological:")
            ),
            "classes": rows,
            "memory_mib": {
                "start": {
                    "rss": round(start_memory.rss_mib, 1),
                    "pss": round(start_memory.pss_mib, 1),
                    "processes": start_memory.processes,
                },
                "end": {
                    "rss": round(end_memory.rss_mib, 1),
                    "pss": round(end_memory.pss_mib, 1),
                    "processes": end_memory.processes,
                },
                "pss_bound": round(pss_limit / 2**20, 1),
                "pss_first_half_max": round(max(first_half) / 2**20, 1),
                "samples_s_rss_pss": [
                    [at, round(rss / 2**20), round(pss / 2**20)] for at, rss, pss in memory_samples
                ],
            },  # fmt: skip
            "descriptors": {
                "start": sum(start_fds.values()),
                "end": sum(end_fds.values()),
                "start_by_process": len(start_fds),
                "end_by_process": len(end_fds),
            },
            "bounds_broken": broken,
        }
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(render(report))
    print(f"report: {path.relative_to(PROJECT_ROOT)}")
    return 1 if broken else 0


def statistics_of(group: list[Sample]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for sample in group:
        counts[str(sample.status)] += 1
    return counts


def render(report: dict) -> str:
    lines = [
        f"{report['requests']} requests in {report['duration_s']:g} s, "
        f"{report['clients']} clients + 1 pathological, "
        + ("through nginx to 2 instances of " if report.get("public") else "")
        + f"{report['workers']} web workers × {report['query_workers']} query processes, query time limit "
        f"{report['query_timeout_s']:g} s (pathological: {report['pathological_timeout_s']:g} s), "
        f"{report['data_triples']} extra triples; load average {report['load_average_start_end']}",
        "",
        "| class | requests | errors | retried | p50 ms | p99 ms | max ms | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["classes"]:
        statuses = ", ".join(f"{status}: {count}" for status, count in row["statuses"].items())
        lines.append(
            f"| {row['class']} | {row['requests']} | {row['errors']} | {row['retried']} | {row['p50_ms']} "
            f"| {row['p99_ms']} "
            f"| {row['max_ms']} | {statuses} |"
        )
    memory, fds = report["memory_mib"], report["descriptors"]
    lines += [
        "",
        f"memory (MiB): start RSS {memory['start']['rss']} PSS {memory['start']['pss']} "
        f"({memory['start']['processes']} processes); "
        f"end RSS {memory['end']['rss']} PSS {memory['end']['pss']} "
        f"({memory['end']['processes']} processes); highest PSS in the first half "
        f"{memory['pss_first_half_max']}, bound at the end {memory['pss_bound']}",
        f"descriptors: start {fds['start']} ({fds['start_by_process']} processes), "
        f"end {fds['end']} ({fds['end_by_process']} processes)",
        "bounds: "
        + ("all held" if not report["bounds_broken"] else "BROKEN: " + "; ".join(report["bounds_broken"])),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
