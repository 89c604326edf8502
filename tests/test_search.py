"""Search (``/search``, the box in every page's header) over real HTTP and in Chromium.

The index (:mod:`govkg.store.search_index`) is built when the server opens the graph; these
tests ask the real server as a reader would: by the header's box, by a link, by JSON.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.browser_pages import Tabs, english_interface_words, kept_tabs, serious_axe_violations
from tests.conftest import start_server, stop_server


@pytest.fixture(scope="module")
def tabs(browser) -> Iterator[Tabs]:  # noqa: ANN001
    """Tabs kept for the module (a test needs a fresh page, not a fresh browser context)."""
    with kept_tabs(browser) as tabs:
        yield tabs


@pytest.fixture(scope="module")
def no_js_tabs(browser) -> Iterator[Tabs]:  # noqa: ANN001
    """Tabs without JavaScript, kept for the module."""
    with kept_tabs(browser, java_script_enabled=False) as tabs:
        yield tabs


def _search(live_server, q: str, **params: str) -> dict:  # noqa: ANN001
    response = requests.get(
        live_server.url + "search",
        params={"q": q, **params},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def _local(iri: str) -> str:
    return iri.split("/id/", 1)[-1]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("零跑动", "observation/matters-zero-trips"),
        ("零跑", "observation/matters-zero-trips"),  # two characters: below a trigram index's reach
        ("肇商通", "platform/zhaoshangtong"),
        ("Zhaoshangtong", "platform/zhaoshangtong"),
        ("enterprise opening", "dataset-cube/business-opening-time"),
        ("business opening", "dataset-cube/business-opening-time"),
    ],
)
def test_search_finds_chinese_and_english_in_one_step(live_server, q, expected):
    answer = _search(live_server, q)
    found = [_local(result["iri"]) for result in answer["results"]]
    assert expected in found[:5], f"{q!r}: {found[:10]}"


def test_the_json_answer_is_ranked_and_says_why_each_resource_was_found(live_server):
    answer = _search(live_server, "business opening", lang="zh")
    assert answer["query"] == "business opening" and answer["count"] == len(answer["results"]) > 3
    # Resources with every word first, then those with some: each group ranked by its score.
    for every_word in (True, False):
        group = [result for result in answer["results"] if result["matched_all_words"] is every_word]
        scores = [result["score"] for result in group]
        assert scores == sorted(scores, reverse=True)
    first = answer["results"][0]
    assert "opening" in first["match"]["text"].lower()
    assert first["match"]["kind"] in ("label", "description", "quote")
    assert first["page"].startswith(live_server.url) and first["label_lang"] == "zh"
    assert requests.get(first["page"], timeout=10).status_code == 200
    # Resources with every word rank above those with some.
    flags = [result["matched_all_words"] for result in _search(live_server, "opening enterprise")["results"]]
    assert flags == sorted(flags, reverse=True)


def test_a_quote_of_the_article_finds_the_fact_it_supports(live_server):
    answer = _search(live_server, "1695项实现")
    by_iri = {_local(result["iri"]): result for result in answer["results"]}
    assert by_iri["observation/matters-zero-trips"]["matched_all_words"]
    # The 660 one-trip fact has 项实现 but not 1695: at most among the partial matches.
    other = by_iri.get("observation/matters-run-at-most-once")
    assert other is None or not other["matched_all_words"]


def test_search_negotiates_html_and_json_and_refuses_bad_parameters(live_server):
    url = live_server.url + "search"
    html = requests.get(url, params={"q": "肇商通"}, headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["Content-Type"].startswith("text/html") and "肇商通" in html.text
    assert "Accept" in html.headers["Vary"]
    as_json = requests.get(
        url, params={"q": "肇商通", "format": "json"}, headers={"Accept": "text/html"}, timeout=10
    )
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert (
        requests.get(url, params={"q": "x"}, headers={"Accept": "image/png"}, timeout=10).status_code == 406
    )
    assert requests.get(url, params={"q": "x", "format": "xml"}, timeout=10).status_code == 400
    assert requests.get(url, params={"q": "x", "limit": "0"}, timeout=10).status_code == 400
    empty = _search(live_server, "")
    assert empty["results"] == [] and empty["count"] == 0
    # FTS5 syntax in the box is text, not an operator.
    assert _search(live_server, 'NEAR("a" OR * ^')["query"] == 'NEAR("a" OR * ^'


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("start", ["/", "/id/place/zhaoqing", "/query", "/dumps/"])
def test_the_header_box_searches_from_every_page_without_javascript(live_server, no_js_tabs, start, width):
    page = no_js_tabs.show(f"{live_server.url}{start[1:]}?lang=zh", width)
    box = page.get_by_role("search").get_by_role("searchbox")
    box.fill("零跑动")
    box.press("Enter")
    page.wait_for_url("**/search?**")
    assert "lang=zh" in page.url  # the chosen language goes with the search
    first = page.locator(".search-results li").first
    assert first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name="已办理事项中1695项实现“零跑动”", exact=True).click()
    page.wait_for_url(f"{live_server.url}id/observation/matters-zero-trips**")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_search_page_has_no_serious_axe_violation(live_server, tabs, width):
    page = tabs.show(f"{live_server.url}search?q=%E8%82%87%E5%95%86%E9%80%9A&lang=zh", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The search's own parts (the whole page at both widths is test_web_pages' concern), as
    # served: its CSP in force.
    assert serious_axe_violations(page, ["main", ".site-search"]) == []


def test_a_data_file_and_a_disk_store_are_searchable_from_the_start(tmp_path):
    data = tmp_path / "extra.ttl"
    data.write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        '<https://example.org/budget> rdfs:label "市级财政预算公开"@zh , "municipal budget disclosure"@en ;\n'
        '    dcterms:description "Published every March."@en .\n',
        encoding="utf-8",
    )
    disk = ("--store", str(tmp_path / "store"), "--create", "--data", str(data))
    for args in (("--data", str(data)), disk):
        server = start_server(tmp_path, *args)
        try:
            for q in ("预算", "budgets", "March"):
                found = [result["iri"] for result in _search(server, q)["results"]]
                assert "https://example.org/budget" in found, (args, q, found)
        finally:
            stop_server(server)


@pytest.mark.parametrize("q", ["肇商通", "business opening", "nothing-matches-this"])
def test_the_chinese_search_page_has_no_english_interface_words(live_server, tabs, q):
    english = english_interface_words(tabs.show(f"{live_server.url}search?q={q}&lang=zh", 1280))
    # The reader's own words are quoted back: not interface words.
    assert [word for word in english if word.lower() not in q.lower()] == []
