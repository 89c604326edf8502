"""A bounded loopback load generator for SPARQL endpoints, and the server memory reader.

Each client is a thread with its own keep-alive ``http.client`` connection (lighter on
the shared CPU than ``requests``); every loop is bounded both in time and in count, and
only loopback addresses are accepted. Memory is RSS and PSS summed over a process and
all its descendants, read from ``/proc/<pid>/smaps_rollup``.
"""

from __future__ import annotations

import http.client
import ipaddress
import itertools
import json
import os
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks.queries import QueryInstance

SELECT_ACCEPT = "application/sparql-results+json"
# Tags that make each request text new to a result cache: unique within this process's life.
_RUN_TAGS = itertools.count(1)
GRAPH_ACCEPT = "application/n-triples"


# ---------------------------------------------------------------------------------------------------
# Memory of a process tree.


def child_pids(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The direct children of ``pid`` (from ``/proc/*/stat``; processes may vanish meanwhile)."""
    children = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid follows the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, parents first (bounded: at most 10,000 processes)."""
    tree, frontier = [pid], [pid]
    while frontier and len(tree) < 10_000:
        children = [child for parent in frontier for child in child_pids(parent)]
        tree.extend(children)
        frontier = children
    return tree


def smaps_rollup(pid: int) -> dict[str, int]:
    """The ``/proc/<pid>/smaps_rollup`` counters of one process, in bytes (empty if it is gone)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    counters = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            counters[name.strip()] = int(parts[0]) * 1024
    return counters


@dataclass
class Memory:
    """RSS and PSS of a process tree, in bytes."""

    rss: int = 0
    pss: int = 0
    processes: int = 0

    @property
    def rss_mib(self) -> float:
        return self.rss / 2**20

    @property
    def pss_mib(self) -> float:
        return self.pss / 2**20


def tree_memory(pid: int) -> Memory:
    """RSS and PSS summed over ``pid`` and its descendants.

    PSS splits each shared page between the processes that map it, so the sum counts
    copy-on-write pages of forked workers once; RSS counts them in every process.
    """
    memory = Memory()
    for member in process_tree(pid):
        counters = smaps_rollup(member)
        if counters:
            memory.rss += counters.get("Rss", 0)
            memory.pss += counters.get("Pss", 0)
            memory.processes += 1
    return memory


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process, all its threads (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name is in parentheses and may hold spaces: utime and stime are fields 14
    # and 15, the 12th and 13th after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its live descendants (a server's whole process tree)."""
    return sum(process_cpu_seconds(member) for member in process_tree(pid))


class MemorySampler:
    """Samples a process tree's memory in the background; keeps the peak and the last sample."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = Memory()
        self.last = Memory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # Bounded: at most one sample per interval, for at most an hour.
        for _sample in range(int(3600 / self.interval)):
            self.sample()
            if self._stop.wait(self.interval):
                break

    def sample(self) -> Memory:
        memory = tree_memory(self.pid)
        self.last = memory
        if memory.pss > self.peak.pss:
            self.peak = memory
        return memory

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()


# ---------------------------------------------------------------------------------------------------
# HTTP.


def loopback_only(url: str) -> tuple[str, int, str]:
    """Split ``url`` into host, port and path, refusing any host that is not loopback.

    >>> loopback_only("http://127.0.0.1:7878/query")
    ('127.0.0.1', 7878, '/query')
    >>> loopback_only("http://192.0.2.1/sparql")
    Traceback (most recent call last):
    ...
    ValueError: not a loopback address: 192.0.2.1
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"not a loopback address: {host}")
    return host, parts.port or 80, parts.path or "/"


@dataclass(frozen=True)
class Endpoint:
    """How to send a query to one system's SPARQL endpoint."""

    name: str
    url: str
    graph_accept: str = GRAPH_ACCEPT
    timeout: float = 60.0


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    seconds: float
    error: str = ""
    cache: str = ""  # our X-Govkg-Cache header: hit, miss or none

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


class SparqlClient:
    """One keep-alive connection; POSTs the query form-encoded, as every SPARQL server accepts."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.host, self.port, self.path = loopback_only(endpoint.url)
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.endpoint.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def send(self, query: QueryInstance, tag: str = "") -> Response:
        """POST ``query``; a ``tag`` is appended as a comment, so the text is new to any result cache."""
        accept = self.endpoint.graph_accept if query.form in ("construct", "describe") else SELECT_ACCEPT
        text = f"{query.text}\n# govkg-bench {tag}\n" if tag else query.text
        body = urlencode({"query": text}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": accept,
            "Connection": "keep-alive",
        }
        started = time.perf_counter()
        # One retry on a fresh connection: a server may close an idle keep-alive connection.
        for attempt in range(2):
            connection = self._connect()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
                if reply.getheader("Connection", "").lower() == "close":
                    self.close()
                return Response(
                    reply.status,
                    data,
                    reply.getheader("Content-Type", ""),
                    time.perf_counter() - started,
                    cache=reply.getheader("X-Govkg-Cache", ""),
                )
            except (OSError, http.client.HTTPException) as error:
                self.close()
                if attempt == 1 or isinstance(error, TimeoutError):
                    return Response(
                        0, b"", "", time.perf_counter() - started, f"{type(error).__name__}: {error}"
                    )
        raise AssertionError("unreachable")


def result_count(response: Response, form: str) -> int | None:
    """Rows of a SELECT, 0/1 for an ASK, distinct triples of a CONSTRUCT or DESCRIBE."""
    if not response.ok:
        return None
    if form in ("select", "ask"):
        try:
            document = json.loads(response.body)
        except ValueError:
            return None
        if "boolean" in document:
            return int(bool(document["boolean"]))
        return len(document.get("results", {}).get("bindings", []))
    import pyoxigraph as ox

    media_type = response.content_type.split(";")[0].strip() or GRAPH_ACCEPT
    if media_type == "text/plain":
        media_type = GRAPH_ACCEPT
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    if rdf_format is None:
        return None
    try:
        return len({str(triple) for triple in ox.parse(response.body, rdf_format)})
    except SyntaxError:
        return None


# ---------------------------------------------------------------------------------------------------
# Scenarios.


@dataclass
class ScenarioResult:
    """What one scenario (one system, one client count) measured."""

    system: str
    scenario: str
    clients: int
    seconds: float
    completed: int = 0
    errors: int = 0
    cache_hits: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    server_cpu_seconds: float | None = None  # the server's process tree, read from /proc

    @property
    def cpu_ms_per_query(self) -> float | None:
        """The server's CPU milliseconds per successful query (its whole process tree)."""
        if self.server_cpu_seconds is None or not self.completed:
            return None
        return self.server_cpu_seconds * 1000 / self.completed

    @property
    def throughput(self) -> float:
        """Successful queries per second of wall time."""
        return self.completed / self.seconds if self.seconds else 0.0

    def all_latencies(self) -> list[float]:
        return sorted(value for values in self.latencies.values() for value in values)

    def percentile(self, fraction: float) -> float | None:
        """Latency percentile (nearest rank) over every successful query, in seconds."""
        values = self.all_latencies()
        if not values:
            return None
        rank = max(0, min(len(values) - 1, round(fraction * len(values) + 0.5) - 1))
        return values[rank]

    def median_by_query(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.latencies.items() if values}

    def summary(self) -> dict:
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        return {
            "system": self.system,
            "scenario": self.scenario,
            "clients": self.clients,
            "seconds": round(self.seconds, 3),
            "completed": self.completed,
            "errors": self.errors,
            "cache_hits": self.cache_hits,
            "throughput_qps": round(self.throughput, 2),
            "p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "p99_ms": None if p99 is None else round(p99 * 1000, 3),
            "cpu_ms_per_query": _rounded(self.cpu_ms_per_query, 3),
            "server_cpu_seconds": _rounded(self.server_cpu_seconds, 2),
            "median_ms_by_query": {name: round(v * 1000, 3) for name, v in self.median_by_query().items()},
            "error_samples": self.error_samples[:5],
        }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def run_scenario(
    endpoint: Endpoint,
    mix: Sequence[Sequence[QueryInstance]],
    clients: int,
    duration: float,
    scenario: str = "mix",
    max_requests: int = 1_000_000,
    unique: bool = True,
    server_pid: int | None = None,
) -> ScenarioResult:
    """Send the mix from ``clients`` threads for ``duration`` seconds (or ``max_requests`` in all).

    ``mix`` holds, per query, its parameter sets; client ``c`` in round ``r`` sends every
    query once, each with parameter set ``(c + r) % len(sets)``, in the mix's order. With
    ``unique`` every request carries its own comment, so no result cache can answer it
    and the mix measures evaluation; the repeated-query scenario sends identical texts.
    With ``server_pid`` the CPU time of that process and its descendants over the scenario is
    recorded too (so CPU per query compares servers on a busy machine, where q/s does not).
    """
    loopback_only(endpoint.url)
    result = ScenarioResult(endpoint.name, scenario, clients, 0.0)
    run_tag = f"{os.getpid()}-{time.time_ns()}-{next(_RUN_TAGS)}"
    lock = threading.Lock()
    budget = [max_requests]
    deadline = time.monotonic() + duration

    def client(number: int) -> None:
        connection = SparqlClient(endpoint)
        latencies: dict[str, list[float]] = {}
        completed = errors = hits = 0
        samples: list[str] = []
        try:
            for round_number in range(max_requests):
                for sets in mix:
                    if time.monotonic() >= deadline:
                        return
                    with lock:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 1
                    query = sets[(number + round_number) % len(sets)]
                    tag = f"{run_tag}.{number}.{round_number}" if unique else ""
                    response = connection.send(query, tag)
                    if response.ok:
                        completed += 1
                        hits += response.cache == "hit"
                        latencies.setdefault(query.name, []).append(response.seconds)
                    else:
                        errors += 1
                        if len(samples) < 5:
                            detail = response.error or response.body[:200].decode("utf-8", "replace")
                            samples.append(f"{query.name}: {response.status} {detail}")
        finally:
            connection.close()
            with lock:
                result.completed += completed
                result.errors += errors
                result.cache_hits += hits
                for name, values in latencies.items():
                    result.latencies.setdefault(name, []).extend(values)
                result.error_samples.extend(samples)

    threads = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(clients)]
    cpu_before = tree_cpu_seconds(server_pid) if server_pid is not None else None
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + endpoint.timeout + 10)
    result.seconds = time.monotonic() - started
    if cpu_before is not None:
        result.server_cpu_seconds = tree_cpu_seconds(server_pid) - cpu_before
    return result


def warm_up(endpoint: Endpoint, mix: Sequence[Sequence[QueryInstance]], rounds: int = 1) -> int:
    """Send every instance of every query ``rounds`` times from one client; returns the errors.

    Each request is tagged as in :func:`run_scenario`, so warming up fills no result cache.
    """
    connection = SparqlClient(endpoint)
    errors = 0
    run_tag = f"{os.getpid()}-{time.time_ns()}-{next(_RUN_TAGS)}"
    try:
        for round_number in range(rounds):
            for sets in mix:
                for query in sets:
                    errors += not connection.send(query, f"warm-up.{run_tag}.{round_number}").ok
    finally:
        connection.close()
    return errors


def current_pid_memory() -> Memory:
    """This process's memory (and its children's): a cheap self-check of the reader."""
    return tree_memory(os.getpid())
