"""Real SPARQL stores as the backend: ``govkg load --into`` and ``govkg serve --store sparql:URL``.

Two real stores run on 127.0.0.1, each started once for this module: Oxigraph server (PyPI
``oxigraph``, with the union default graph) and Virtuoso open source (Debian
``virtuoso-opensource``; skipped where it is not installed). The article graphs are pushed
into each (Oxigraph by SPARQL Update, Virtuoso by the Graph Store Protocol: its SPARQL
compiler refuses an update of the facts graph in one request), then our server is started
in front of each and must answer as the embedded one does.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rdflib
import requests
from govkg.graph.stored_queries import EXPECTED_DIR, QUERIES_DIR, load_stored_queries
from govkg.settings import DEFAULT_BASE_IRI
from govkg.store.opening import open_knowledge_graph
from govkg.web.public import find_nginx

from benchmarks.processes import spawn_logged, start_listening, stop_process_group
from tests.conftest import LiveServer, start_server, stop_server
from tests.isomorphism import isomorphic
from tests.stores import (
    RunningStore,
    push_article,
    start_oxigraph_store,
    start_virtuoso,
    stop_store,
    store_env,
    virtuoso_available,
)
from tests.test_competency_queries import assert_same_solutions

BASE = DEFAULT_BASE_IRI
GRAPHS = [f"{BASE}graph/{slug}" for slug in ("ontology", "facts", "links", "metadata")]
QUERIES = [query for query in load_stored_queries(QUERIES_DIR) if not query.federated]
JSON_RESULTS = "application/sparql-results+json"
PLACE = f"{BASE}id/place/zhaoqing"
ARTICLE = f"{BASE}id/article-text/xijiang-daily-zhaoqing-rule-of-law"
MAX_ROWS = 1000


def _graph_counts(store: RunningStore) -> dict[str, int]:
    values = " ".join(f"<{graph}>" for graph in GRAPHS)
    query = f"SELECT ?g (COUNT(*) AS ?n) {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    response = requests.post(
        store.query_url, data={"query": query}, headers={"Accept": JSON_RESULTS}, timeout=30
    )
    response.raise_for_status()
    rows = response.json()["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


@pytest.fixture(scope="module")
def local_counts() -> dict[str, int]:
    loaded = open_knowledge_graph(BASE)
    return {
        graph: sum(
            1
            for _ in loaded.store.quads_for_pattern(
                None, None, None, loaded.graph_iri(graph.rsplit("/", 1)[1])
            )
        )
        for graph in GRAPHS
    }


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    workdir = tmp_path_factory.mktemp(f"store-{request.param}")
    if request.param == "oxigraph":
        running = start_oxigraph_store(workdir, timeout_s=5)
    else:
        if not virtuoso_available():
            pytest.skip(
                "Virtuoso is not installed (apt-get install virtuoso-opensource): "
                "the Virtuoso backend is left untested"
            )
        running = start_virtuoso(workdir)
    try:
        yield running
    finally:
        stop_store(running, grace=30)


@pytest.fixture(scope="module")
def loaded(store: RunningStore, local_counts: dict[str, int]) -> RunningStore:
    """The store with the article graphs pushed twice (idempotent: the same counts each time)."""
    for _ in range(2):
        completed = push_article(store, BASE)
        assert completed.returncode == 0, completed.stderr
        assert _graph_counts(store) == local_counts
    return store


@pytest.fixture(scope="module")
def front(loaded: RunningStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("front"),
        "--store",
        f"sparql:{loaded.query_url}",
        "--base-iri",
        BASE,
        "--query-timeout",
        "3",
        "--max-result-rows",
        str(MAX_ROWS),
        env=store_env(loaded),
    )
    try:
        yield server
    finally:
        stop_server(server)


def _sparql(server: LiveServer, query: str, accept: str = JSON_RESULTS, **params: str) -> requests.Response:
    return requests.post(
        server.sparql_url, data={"query": query, **params}, headers={"Accept": accept}, timeout=60
    )


def test_load_into_replaces_each_graph_and_is_idempotent(loaded: RunningStore, local_counts) -> None:  # noqa: ANN001
    assert _graph_counts(loaded) == local_counts  # after two pushes (see the fixture)


def test_a_failed_upload_leaves_each_graph_old_or_new(
    loaded: RunningStore,
    local_counts,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    from govkg.store import remote

    auth = remote._auth(loaded.graph_store_url, loaded.credentials)
    old = b'<urn:govkg:test> <urn:govkg:version> "old" .\n'
    for graph in GRAPHS:  # every graph "old": one marker triple
        response = requests.put(
            loaded.graph_store_url,
            params={"graph": graph},
            data=old,
            headers={"Content-Type": "application/n-triples"},
            auth=auth,
            timeout=30,
        )
        assert response.status_code < 300, response.text
    for name, value in store_env(loaded).items():
        monkeypatch.setenv(name, value)
    real_post, real_put = requests.post, requests.put

    def failing(real):  # noqa: ANN001, ANN202
        def send(url, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            body = kwargs.get("data") or b""
            graph = (kwargs.get("params") or {}).get("graph", "")
            if graph.endswith("/links") or (isinstance(body, bytes) and b"graph/links> ;" in body):
                raise requests.ConnectionError("simulated failure while sending the links graph")
            return real(url, *args, **kwargs)

        return send

    article = open_knowledge_graph(BASE)
    monkeypatch.setattr(remote.requests, "post", failing(real_post))
    monkeypatch.setattr(remote.requests, "put", failing(real_put))
    graph_store = loaded.graph_store_url if loaded.name == "virtuoso" else None
    with pytest.raises(remote.RemoteStoreError, match="graph/links"):
        list(remote.push_article_graphs(loaded.update_url, article, graph_store=graph_store))
    counts = _graph_counts(loaded)
    for graph in GRAPHS:
        assert counts[graph] in (1, local_counts[graph]), graph
    assert [counts[graph] == local_counts[graph] for graph in GRAPHS] == [True, True, False, False]
    monkeypatch.undo()
    completed = push_article(loaded, BASE)  # and a good push puts everything right
    assert completed.returncode == 0, completed.stderr
    assert _graph_counts(loaded) == local_counts


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: query.name)
def test_competency_queries_answer_as_the_embedded_server(front: LiveServer, query) -> None:  # noqa: ANN001
    expected = json.loads((EXPECTED_DIR / f"{query.name}.srj").read_text(encoding="utf-8"))
    response = _sparql(front, query.bound_text(BASE))
    assert response.status_code == 200, response.text
    actual = response.json()
    if "boolean" in expected:
        assert actual["boolean"] == expected["boolean"]
        return
    assert_same_solutions(actual, expected, query)


def _graph(text: str, fmt: str = "turtle") -> rdflib.Graph:
    return rdflib.Graph().parse(data=text, format=fmt)


def test_resource_page_rdf_and_describe_are_the_embedded_cbd(front: LiveServer) -> None:
    import pyoxigraph as ox
    from govkg.rdf.describe import concise_bounded_description
    from govkg.rdf.formats import rdf_format
    from govkg.rdf.serialize import serialize_triples

    local = open_knowledge_graph(BASE)
    for iri in (PLACE, _an_annotation(local)):
        expected = _graph(
            serialize_triples(
                concise_bounded_description(local.store, ox.NamedNode(iri)), rdf_format("ttl"), BASE
            ).decode()
        )
        page = requests.get(front.url + iri[len(BASE) :], headers={"Accept": "text/turtle"}, timeout=30)
        assert page.status_code == 200, front.log()[-3000:]
        assert isomorphic(_graph(page.text), expected), iri
        described = _sparql(front, f"DESCRIBE <{iri}>", accept="text/turtle")
        assert described.status_code == 200
        assert isomorphic(_graph(described.text), expected), iri
    html = requests.get(front.url + PLACE[len(BASE) :], headers={"Accept": "text/html"}, timeout=30)
    assert html.status_code == 200 and "Zhaoqing" in html.text
    # The article's page marks every quoted span: the quotes hang off blank nodes (annotation targets).
    from govkg import create_app
    from govkg.web.resources import PageBuilder, article_segments

    app = create_app({"base_iri": BASE})
    with app.test_request_context("/"):
        marked = [s for s in article_segments(PageBuilder(local, "en"), ox.NamedNode(ARTICLE)) if s.fact]
    page = requests.get(front.url + ARTICLE[len(BASE) :], headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200
    assert marked and page.text.count("<mark>") == len(marked)


#: Store queries the article's HTML page may cost (one per looked-up resource, it was 223).
ARTICLE_PAGE_QUERIES = 20
#: Connections those queries may come on: the page is built by one request, whose queries go out
#: one after another, each on a helper thread's kept-alive session.
KEPT_CONNECTIONS = 3


def _is_nginx(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).headers.get("Server", "").startswith("nginx")
    except requests.RequestException:
        return False


def _start_logging_proxy(workdir: Path, upstream: str) -> tuple[subprocess.Popen, str]:
    """nginx on a free port in front of ``upstream`` (scheme and authority), logging each request
    to ``workdir/access.log``: its process and its URL."""
    temp = "".join(
        f"{kind}_temp_path {workdir / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        config = workdir / "nginx.conf"
        config.write_text(
            f"pid {workdir / 'nginx.pid'};\ndaemon off;\nerror_log stderr;\nevents {{}}\n"
            # Bodies and answers kept in memory: nginx's workers may not write to workdir.
            f"http {{\n{temp}client_body_buffer_size 4m;\nproxy_buffering off;\n"
            # Each line starts with nginx's serial number of the client connection it came on.
            f"log_format counted '$connection $request';\naccess_log {workdir / 'access.log'} counted;\n"
            f"server {{ listen 127.0.0.1:{ports[0]}; location / {{ proxy_pass {upstream}; }} }}\n}}\n",
            encoding="utf-8",
        )
        return spawn_logged(
            [find_nginx(), "-p", str(workdir), "-e", "stderr", "-c", str(config)], workdir / "nginx.log"
        )

    process, (port,) = start_listening(
        launch, lambda ports: _is_nginx(f"http://127.0.0.1:{ports[0]}/"), timeout=30, name="nginx"
    )
    return process, f"http://127.0.0.1:{port}"


def test_the_article_page_costs_the_store_a_few_queries(
    loaded: RunningStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The page's many look-ups are fetched together (closures by the hundred), counted at the
    store's door: the requests nginx passed to it while the page was built."""
    workdir = tmp_path_factory.mktemp("proxy")
    store_url = urlsplit(loaded.query_url)
    proxy, proxy_url = _start_logging_proxy(workdir, f"{store_url.scheme}://{store_url.netloc}")
    server = None
    try:
        server = start_server(
            tmp_path_factory.mktemp("counted"),
            "--store",
            f"sparql:{proxy_url}{store_url.path}",
            "--base-iri",
            BASE,
            env=store_env(loaded),
        )
        article = server.url + ARTICLE[len(BASE) :]
        first = requests.get(article, headers={"Accept": "text/html"}, timeout=120)
        assert first.status_code == 200, server.log()[-3000:]
        log = workdir / "access.log"
        before = len(log.read_text().splitlines())
        page = requests.get(article, headers={"Accept": "text/html"}, timeout=120)
        posts = [line.split() for line in log.read_text().splitlines()[before:]]
        posts = [fields for fields in posts if fields[1:3] == ["POST", store_url.path]]
        assert page.status_code == 200 and page.text.count("<mark>") > 50
        assert 0 < len(posts) <= ARTICLE_PAGE_QUERIES, len(posts)
        # ... on connections kept alive from one query to the next, not one connection each.
        connections = {fields[0] for fields in posts}
        assert len(connections) <= KEPT_CONNECTIONS < len(posts), (len(connections), len(posts))
    finally:
        if server is not None:
            stop_server(server)
        stop_process_group(proxy)


def _an_annotation(local) -> str:  # noqa: ANN001
    query = "SELECT ?a { ?a a <http://www.w3.org/ns/oa#Annotation> } ORDER BY ?a LIMIT 1"
    return next(iter(local.store.query(query, use_default_graph_as_union=True)))[0].value


def test_the_safety_rules_hold_in_front_of_the_store(front: LiveServer) -> None:
    service = _sparql(front, "SELECT * { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }")
    assert service.status_code == 400 and "not allowed" in service.text
    update = requests.post(front.sparql_url, data={"update": "DROP ALL"}, timeout=30)
    assert update.status_code == 403
    sneaky = _sparql(front, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert sneaky.status_code == 403
    everything = _sparql(front, "SELECT * { ?s ?p ?o }")
    assert everything.status_code == 200
    assert everything.headers["X-Govkg-Truncated"] == "true"
    assert len(everything.json()["results"]["bindings"]) == MAX_ROWS
    slow = _sparql(front, "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    assert slow.status_code == 503, slow.text
    assert _sparql(front, "ASK { ?s ?p ?o }").json()["boolean"] is True  # still answering


def test_dumps_and_void_come_from_the_store(front: LiveServer, local_counts) -> None:  # noqa: ANN001
    import gzip

    import pyoxigraph as ox

    dump = requests.get(front.url + "dumps/govkg.nq.gz", timeout=120)
    assert dump.status_code == 200
    quads = list(ox.parse(gzip.decompress(dump.content), ox.RdfFormat.N_QUADS))
    by_graph = Counter(quad.graph_name.value for quad in quads)
    assert by_graph == {graph: local_counts[graph] for graph in GRAPHS if not graph.endswith("/metadata")}
    from govkg.store.metadata import dataset_statistics

    expected = dataset_statistics(open_knowledge_graph(BASE))
    void = requests.get(
        front.url + ".well-known/void", headers={"Accept": "application/n-triples"}, timeout=120
    )
    assert void.status_code == 200
    triples = (
        f'<{BASE}id/dataset/zhaoqing-rule-of-law> <http://rdfs.org/ns/void#triples> "{expected.triples}"'
    )
    assert triples in void.text


def test_update_url_pushes_the_article_graphs_at_start_up(
    tmp_path: Path,
    local_counts,  # noqa: ANN001
) -> None:
    empty = start_oxigraph_store(tmp_path / "empty")
    try:
        server = start_server(
            tmp_path,
            "--store",
            f"sparql:{empty.query_url}",
            "--update-url",
            empty.update_url,
            "--base-iri",
            BASE,
        )
        try:
            assert _graph_counts(empty) == local_counts
            assert _sparql(server, f"ASK {{ <{PLACE}> ?p ?o }}").json()["boolean"] is True
        finally:
            stop_server(server)
    finally:
        stop_store(empty)


def test_an_oxigraph_store_without_the_union_default_graph_is_named_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without ``--union-default-graph`` Oxigraph answers COUNT(*) 0: the start-up says so, with the fix."""
    from govkg.store.remote import RemoteBackend

    plain = start_oxigraph_store(tmp_path / "plain", union_default_graph=False)
    try:
        backend = RemoteBackend(plain.query_url, BASE)
        backend.warn_of_empty_default_graph()
        assert not caplog.records  # an empty store: nothing to warn of
        assert push_article(plain, BASE).returncode == 0
        backend.warn_of_empty_default_graph()
        (record,) = caplog.records
        assert record.levelname == "WARNING" and "--union-default-graph" in record.getMessage()
    finally:
        stop_store(plain)
