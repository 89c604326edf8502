"""An existing SPARQL 1.1 store as the backend: ``govkg serve --store sparql:QUERY_URL``.

Our server becomes the front of a store such as Virtuoso, Fuseki, Oxigraph server, GraphDB
or QLever; everything but the storage stays ours:

* **Queries** are checked exactly as for the embedded store (size, SERVICE allowlist, no
  updates) and then forwarded as a SPARQL 1.1 Protocol POST (``requests``, the one HTTP
  client of this module: queries, probes and pushes alike), asking the store for SPARQL JSON results
  (SELECT, ASK) or N-Triples (CONSTRUCT); the answer is re-serialized by our registry in
  the negotiated format, with our row cap and ``X-Govkg-Truncated``. The wait is bounded by
  ``query_timeout``: the HTTP request runs in a helper thread and the client gets 503 when
  the time is up; a Virtuoso store is also given the limit itself (its ``timeout``
  parameter, in ms) so that it stops working too; Oxigraph server takes ``--timeout-s``.
  The dataset: ``default-graph-uri`` / ``named-graph-uri`` are passed on; otherwise the
  store's own default graph applies (Oxigraph: run it with ``--union-default-graph``;
  Virtuoso: the union of all its graphs). The query's base IRI is our ``/sparql``, sent as a
  ``BASE`` line before the query.
* **DESCRIBE and resource pages** use our Concise Bounded Description, computed against the
  store with one server-built query per resource (blank nodes followed to
  :data:`CBD_DEPTH` levels, one UNION branch per depth: see :func:`blank_walks`); the resources
  a page is about to look up (``prefetch``, called by the page builder) are fetched
  :data:`PREFETCH_CHUNK` to a query. Server-built SELECTs ask for SPARQL XML results first:
  Virtuoso writes them several times faster than JSON. A DESCRIBE is
  rewritten into a SELECT of the described resources, which are then described one by one.
  Server-built queries never paste request text: every term is a pyoxigraph term (an IRI is
  validated by ``NamedNode``) written with ``str()``, which escapes it.
* **Dumps, VoID statistics and the metadata** come from queries on the store, built on first
  request (see :mod:`govkg.store.dumps`, :func:`govkg.store.metadata.large_statistics`).

Credentials for the store come from ``GOVKG_STORE_USER`` and ``GOVKG_STORE_PASSWORD``
(HTTP Basic, or Digest when the store asks for it, as Virtuoso's ``/sparql-auth`` does).

``govkg load --into UPDATE_URL`` (:func:`push_article_graphs`) puts the article's graphs
(ontology, facts, links, metadata) into such a store, graph by graph, each replaced as a
whole: with one Graph Store Protocol ``PUT`` when ``--graph-store`` is given, else with one
SPARQL Update request ``DROP SILENT GRAPH <g> ; INSERT { GRAPH <g> { … } } WHERE {}`` (not
``INSERT DATA``: Virtuoso refuses blank nodes there), which the store applies as one
operation, so each graph is either the old or the new one. It is
idempotent: pushing twice leaves the same graphs.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyoxigraph as ox
import requests
from govkg.errors import ClientError, QueryTimedOut, StoreFailed
from govkg.rdf.namespaces import DCAT
from govkg.sparql.lexer import describe_as_select, has_dataset_clause
from govkg.store.loaded import LoadedGraph
from govkg.store.metadata import MetadataIris

#: Blank nodes are followed this deep from a resource in a remote CBD (our pages show 6).
CBD_DEPTH = 6
#: Resources whose closures one query fetches when a page announces what it will look up.
PREFETCH_CHUNK = 100
USER_VARIABLE = "GOVKG_STORE_USER"
PASSWORD_VARIABLE = "GOVKG_STORE_PASSWORD"
#: Graphs a store keeps for itself, which are not part of the dataset (Virtuoso's).
SYSTEM_GRAPH_PREFIXES = (
    "http://www.openlinksw.com/",
    "http://localhost:8890/",
    "http://localuriqaserver/",
    "http://www.w3.org/ns/ldp#",
    "http://www.w3.org/2002/07/owl#",
    "urn:activitystreams-owl:map",
    "urn:core:services:sparql",
)
_N_TRIPLES = "application/n-triples"
_JSON_RESULTS = "application/sparql-results+json"
_XML_RESULTS = "application/sparql-results+xml"
#: What server-built SELECTs ask for: XML, which Virtuoso writes much faster than JSON.
_SELECT_ACCEPT = f"{_XML_RESULTS}, {_JSON_RESULTS};q=0.9"
_NAMED_GRAPHS_TTL = 30.0

log = logging.getLogger(__name__)


class RemoteStoreError(Exception):
    """The external store cannot be reached or refused a request; the message says which."""


def _credentials() -> tuple[str, str] | None:
    user = os.environ.get(USER_VARIABLE)
    return (user, os.environ.get(PASSWORD_VARIABLE, "")) if user else None


def _auth(url: str, credentials: tuple[str, str] | None, timeout: float = 10) -> Any:  # noqa: ANN401
    """``requests`` auth for ``url``: Digest if the store challenges with it (a GET), else Basic."""
    if credentials is None:
        return None
    try:
        probe = requests.get(url, timeout=timeout)
    except requests.RequestException:
        return requests.auth.HTTPBasicAuth(*credentials)
    if probe.status_code == 401 and "digest" in probe.headers.get("WWW-Authenticate", "").lower():
        return requests.auth.HTTPDigestAuth(*credentials)
    return requests.auth.HTTPBasicAuth(*credentials)


def _detail(response: requests.Response) -> str:
    """What a store said with an error status: the start of its body, as text."""
    return response.text.strip()[:2000] or response.reason or ""


# --- reading: the store-like facade -----------------------------------------------------------


def _term(value: Any) -> str:  # noqa: ANN401
    """A pyoxigraph term as SPARQL text (``str()`` escapes it); refuses anything else.

    >>> _term(ox.NamedNode("http://example.org/a b".replace(" ", "%20")))
    '<http://example.org/a%20b>'
    >>> _term(ox.Literal('say "hi"\\n'))
    '"say \\\\"hi\\\\"\\\\n"'
    """
    if not isinstance(value, ox.NamedNode | ox.Literal):
        raise TypeError(f"not a term a query can name: {value!r}")
    return str(value)


class RemoteStore:
    """The part of pyoxigraph's ``Store`` API the pages use, answered by the remote store.

    A subject's triples are fetched with its blank-node closure in one query (its CBD), and
    kept for the current thread until :meth:`forget` (called before each request), so that
    the pages' many look-ups of one resource cost one round trip, and blank nodes reached
    from it can be looked up too.
    """

    def __init__(self, backend: RemoteBackend) -> None:
        self.backend = backend
        self._local = threading.local()
        self._graphs: tuple[float, list[ox.NamedNode]] | None = None

    def forget(self) -> None:
        """Drop what this thread fetched (the data may have changed since)."""
        self._local.__dict__.clear()

    def _cache(self) -> dict:
        if not hasattr(self._local, "subjects"):
            self._local.subjects = {}
        return self._local.subjects

    def _subject_quads(self, subject: ox.NamedNode | ox.BlankNode) -> list[ox.Quad]:
        cache = self._cache()
        if subject not in cache:
            if isinstance(subject, ox.BlankNode):
                return []  # only known from a fetched closure
            self.prefetch([subject])
        return cache[subject]

    def prefetch(self, subjects: Iterable[object]) -> None:
        """Fetch the closures of the IRIs among ``subjects`` not fetched yet, :data:`PREFETCH_CHUNK`
        to a query, so that a page about to look many resources up waits for a few round trips, not
        one each (blank nodes and literals have no closure of their own to fetch)."""
        cache = self._cache()
        wanted = [s for s in dict.fromkeys(subjects) if isinstance(s, ox.NamedNode) and s not in cache]
        for start in range(0, len(wanted), PREFETCH_CHUNK):
            chunk = wanted[start : start + PREFETCH_CHUNK]
            for node, quads in self.backend.fetch_closures(chunk).items():
                cache.setdefault(node, quads)

    def quads_for_pattern(self, subject=None, predicate=None, obj=None, graph=None) -> Iterator[ox.Quad]:  # noqa: ANN001
        """Quads matching the pattern, from the store's named graphs."""
        if subject is not None:
            for quad in self._subject_quads(subject):
                if (
                    (predicate is None or quad.predicate == predicate)
                    and (obj is None or quad.object == obj)
                    and (graph is None or quad.graph_name == graph)
                ):
                    yield quad
            return
        if isinstance(obj, ox.BlankNode):  # only known from a fetch that returned it
            for quad in self._local.__dict__.get("incoming", {}).get(obj, []):
                if (predicate is None or quad.predicate == predicate) and (
                    graph is None or quad.graph_name == graph
                ):
                    yield quad
            return
        if predicate is None and obj is None:
            graphs = [graph] if graph is not None else self.named_graphs()
            for name in graphs:
                for triple in self.backend.construct(
                    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {_term(name)} {{ ?s ?p ?o }} }}"
                ):
                    yield ox.Quad(triple.subject, triple.predicate, triple.object, name)
            return
        known = {"p": predicate, "o": obj, "g": graph}
        slots = {name: _term(term) if term is not None else f"?{name}" for name, term in known.items()}
        wanted = ["?s", *(f"?{name}" for name, term in known.items() if term is None)]
        pattern = f"GRAPH {slots['g']} {{ ?s {slots['p']} {slots['o']} }}"
        offset, page = 0, 100
        while True:  # pages of growing size: a caller that wants one match costs one small query
            query = f"SELECT {' '.join(wanted)} WHERE {{ {pattern} }} LIMIT {page} OFFSET {offset}"
            rows = self.backend.select(query)
            if offset == 0 and any(isinstance(row.get("s"), ox.BlankNode) for row in rows):
                # Blank subjects (e.g. the targets of annotations) can only be looked up through
                # a closure fetched with them; the stores keep their labels from query to query.
                root = f"?r {slots['p']} {slots['o']} ."
                for node, quads in self.backend.blank_closures(root).items():
                    self._cache().setdefault(node, quads)
                incoming = self._local.__dict__.setdefault("incoming", {})
                for quad in self.backend.blank_referrers(root):
                    incoming.setdefault(quad.object, []).append(quad)
            for row in rows:
                values = {name: row.get(name, term) for name, term in known.items()}
                yield ox.Quad(row["s"], values["p"], values["o"], values["g"])
            if len(rows) < page:
                return
            offset += page
            page = min(page * 4, 100_000)

    def named_graphs(self) -> list[ox.NamedNode]:
        """The store's named graphs but its own system graphs (listed again every 30 s)."""
        now = time.monotonic()
        if self._graphs is None or now - self._graphs[0] > _NAMED_GRAPHS_TTL:
            rows = self.backend.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
            graphs = [
                row["g"]
                for row in rows
                if isinstance(row.get("g"), ox.NamedNode)
                and not row["g"].value.startswith(SYSTEM_GRAPH_PREFIXES)
            ]
            self._graphs = (now, sorted(graphs, key=lambda g: g.value))
        return list(self._graphs[1])


# --- the backend ------------------------------------------------------------------------------


class RemoteBackend:
    """A SPARQL 1.1 store reached over HTTP (see the module docstring)."""

    kind = "remote"
    large = True
    in_memory = False

    def __init__(self, query_url: str, base_iri: str, timeout: float = 10.0) -> None:
        self.query_url = query_url
        self.base_iri = base_iri
        self.timeout = timeout
        self.credentials = _credentials()
        #: ``requests`` auth for the store: Basic, or Digest once :meth:`probe` saw it asked for.
        self.auth: requests.auth.AuthBase | None = (
            requests.auth.HTTPBasicAuth(*self.credentials) if self.credentials else None
        )
        self.virtuoso = False
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._executor_pid = -1
        self._executor_lock = threading.Lock()
        self._sessions = threading.local()  # one HTTP session per helper thread: see _session
        self._store = RemoteStore(self)
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    #: Concurrent requests to the store per process (the ``query_workers`` setting).
    query_workers = 8

    @property
    def store(self) -> RemoteStore:
        """The store-like facade the pages look terms up with."""
        return self._store

    def start_request(self) -> None:
        """What the last request fetched through :attr:`store` is not kept for the next."""
        self._store.forget()

    def probe(self) -> None:
        """Check the store answers (``ASK {}``); learn its auth scheme and whether it is Virtuoso."""
        self.auth = _auth(self.query_url, self.credentials)
        try:
            response = requests.post(
                self.query_url,
                data={"query": "ASK {}"},
                headers={"Accept": _JSON_RESULTS},
                timeout=10,
                auth=self.auth,
            )
        except requests.RequestException as error:
            raise RemoteStoreError(f"{self.query_url}: the store does not answer ({error})") from None
        if response.status_code != 200:
            raise RemoteStoreError(f"{self.query_url}: ASK {{}} answered {response.status_code}")
        self.virtuoso = "virtuoso" in response.headers.get("Server", "").lower()

    def warn_of_empty_default_graph(self) -> None:
        """Warn when the store's default graph is empty while its named graphs hold data.

        Queries without ``GRAPH`` (``COUNT(*)`` too) would then answer nothing: Oxigraph server
        keeps its default graph apart unless run with ``--union-default-graph``.
        """
        auth = _auth(self.query_url, self.credentials)
        answers = []
        for query in ("ASK { ?s ?p ?o }", "ASK { GRAPH ?g { ?s ?p ?o } }"):
            try:
                response = requests.post(
                    self.query_url,
                    data={"query": query},
                    headers={"Accept": _JSON_RESULTS},
                    timeout=30,
                    auth=auth,
                )
                answers.append(response.json().get("boolean") if response.status_code == 200 else None)
            except (requests.RequestException, ValueError):
                return  # the store will say more on the first real query
        if answers == [False, True]:
            log.warning(
                "%s: the default graph is empty but the named graphs hold data, so queries without "
                "GRAPH (COUNT(*) too) answer 0; run Oxigraph server with --union-default-graph",
                self.query_url,
            )

    # -- HTTP --

    def _threads(self) -> concurrent.futures.ThreadPoolExecutor:
        """The helper threads of this process (a fork has none of its parent's: a new pool)."""
        if self._executor_pid != os.getpid():
            with self._executor_lock:
                if self._executor_pid != os.getpid():
                    self._executor = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="remote")
                    self._executor_pid = os.getpid()
        assert self._executor is not None
        return self._executor

    def _after_fork_in_child(self) -> None:
        self._executor_lock = threading.Lock()

    def _session(self) -> requests.Session:
        """This helper thread's HTTP session, whose connection to the store is kept alive from one
        query to the next: a connection per query costs a handshake (TLS too, for an https store)
        and, in some stores, a thread. A fork's helper threads are new, so each has its own."""
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        return session

    def _fetch(
        self,
        query: str,
        accept: str,
        timeout: float | None = None,
        dataset: Mapping[str, tuple[str, ...]] | None = None,
    ) -> bytes:
        """The body of the store's answer to ``query`` (see :meth:`_fetch_typed`)."""
        return self._fetch_typed(query, accept, timeout, dataset)[0]

    def _fetch_typed(
        self,
        query: str,
        accept: str,
        timeout: float | None = None,
        dataset: Mapping[str, tuple[str, ...]] | None = None,
    ) -> tuple[bytes, str]:
        """The body and media type of the store's answer to ``query``; 503 past ``timeout``,
        400/502 on errors.

        One SPARQL 1.1 Protocol query by POST (URL-encoded form: ``query``, the dataset's
        ``default-graph-uri`` / ``named-graph-uri``, and Virtuoso's own ``timeout`` in ms) with
        our ``Accept``; the request runs in a helper thread so the wait ends at ``timeout``
        even while the store sends slowly.
        """
        timeout = self.timeout if timeout is None else timeout
        form: list[tuple[str, str]] = [("query", query)]
        if self.virtuoso:
            form.append(("timeout", str(int(timeout * 1000))))
        for name, iris in (dataset or {}).items():
            form.extend((name, iri) for iri in iris)

        def call() -> tuple[bytes, str]:
            response = self._session().post(
                self.query_url,
                data=form,
                headers={"Accept": accept},
                timeout=max(1, int(timeout + 5)),
                auth=self.auth,
            )
            if response.headers.get("X-SQL-State") == "S1TAT":
                # Virtuoso's "anytime" answer: partial results when its time limit struck.
                raise TimeoutError("the store stopped at its time limit (partial results)")
            if response.status_code == 400:
                raise ClientError(f"Malformed query (the store says): {_detail(response)}")
            if response.status_code != 200:
                raise StoreFailed(
                    f"The triple store failed to answer (HTTP {response.status_code}): {_detail(response)}"
                )
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return response.content, media_type

        future = self._threads().submit(call)
        try:
            return future.result(timeout=timeout)
        except (concurrent.futures.TimeoutError, TimeoutError, requests.Timeout):
            raise QueryTimedOut(
                f"Query timed out: it ran longer than the {timeout:g} s limit and was stopped. "
                "Narrow it down (more specific patterns, a LIMIT) and try again."
            ) from None
        except requests.RequestException as error:
            raise StoreFailed(f"The triple store cannot be reached: {error}") from None

    def select(self, query: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """The rows of a server-built SELECT, as ``{variable: term}`` dicts.

        Asked for in SPARQL XML first (JSON if the store prefers it): Virtuoso writes a thousand
        rows of XML in a quarter of the time it takes to write them as JSON (see
        benchmarks/README.md, "Remote store: resource-page queries").
        """
        timeout = timeout if timeout is not None else max(self.timeout, 300)
        body, media_type = self._fetch_typed(query, _SELECT_ACCEPT, timeout)
        solutions = parse_results(body, media_type)
        variables = [variable.value for variable in solutions.variables]
        # A solution's terms in the variables' order, each read once: read by name (twice each),
        # the thousand rows of 100 resources' closures took 7 ms more.
        return [
            {name: term for name, term in zip(variables, solution, strict=True) if term is not None}
            for solution in solutions
        ]

    def construct(self, query: str) -> list[ox.Triple]:
        """The triples of a server-built CONSTRUCT (no time limit but the store's own)."""
        body = self._fetch(query, _N_TRIPLES, max(self.timeout, 3600))
        return list(ox.parse(body, ox.RdfFormat.N_TRIPLES))

    # -- the Backend interface --

    def run_query(self, job: Any, timeout: float) -> Any:  # noqa: ANN401
        """Forward ``job`` to the store and serialize its answer with our registry and limits."""
        from govkg.rdf.formats import rdf_format, results_format
        from govkg.rdf.serialize import project_prefixes
        from govkg.sparql.runner import QueryAnswer, serialize_graph, serialize_solutions

        dataset = None
        if job.default_graphs is not None or job.named_graphs is not None:
            dataset = {
                "default-graph-uri": job.default_graphs or (),
                "named-graph-uri": job.named_graphs or (),
            }
        elif has_dataset_clause(job.query):
            dataset = query_dataset(job.query, job.base_iri)
        text = f"BASE <{job.base_iri}>\n{job.query}" if job.base_iri else job.query
        prefixes = project_prefixes(self.base_iri)
        started = time.monotonic()
        if job.form == "DESCRIBE":
            select = describe_as_select(text)
            if select is None:
                raise ClientError("This DESCRIBE cannot be answered by the triple store.")
            body = self._fetch(select, _JSON_RESULTS, timeout, dataset)
            solutions = parse_json_results(body)
            resources = dict.fromkeys(
                term for solution in solutions for term in solution if isinstance(term, ox.NamedNode)
            )
            triples: list[ox.Triple] = []
            for resource in resources:
                if time.monotonic() - started > timeout:
                    raise QueryTimedOut(f"Query timed out: it ran longer than the {timeout:g} s limit.")
                triples.extend(self.describe(resource))
                if len(triples) > job.max_rows:
                    break
            return serialize_graph(triples, rdf_format(job.format_name), job.max_rows, prefixes)
        if job.form == "CONSTRUCT":
            body = self._fetch(text, _N_TRIPLES, timeout, dataset)
            try:
                triples = list(ox.parse(body, ox.RdfFormat.N_TRIPLES))
            except SyntaxError as error:
                raise StoreFailed(f"The triple store sent N-Triples that do not parse: {error}") from None
            return serialize_graph(triples, rdf_format(job.format_name), job.max_rows, prefixes)
        body = self._fetch(text, _JSON_RESULTS, timeout, dataset)
        try:
            result = parse_json_results(body)
        except SyntaxError as error:
            raise StoreFailed(f"The triple store sent results that do not parse: {error}") from None
        fmt = results_format(job.format_name)
        if isinstance(result, ox.QueryBoolean):
            return QueryAnswer(result.serialize(format=fmt.oxigraph), 1, False)
        return serialize_solutions(result, fmt, job.max_rows)

    def fetch_closures(self, resources: Sequence[ox.NamedNode]) -> dict[Any, list[ox.Quad]]:
        """The triples of ``resources`` and of the blank nodes they reach, as quads by subject
        (in one query; every resource is a key, with no quads if it has none)."""
        found = self._closures(f"VALUES ?r {{ {' '.join(_term(resource) for resource in resources)} }}")
        for resource in resources:
            found.setdefault(resource, [])
        return found

    def prefetch(self, subjects: Iterable[object]) -> None:
        """This request will look ``subjects`` up: fetch the IRIs' closures in a few queries."""
        self._store.prefetch(subjects)

    def blank_closures(self, pattern: str) -> dict[Any, list[ox.Quad]]:
        """The closures of the blank nodes ``?r`` that match ``pattern`` (server-built text)."""
        return self._closures(f"{pattern} FILTER isBlank(?r)")

    def blank_referrers(self, pattern: str) -> list[ox.Quad]:
        """The triples pointing at the blank nodes ``?r`` that match ``pattern`` (server-built text)."""
        query = f"SELECT ?a ?ap ?r ?g WHERE {{ GRAPH ?g {{ {pattern} FILTER isBlank(?r) ?a ?ap ?r }} }}"
        return [
            ox.Quad(row["a"], row["ap"], row["r"], row["g"])
            for row in self.select(query, timeout=self.timeout)
        ]

    def _closures(self, root: str) -> dict[Any, list[ox.Quad]]:
        """One query: the triples of each ``?r`` bound by ``root`` and of the blank nodes they reach
        (to :data:`CBD_DEPTH` levels), as quads by subject.

        One row per quad, from a UNION of one branch per depth: the depth-``k`` branch walks
        ``k`` blank nodes from ``?r`` (each tested as it is reached) and yields the triples of the
        last. Stores evaluate each branch as a join of triple patterns; the nested ``OPTIONAL``
        this replaces made Oxigraph server read every triple of the graph for each level
        before its ``isBlank`` test applied (20 ms for a resource whose triples take 1 ms).
        """
        query = f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ {root} {blank_walks(CBD_DEPTH)} }} }}"
        found: dict[Any, dict[ox.Quad, None]] = {}
        for row in self.select(query, timeout=self.timeout):
            subject = row["s"]
            found.setdefault(subject, {})[ox.Quad(subject, row["p"], row["o"], row["g"])] = None
        return {subject: list(quads) for subject, quads in found.items()}

    def describe(self, resource: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        """The CBD of ``resource``, computed against the store (one query, blank nodes included)."""
        ordered: dict[ox.Triple, None] = {}
        pending = [resource]
        seen = set()
        while pending:
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for quad in self._store.quads_for_pattern(subject):
                ordered.setdefault(quad.triple, None)
                if isinstance(quad.object, ox.BlankNode):
                    pending.append(quad.object)
        return list(ordered)

    def incoming(self, resource: ox.NamedNode, limit: int) -> list[ox.Triple]:
        """Triples pointing at ``resource``, each once, at most ``limit``."""
        query = f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p {_term(resource)} }} }} LIMIT {int(limit)}"
        return [ox.Triple(row["s"], row["p"], resource) for row in self.select(query, timeout=self.timeout)]

    def quad_count(self) -> int | None:
        """Not counted: that would read the whole store."""
        return None


def blank_walks(depth: int) -> str:
    """The triples of ``?r`` and of the blank nodes it reaches through up to ``depth`` blank nodes,
    as ``?s ?p ?o``: a UNION of one branch per depth, each a plain join that tests every blank
    node as it reaches it (bind ``?r`` before it).

    >>> blank_walks(1)
    '{ ?r ?p ?o . BIND (?r AS ?s) } UNION { ?r ?x1 ?s . FILTER isBlank(?s) ?s ?p ?o . }'
    >>> blank_walks(2).split(" UNION ")[2]
    '{ ?r ?x1 ?b1 . FILTER isBlank(?b1) ?b1 ?x2 ?s . FILTER isBlank(?s) ?s ?p ?o . }'
    """
    branches = ["{ ?r ?p ?o . BIND (?r AS ?s) }"]
    for length in range(1, depth + 1):
        walk, node = "", "?r"
        for step in range(1, length + 1):
            reached = "?s" if step == length else f"?b{step}"
            walk += f"{node} ?x{step} {reached} . FILTER isBlank({reached}) "
            node = reached
        branches.append(f"{{ {walk}?s ?p ?o . }}")
    return " UNION ".join(branches)


def _blank_label(label: str) -> str:
    """A blank node label pyoxigraph accepts, the same for the same label (Virtuoso writes
    ``nodeID://b10006``, which is not a valid one).

    >>> _blank_label("nodeID://b1")
    'nodeIDx3ax2fx2fb1'
    """
    return re.sub(r"[^A-Za-z0-9_]", lambda m: f"x{ord(m.group()):x}", label) or "b"


_XML_LITERAL = re.compile(rb"(<literal[^>]*>)([^<]*)(</literal>)")
_WHITESPACE = b" \t\r\n"


def _edge_whitespace_as_references(literal: re.Match) -> bytes:
    """A ``<literal>`` element whose text starts or ends with whitespace, that whitespace written
    as XML character references (the rest as it was).

    >>> _edge_whitespace_as_references(_XML_LITERAL.match(b"<literal> a b\\n</literal>"))
    b'<literal>&#32;a b&#10;</literal>'
    """
    start_tag, text, end_tag = literal.groups()
    if not text or (text[0] not in _WHITESPACE and text[-1] not in _WHITESPACE):
        return literal.group(0)
    body = text.strip(_WHITESPACE)
    leading = text[: len(text) - len(text.lstrip(_WHITESPACE))]
    trailing = text[len(leading) + len(body) :]
    return start_tag + _references(leading) + body + _references(trailing) + end_tag


def _references(whitespace: bytes) -> bytes:
    """XML character references for ``whitespace``.

    >>> _references(b" \\n")
    b'&#32;&#10;'
    """
    return b"".join(b"&#%d;" % character for character in whitespace)


def parse_results(body: bytes, media_type: str) -> ox.QuerySolutions | ox.QueryBoolean:
    """SPARQL XML or JSON results (by ``media_type``) from a store, blank node labels made valid.

    >>> body = b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="x"/></head>'
    >>> body += b'<results><result><binding name="x"><bnode>nodeID://b1</bnode></binding></result></results></sparql>'
    >>> [str(row["x"]) for row in parse_results(body, "application/sparql-results+xml")]
    ['_:nodeIDx3ax2fx2fb1']
    >>> body = body.replace(b"<bnode>nodeID://b1</bnode>", b'<literal xml:lang="en">\\n 50 \\n</literal>')
    >>> [row["x"].value for row in parse_results(body, "application/sparql-results+xml")]
    ['\\n 50 \\n']
    """
    if media_type != _XML_RESULTS:
        return parse_json_results(body)
    # Element content only: a literal's "<" is written "&lt;", so these tags are the elements.
    if b"<bnode>" in body:
        body = re.sub(
            rb"<bnode>([^<]*)</bnode>",
            lambda m: b"<bnode>" + _blank_label(m.group(1).decode()).encode() + b"</bnode>",
            body,
        )
    # pyoxigraph trims whitespace written as such at either end of an element's text (Virtuoso
    # writes a literal's final newline so); written as character references, it is kept.
    body = _XML_LITERAL.sub(_edge_whitespace_as_references, body)
    return ox.parse_query_results(body, ox.QueryResultsFormat.XML)


def parse_json_results(body: bytes) -> ox.QuerySolutions | ox.QueryBoolean:
    """SPARQL JSON results from a store; blank node labels pyoxigraph refuses are renamed.

    Virtuoso labels blank nodes ``nodeID://b10006``; each such label becomes a valid one,
    the same label for the same node throughout the document.

    >>> body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"bnode","value":"nodeID://b1"}}]}}'
    >>> [str(row["x"]) for row in parse_json_results(body)]
    ['_:nodeIDx3ax2fx2fb1']
    """
    if b'"bnode"' not in body:
        return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    document = json.loads(body)
    for row in document.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode":
                term["value"] = _blank_label(term["value"])
    return ox.parse_query_results(json.dumps(document).encode(), ox.QueryResultsFormat.JSON)


def query_dataset(query: str, base_iri: str | None) -> dict[str, tuple[str, ...]] | None:
    """The query's own FROM / FROM NAMED graphs, as the protocol's parameters (``None`` if it has none).

    A store that answers with a union default graph may let that win over the query's FROM
    (Oxigraph server run with ``--union-default-graph`` does); the protocol's parameters name the
    same graphs and always win, so sending them keeps the query's meaning on every store.
    Read with rdflib's SPARQL parser, only for queries that have a dataset clause.

    >>> query_dataset("PREFIX g: <urn:g:> SELECT * FROM g:a FROM NAMED <urn:g:b> { ?s ?p ?o }", None)
    {'default-graph-uri': ('urn:g:a',), 'named-graph-uri': ('urn:g:b',)}

    The query is read on a thread of its own: pyparsing leaves the exceptions of its
    backtracking in reference cycles, and their frames link (``f_back``) to every caller's
    frame, which then outlives its call with its locals until the cycle collector runs, on
    whatever thread. A caller's frame holding pyoxigraph objects (the query's solutions,
    which may only be dropped on the thread that made them) made pyo3 report "PyQuerySolutions
    is unsendable, but is being dropped on another thread", failing test runs now and then.
    """
    read: list[dict[str, tuple[str, ...]] | None] = []
    reader = threading.Thread(
        target=lambda: read.append(_read_dataset(query, base_iri)), name="query-dataset"
    )
    reader.start()
    reader.join()
    return read[0] if read else None


def _read_dataset(query: str, base_iri: str | None) -> dict[str, tuple[str, ...]] | None:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        clauses = translateQuery(parseQuery(query), base=base_iri).algebra.get("datasetClause") or []
    except Exception:  # noqa: BLE001 - a query rdflib cannot read goes as it is; the store judges it
        return None
    default = tuple(str(clause["default"]) for clause in clauses if "default" in clause)
    named = tuple(str(clause["named"]) for clause in clauses if "named" in clause)
    if not default and not named:
        return None
    return {"default-graph-uri": default, "named-graph-uri": named}


# --- opening and loading ----------------------------------------------------------------------


def push_article_graphs(
    update_url: str,
    loaded: LoadedGraph,
    graph_store: str | None = None,
    only_if_changed_at: str | None = None,
) -> Iterator[str]:
    """Replace the article's graphs (ontology, facts, links, metadata) in an external store.

    Each graph is replaced as a whole in one request; yields one line per graph. With
    ``only_if_changed_at`` (the store's query URL), nothing is sent if the store's metadata
    graph already carries this version of the data (its ``dcat:version``).
    """
    if only_if_changed_at is not None:
        dataset = MetadataIris(loaded.base_iri).dataset
        graph = loaded.graph_iri("metadata")
        query = (
            f"ASK {{ GRAPH {graph} {{ <{dataset}> <{DCAT}version> {ox.Literal(loaded.dataset_version)} }} }}"
        )
        try:
            answer = requests.post(
                only_if_changed_at,
                data={"query": query},
                headers={"Accept": _JSON_RESULTS},
                timeout=30,
                auth=_auth(only_if_changed_at, _credentials()),
            )
            if answer.status_code == 200 and answer.json().get("boolean") is True:
                yield "the store holds this version of the article graphs already"
                return
        except (requests.RequestException, ValueError):
            pass
    credentials = _credentials()
    target = graph_store or update_url
    auth = _auth(target, credentials)
    for slug in ("ontology", "facts", "links", "metadata"):
        graph = loaded.graph_iri(slug)
        triples = [quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, graph)]
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        started = time.monotonic()
        try:
            if graph_store is not None:
                response = requests.put(
                    target,
                    params={"graph": graph.value},
                    data=body,
                    headers={"Content-Type": f"{_N_TRIPLES}; charset=utf-8"},
                    timeout=300,
                    auth=auth,
                )
                how = "Graph Store Protocol PUT"
            else:
                update = (
                    # INSERT … WHERE {}, not INSERT DATA: Virtuoso refuses blank nodes in INSERT DATA.
                    f"DROP SILENT GRAPH {graph} ;\nINSERT {{ GRAPH {graph} {{\n".encode()
                    + body
                    + b"}} WHERE {}"
                )
                response = requests.post(
                    target,
                    data=update,
                    headers={"Content-Type": "application/sparql-update; charset=utf-8"},
                    timeout=300,
                    auth=auth,
                )
                how = "SPARQL Update"
        except requests.RequestException as error:
            raise RemoteStoreError(f"graph <{graph.value}>: {target} cannot be reached ({error})") from None
        if not 200 <= response.status_code < 300:
            raise RemoteStoreError(
                f"graph <{graph.value}>: {target} answered {response.status_code} "
                f"{response.text.strip()[:500]!r}; the graphs before it are new, "
                "it and those after it unchanged"
            )
        yield f"<{graph.value}>: {len(triples)} triples ({how}, {time.monotonic() - started:.2f} s)"
