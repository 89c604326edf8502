"""The query page, the stored-query API and /openapi.json, over real HTTP against the real server."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import requests
from govkg.graph.stored_queries import load_stored_queries
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS, ResultsFormat
from govkg.rdf.serialize import project_prefixes
from govkg.sparql.text import complete_prefixes
from govkg.web.openapi import openapi_path
from govkg.web.query_page import EXCEL_CSV, editor_text
from openapi_spec_validator import validate as validate_openapi

from tests.conftest import start_server, stop_server

STORED = load_stored_queries()
LOCAL = [query for query in STORED if not query.federated]
FEDERATED = [query for query in STORED if query.federated]
HOSTILE = '</textarea><script>alert("x")</script><img src=x onerror=alert(1)> </script><!-- & "q" \'a\''


class Page(HTMLParser):
    """The parts of an HTML page these tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text_of: dict[str, str] = {}  # by element id: its text content
        self._open: list[tuple[str, str | None]] = []
        self._textarea_start = False
        self.text = ""  # all of the page's text, character references decoded
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        attributes = dict(attrs)
        # As in browsers: a newline right after <textarea> is not part of its text.
        self._textarea_start = tag == "textarea"
        self.elements.append((tag, attributes))
        self._open.append((tag, attributes.get("id")))
        if attributes.get("id"):
            self.text_of[attributes["id"]] = ""

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):  # noqa: ANN001, ANN201
        if self._textarea_start and data.startswith("\n"):
            data = data[1:]
        self._textarea_start = False
        self.text += data
        for _, element_id in self._open:
            if element_id:
                self.text_of[element_id] += data

    def find_all(self, tag: str, **attributes: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for name, attrs in self.elements
            if name == tag
            and all(attrs.get(key.replace("_", "-")) == value for key, value in attributes.items())
        ]

    def page_data(self) -> dict:
        return json.loads(self.text_of["govkg-page-data"])


def page_url(live_server) -> str:
    """The query page (``/`` is the home page; ``/?query=`` goes on to the query page)."""
    return live_server.url + "query"


def get_page(live_server, **params: str) -> tuple[requests.Response, Page]:
    response = requests.get(
        page_url(live_server), params=params, headers={"Accept-Language": "en"}, timeout=10
    )
    assert response.status_code == 200
    return response, Page(response.text)


def test_the_page_lists_every_stored_query_with_both_summaries(live_server):
    response, page = get_page(live_server)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    examples = page.find_all("a", **{"class": "example"})
    assert [link["data-example"] for link in examples] == [query.name for query in STORED]
    for query in STORED:
        assert query.summary in page.text and query.summary_zh in page.text
    # Each example is a share link that carries its query, rebased to this server.
    data = page.page_data()
    for link, example in zip(examples, data["examples"], strict=True):
        (text,) = parse_qs(urlsplit(link["href"]).query)["query"]
        assert text == example["text"]
        assert "<https://w3id.org/govkg/" not in text


def test_every_example_link_and_download_fits_in_one_request_line(live_server):
    # Gunicorn refuses request lines over 8190 bytes (its limit_request_line, set to its maximum by
    # serving.py) with 414; each example link, and each download link the page builds for it, must fit.
    _, page = get_page(live_server)
    for link in page.find_all("a", **{"class": "example"}):
        (text,) = parse_qs(urlsplit(link["href"]).query)["query"]
        download = requests.Request("GET", live_server.sparql_url, params={"query": text, "format": "json"})
        for target in (link["href"], download.prepare().path_url):
            assert len(f"GET {target} HTTP/1.1") <= 8190, f"{link['data-example']}: {len(target)} bytes"
    long = requests.get(page_url(live_server), params={"query": "#" * 9000}, timeout=10)
    assert long.status_code == 414  # what a longer link would get


def test_the_page_language_follows_accept_language_and_lang(live_server):
    chinese = requests.get(
        page_url(live_server), headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, timeout=10
    )
    assert '<html lang="zh-Hans">' in chinese.text and "查询知识图谱" in chinese.text
    assert "Accept-Language" in chinese.headers["Vary"]
    first, chinese_text = STORED[0], Page(chinese.text).text
    assert chinese_text.index(first.summary_zh) < chinese_text.index(first.summary)
    english = requests.get(
        page_url(live_server), params={"lang": "en"}, headers={"Accept-Language": "zh"}, timeout=10
    )
    english_text = Page(english.text).text
    assert '<html lang="en">' in english.text
    assert english_text.index(first.summary) < english_text.index(first.summary_zh)
    assert requests.get(page_url(live_server), params={"lang": "<x>"}, timeout=10).status_code == 400


def test_the_page_has_no_inline_script_or_style_and_a_strict_csp(live_server):
    response, page = get_page(live_server)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    scripts = page.find_all("script")
    assert scripts, "the page has its script"
    for script in scripts:
        if script.get("src") is None:
            assert script.get("type") == "application/json", "only JSON data may be inline"
        else:
            assert script["src"].startswith("/static/")
    assert not page.find_all("style")
    for tag, attributes in page.elements:
        assert "style" not in attributes, tag
        assert not [name for name in attributes if name.startswith("on")], tag
        for name in ("href", "src", "action"):
            value = attributes.get(name) or ""
            assert not value.lower().startswith(("javascript:", "data:", "http:", "https:")), (tag, value)
    # The page needs nothing from elsewhere: every script and stylesheet is served here.
    for asset in [s["src"] for s in scripts if s.get("src")] + [
        link["href"] for link in page.find_all("link", rel="stylesheet")
    ]:
        assert requests.get(live_server.url + asset.lstrip("/"), timeout=10).status_code == 200


def test_a_hostile_query_text_is_escaped_everywhere(live_server):
    response, page = get_page(live_server, query=HOSTILE)
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert page.text_of["query"] == HOSTILE  # the textarea holds it as text, unchanged
    data = page.page_data()  # the JSON element parses: nothing broke out of it
    assert data["run_on_load"] is True
    # The page data and the page's own script (it fetches the editor after the first paint, the
    # charts when drawn).
    assert len(page.find_all("script")) == 2


def test_the_share_url_fills_the_editor_and_says_to_run(live_server):
    query = "SELECT ?thing WHERE { ?thing rdfs:label ?label } LIMIT 1\n"
    _, page = get_page(live_server, query=query)
    assert page.text_of["query"] == query
    assert page.page_data()["run_on_load"] is True
    _, starter = get_page(live_server)
    assert starter.page_data()["run_on_load"] is False


def test_without_javascript_the_form_redirects_to_the_endpoint_with_prefixes_declared(live_server):
    query = "SELECT ?label WHERE { ?s a gov:FirstMoverAchievement ; rdfs:label ?label } LIMIT 2"
    redirect = requests.get(
        page_url(live_server), params={"query": query, "format": "csv"}, allow_redirects=False, timeout=10
    )
    assert redirect.status_code == 303
    location = urlsplit(redirect.headers["Location"])
    assert location.path == "/sparql"
    sent = parse_qs(location.query)
    assert sent["format"] == ["csv"]
    assert sent["query"][0].startswith(f"PREFIX gov: <{live_server.url}ontology#>\n")
    answer = requests.get(live_server.url.rstrip("/") + redirect.headers["Location"], timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == "label"
    refused = requests.get(page_url(live_server), params={"query": query, "format": "n3"}, timeout=10)
    assert refused.status_code == 400


def test_the_page_offers_exactly_the_registry_formats(live_server):
    _, page = get_page(live_server)
    options = [option["value"] for option in page.find_all("option")]
    # The registry's formats, and CSV for Excel (the registry's CSV with a byte-order mark).
    assert [name for name in options if name != EXCEL_CSV] == [
        fmt.name for fmt in (*RESULTS_FORMATS, *RDF_FORMATS)
    ]
    assert options[options.index("csv") + 1] == EXCEL_CSV
    formats = page.page_data()["formats"]
    assert [fmt["media_type"] for fmt in formats["results"]] == [fmt.media_type for fmt in RESULTS_FORMATS]
    assert [fmt["name"] for fmt in formats["rdf"]] == [fmt.name for fmt in RDF_FORMATS]


def test_the_page_declares_the_project_prefixes_under_this_base(live_server):
    _, page = get_page(live_server)
    prefixes = page.page_data()["prefixes"]
    assert prefixes["gov"] == live_server.url + "ontology#"
    assert prefixes["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
    completed, added = complete_prefixes("ASK { ?s a gov:FirstMoverAchievement }", prefixes)
    assert added == ["gov"]
    answer = requests.get(live_server.sparql_url, params={"query": completed}, timeout=10)
    assert answer.json()["boolean"] is True


@pytest.mark.parametrize("fmt", RESULTS_FORMATS, ids=lambda fmt: fmt.name)
@pytest.mark.parametrize("query", [q for q in LOCAL if not q.returns_graph], ids=lambda q: q.name)
def test_a_stored_query_answers_in_each_results_format(live_server, query, fmt):
    url = f"{live_server.url}queries/{query.name}"
    by_parameter = requests.get(url, params={"format": fmt.name}, timeout=10)
    by_accept = requests.get(url, headers={"Accept": fmt.media_type}, timeout=10)
    reference = requests.get(url, params={"format": "json"}, timeout=10).json()
    for response in (by_parameter, by_accept):
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == fmt.content_type
        assert response.headers["X-Govkg-Truncated"] == "false"
        variables, rows = _read_results(response.content, fmt)
        assert variables == reference["head"]["vars"]
        assert len(rows) == len(reference["results"]["bindings"])


def _read_results(body: bytes, fmt: ResultsFormat) -> tuple[list[str], list]:
    """Variables and rows of a results document (pyoxigraph reads all but the lossy CSV)."""
    if fmt.name == "csv":
        header, *rows = csv.reader(io.StringIO(body.decode("utf-8"), newline=""))
        return header, rows
    solutions = ox.parse_query_results(body, format=fmt.oxigraph)
    return [variable.value for variable in solutions.variables], list(solutions)


def test_every_local_stored_query_finds_answers(live_server):
    for query in LOCAL:
        answer = requests.get(f"{live_server.url}queries/{query.name}", params={"format": "json"}, timeout=10)
        assert answer.status_code == 200
        assert answer.json()["results"]["bindings"], f"{query.name} finds nothing"


def test_stored_query_parameters_default_and_override(live_server):
    url = f"{live_server.url}queries/evidence-for-a-resource"
    by_default = requests.get(url, params={"format": "json"}, timeout=10).json()["results"]["bindings"]
    assert {row["_resource_iri"]["value"] for row in by_default} == {live_server.url + "id/place/zhaoqing"}
    achievement = live_server.url + "id/achievement/nation-first-double-tolerance-double-commitment"
    chosen = requests.get(url, params={"format": "json", "resource_iri": achievement}, timeout=10).json()
    assert {row["_resource_iri"]["value"] for row in chosen["results"]["bindings"]} == {achievement}
    assert any("双容双承诺" in row["quote"]["value"] for row in chosen["results"]["bindings"])
    refused = requests.get(url, params={"resource_iri": "javascript:alert(1)"}, timeout=10)
    assert refused.status_code == 400 and "absolute http(s) IRI" in refused.text


@pytest.mark.parametrize("query", FEDERATED, ids=lambda q: q.name)
def test_a_federated_query_is_refused_without_an_allowlisted_endpoint(live_server, query):
    url = f"{live_server.url}queries/{query.name}"
    refused = requests.get(url, params={"format": "json"}, timeout=10)
    assert refused.status_code == 400 and "service_allowlist" in refused.text
    if query.endpoint_in_url:
        elsewhere = requests.get(url, params={"endpoint": "http://127.0.0.1:9/sparql"}, timeout=10)
        assert elsewhere.status_code == 400 and "service_allowlist" in elsewhere.text


@pytest.mark.parametrize("query", [q for q in FEDERATED if q.endpoint_in_url], ids=lambda q: q.name)
def test_a_federated_query_calls_the_endpoint_given_in_the_url(live_server, tmp_path, query):
    # The live server stands in for the remote endpoint; a second server may call it.
    target = live_server.sparql_url
    calls_before = _service_calls_received(live_server)
    caller = start_server(tmp_path, "--service-allowlist", target)
    try:
        answer = requests.get(
            f"{caller.url}queries/{query.name}", params={"format": "json", "endpoint": target}, timeout=30
        )
    finally:
        stop_server(caller)
    assert answer.status_code == 200, answer.text
    assert answer.json()["head"]["vars"]
    assert _service_calls_received(live_server) > calls_before


def _service_calls_received(server) -> int:  # noqa: ANN001
    """SPARQL requests that a query engine (pyoxigraph's SERVICE client) sent to ``server``."""
    return sum(
        1
        for line in server.log().splitlines()
        if '"POST /sparql HTTP/1.1" 200' in line and "Oxigraph/" in line
    )


def test_a_browser_asking_for_a_stored_query_is_sent_to_the_page(live_server):
    query = STORED[0]
    response = requests.get(
        f"{live_server.url}queries/{query.name}",
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/query"
    # The editor gets the query without its header and the PREFIX lines the page declares itself.
    shown = editor_text(query.bound_text(live_server.url), project_prefixes(live_server.url))
    assert parse_qs(location.query)["query"] == [shown]
    assert "#+" not in shown


def test_the_old_editor_address_still_opens_the_editor(live_server):
    # Links shared before the home page took / carried the query as /?query=…: they go on to /query.
    query = "SELECT ?s WHERE { ?s a gov:FirstMoverAchievement } LIMIT 1"
    moved = requests.get(
        live_server.url, params={"query": query, "lang": "zh"}, allow_redirects=False, timeout=10
    )
    assert moved.status_code == 303
    location = urlsplit(moved.headers["Location"])
    assert location.path == "/query"
    assert parse_qs(location.query) == {"query": [query], "lang": ["zh"]}
    page = Page(requests.get(live_server.url, params={"query": query}, timeout=10).text)
    assert page.text_of["query"] == query
    # Without JavaScript, the old form's submission still ends at the endpoint.
    answer = requests.get(live_server.url, params={"query": query, "format": "json"}, timeout=10)
    assert answer.headers["Content-Type"].startswith("application/sparql-results+json")


def test_a_stored_question_is_shown_beside_its_query_not_inside_it(live_server):
    _, page = get_page(live_server)
    example = page.page_data()["examples"][0]
    assert not example["text"].startswith("#+") and "#+ summary" not in example["text"]
    _, loaded = get_page(live_server, query=example["text"])
    assert loaded.text_of["stored-question-summary"] == example["summary"]
    assert example["summary"] not in loaded.text_of["query"]


def test_the_text_of_a_stored_query(live_server):
    for query in STORED:
        response = requests.get(f"{live_server.url}queries/{query.name}.rq", timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/sparql-query"
        assert response.content.decode("utf-8") == query.text_for(live_server.url)
    assert requests.get(f"{live_server.url}queries/no-such-query.rq", timeout=10).status_code == 404
    assert requests.get(f"{live_server.url}queries/no-such-query", timeout=10).status_code == 404


def test_the_listing_as_json_and_as_html(live_server):
    listing = requests.get(live_server.url + "queries/", headers={"Accept": "application/json"}, timeout=10)
    assert listing.status_code == 200 and listing.headers["Content-Type"] == "application/json"
    assert "Accept" in listing.headers["Vary"]
    entries = listing.json()
    assert [entry["name"] for entry in entries] == [query.name for query in STORED]
    for entry, query in zip(entries, STORED, strict=True):
        assert (entry["summary"], entry["summary_zh"], entry["tags"]) == (
            query.summary,
            query.summary_zh,
            list(query.tags),
        )
        assert requests.get(entry["links"]["text"], timeout=10).text == query.text_for(live_server.url)
        assert set(entry["links"]["formats"]) == {fmt.name for fmt in RESULTS_FORMATS}
        if not query.federated:
            csv = requests.get(entry["links"]["formats"]["csv"], timeout=10)
            assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    html = requests.get(live_server.url + "queries/", headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    listed = Page(html.text)
    for query in STORED:
        assert query.summary in listed.text and query.summary_zh in listed.text
        assert listed.find_all("li", id=query.name)
    # The same page (its language links keep ?format=html, so only its text is compared).
    by_parameter = requests.get(live_server.url + "queries/", params={"format": "html"}, timeout=10)
    assert Page(by_parameter.text).text == listed.text
    assert (
        requests.get(live_server.url + "queries/", headers={"Accept": "image/png"}, timeout=10).status_code
        == 406
    )


def test_openapi_describes_every_route_and_every_stored_query(live_server, app):
    response = requests.get(live_server.url + "openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    document = response.json()
    validate_openapi(document)  # raises if it is not valid OpenAPI 3.1
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": live_server.url.rstrip("/")}]
    paths = document["paths"]
    assert set(paths["/sparql"]) == {"get", "post"}
    assert {"application/x-www-form-urlencoded", "application/sparql-query"} <= set(
        paths["/sparql"]["post"]["requestBody"]["content"]
    )
    for path in (
        "/queries/",
        "/queries/{name}",
        "/queries/{name}.rq",
        "/healthz",
        "/readyz",
        "/openapi.json",
    ):
        assert "get" in paths[path], path
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert openapi_path(rule.rule)[0] in paths, rule.rule
    for query in STORED:
        operation = paths[f"/queries/{query.name}"]["get"]
        assert operation["summary"] == query.summary
        assert set(query.tags) <= set(operation["tags"])
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        assert set(query.defaults) <= set(parameters)
        for name, default in query.defaults_for(live_server.url).items():
            assert parameters[name]["schema"]["default"] == default
        media_types = set(operation["responses"]["200"]["content"])
        assert media_types == {fmt.media_type for fmt in RESULTS_FORMATS}
