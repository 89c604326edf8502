"""Sharing and export, over real HTTP and in Chromium: short share links that keep the view,
CSV for Excel (a byte-order mark on request, the standard CSV untouched), CSV exports of
resource and dataset tables, a filter on long resource tables, the dumps' checksums on phones,
the footer's endpoint link."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from govkg.graph.stored_queries import load_stored_queries
from govkg.rdf.serialize import project_prefixes
from govkg.web.query_page import editor_text, pack_query
from playwright.sync_api import Browser, Page, expect

BOM = "\ufeff".encode()
LABELS = "SELECT ?label WHERE { ?s rdfs:label ?label FILTER(LANG(?label) = 'zh') } ORDER BY ?label LIMIT 3"


def _open(browser: Browser, url: str, width: int = 1280, javascript: bool = True) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    return page


# --- share links ------------------------------------------------------------------------------


def test_a_shared_chart_view_of_a_question_is_a_short_link_that_reopens_the_chart(live_server, browser):
    page = _open(browser, f"{live_server.url}query?lang=en")
    try:
        page.locator("a[data-example='business-opening-time']").click()
        expect(page.locator("table.results-table")).to_be_visible()
        page.locator(".view-switch select[data-choice='value']").select_option(label="?time")
        page.locator(".view-switch button[data-view='bar']").click()
        share = page.locator("#share-url")
        expect(share).to_have_value(re.compile(r"example=business-opening-time.*view=bar"))
        link = share.input_value()
        # The share links were 629 characters and lost the chart.
        assert len(link) < 200, link
        assert parse_qs(urlsplit(link).query)["value"] == ["time"]
    finally:
        page.context.close()
    page = _open(browser, link)
    try:
        expect(page.locator(".view-switch button[data-view='bar']")).to_have_attribute("aria-pressed", "true")
        expect(page.locator(".result-chart")).to_be_visible()
        expect(page.locator(".view-switch select[data-choice='value'] option:checked")).to_have_text("?time")
        expect(page.locator("table.results-table")).to_be_hidden()
    finally:
        page.context.close()


def test_every_stored_question_shares_in_under_200_characters(live_server):
    host = live_server.url.rstrip("/")
    for query in load_stored_queries():
        link = f"{host}/query?example={query.name}&view=bar&value=count&category=label&lang=zh"
        assert len(link) < 200, link
        page = requests.get(link, timeout=10)
        assert page.status_code == 200
        text = editor_text(query.bound_text(live_server.url), project_prefixes(live_server.url))
        assert _textarea(page.text) == text


def _textarea(page: str) -> str:
    found = re.search(r'<textarea[^>]*id="query"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert found, "no editor"
    return html.unescape(found.group(1))


def test_an_edited_query_is_shared_packed_and_reopens_the_same_text(live_server, browser):
    page = _open(browser, f"{live_server.url}query?lang=zh")
    try:
        page.evaluate("(text) => window.govkgQueryPage.setQuery(text)", LABELS)
        page.locator("#run-query").click()
        expect(page.locator("table.results-table")).to_be_visible()
        share = page.locator("#share-url")
        expect(share).to_have_value(re.compile(r"[?&]z="))
        link = share.input_value()
        assert len(link) < len(f"{live_server.url}query?query={quote(LABELS)}&lang=zh")
        assert parse_qs(urlsplit(link).query)["lang"] == ["zh"]
    finally:
        page.context.close()
    # The server unpacks it: the page works without JavaScript too.
    assert _textarea(requests.get(link, timeout=10).text) == LABELS
    page = _open(browser, link)
    try:
        expect(page.locator("table.results-table tbody tr")).to_have_count(3)
        assert page.evaluate("window.govkgQueryPage.getQuery()") == LABELS
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"z": "not-a-query!"}, 400),
        ({"z": pack_query("x" * 200_000)}, 413),  # a small link must not inflate to anything
        ({"example": "no-such-question"}, 404),
        ({"query": "ASK {}", "view": "pie"}, 400),
        ({"query": "ASK {}", "view": "bar", "value": "a b"}, 400),
    ],
)
def test_damaged_share_links_are_refused_with_a_reason(live_server, params, status):
    response = requests.get(live_server.url + "query", params=params, timeout=10)
    assert response.status_code == status, response.text


# --- CSV for Excel --------------------------------------------------------------------------------


def test_csv_for_excel_has_a_byte_order_mark_and_the_standard_csv_has_none(live_server):
    params = {"query": "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + LABELS, "format": "csv"}
    standard = requests.get(live_server.sparql_url, params=params, timeout=10)
    excel = requests.get(live_server.sparql_url, params={**params, "bom": "1"}, timeout=10)
    assert standard.status_code == excel.status_code == 200
    assert not standard.content.startswith(BOM)
    assert excel.content == BOM + standard.content
    assert excel.headers["Content-Type"] == standard.headers["Content-Type"]
    assert excel.headers["ETag"] != standard.headers["ETag"]
    assert "零跑动" in excel.content.decode("utf-8-sig") or excel.content.decode("utf-8-sig").count("\n") == 4
    # JSON answers ignore it.
    as_json = requests.get(
        live_server.sparql_url, params={**params, "format": "json", "bom": "1"}, timeout=10
    )
    assert not as_json.content.startswith(BOM)


def test_the_query_page_offers_csv_for_excel_with_and_without_javascript(live_server, browser):
    page = _open(browser, f"{live_server.url}query?lang=zh")
    try:
        page.evaluate("(text) => window.govkgQueryPage.setQuery(text)", LABELS)
        page.locator("#run-query").click()
        link = page.get_by_role("link", name="CSV（Excel 用）")
        expect(link).to_be_visible()
        assert requests.get(link.get_attribute("href"), timeout=10).content.startswith(BOM)
    finally:
        page.context.close()
    page = _open(browser, f"{live_server.url}query?lang=zh", javascript=False)
    try:
        page.locator("#query").fill(LABELS)
        page.locator("select[name='format']").select_option(label="CSV（Excel 用）")
        with page.expect_download() as download:
            page.locator("#run-query").click()
        assert download.value.url.endswith("bom=1") or "bom=1" in download.value.url
    finally:
        page.context.close()


# --- the dumps on phones, the footer ----------------------------------------------------------------


def test_the_dump_checksums_are_visible_on_a_phone(live_server, browser):
    requests.get(live_server.url + "dumps/govkg.nt", timeout=60)  # built on first download
    page = _open(browser, f"{live_server.url}dumps/?lang=en", width=390)
    try:
        checksum = page.locator("code.checksum:visible").first
        expect(checksum).to_be_visible()
        assert re.fullmatch(r"[0-9a-f]{64}", checksum.inner_text())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.context.close()


def test_the_footer_endpoint_link_opens_the_query_page_in_the_reader_language(live_server, browser):
    page = _open(browser, f"{live_server.url}id/place/zhaoqing?lang=zh")
    try:
        page.locator("footer").get_by_role("link", name="SPARQL 端点").click()
        page.wait_for_url("**/query?lang=zh")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
    finally:
        page.context.close()


# --- CSV exports of resource and dataset tables ----------------------------------------------------


def test_a_resource_page_exports_its_properties_as_csv(live_server, browser):
    page = _open(browser, f"{live_server.url}id/place/zhaoqing?lang=zh", width=390)
    try:
        export = page.locator(".table-export").filter(has_text="下载此表")
        expect(export.get_by_role("link", name="CSV", exact=True)).to_be_visible()
        with page.expect_download() as download:
            export.get_by_role("link", name="CSV（Excel 用）").click()
        excel = Path(download.value.path()).read_bytes()
        href = export.get_by_role("link", name="CSV", exact=True).get_attribute("href")
    finally:
        page.context.close()
    assert excel.startswith(BOM)
    csv_text = requests.get(live_server.url.rstrip("/") + href, timeout=10).text
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["property", "value", "value_label"]
    iri = live_server.url + "id/place/zhaoqing"
    count = requests.post(
        live_server.sparql_url,
        data={
            "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }} }}"
        },
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    ).json()["results"]["bindings"][0]["n"]["value"]
    assert len(rows) - 1 == int(count)
    assert any(re.search("[\u4e00-\u9fff]", row[2]) for row in rows[1:])  # labels in the page language


def test_a_dataset_page_exports_its_observations_one_row_each(live_server):
    page = requests.get(live_server.url + "id/dataset-cube/business-opening-time?lang=en", timeout=10).text
    found = re.search(r"The dataset&#39;s observations as a table: <a href=\"([^\"]+)\"", page)
    assert found, "no dataset export"
    answer = requests.get(live_server.url.rstrip("/") + html.unescape(found.group(1)), timeout=10)
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 3  # the three steps of business opening
    assert {"observation", "label", "processingTime", "sequenceIndex"} <= set(rows[0])
    assert sorted(row["processingTime"] for row in rows) == ["1", "3", "7"]


# --- filters of resource tables -------------------------------------------------------------------

#: Each value the table shows, after the name of its row's property.
_SHOWN_VALUES = """(table) => Array.from(table.querySelectorAll("tbody > tr:not([hidden])"))
  .flatMap((row) => {
  const items = row.querySelectorAll(":scope > td > ul.values > li:not([hidden])");
  const property = row.querySelector(":scope > th").textContent;
  return (items.length ? Array.from(items) : Array.from(row.querySelectorAll(":scope > td")))
    .map((value) => property + " " + value.textContent);
})"""


def test_a_long_resource_table_filters_its_values_as_one_types(live_server, browser):
    page = _open(browser, f"{live_server.url}id/place/zhaoqing?lang=zh", width=390)
    try:
        table = page.locator("#incoming-table")
        box = page.get_by_role("searchbox", name="筛选此表")
        expect(box).to_be_visible()
        everything = table.evaluate(_SHOWN_VALUES)
        assert len(everything) >= 10
        box.fill("2019")
        shown = table.evaluate(_SHOWN_VALUES)
        assert 0 < len(shown) < len(everything) and all("2019" in value for value in shown), shown
        expect(page.locator(".table-filter [role=status]")).to_have_text(
            f"显示 {len(everything)} 个值中的 {len(shown)} 个"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box.fill("")
        assert table.evaluate(_SHOWN_VALUES) == everything
    finally:
        page.context.close()
    # Without JavaScript the table is whole and the box is not offered.
    page = _open(browser, f"{live_server.url}id/place/zhaoqing?lang=zh", javascript=False)
    try:
        expect(page.locator(".table-filter")).to_be_hidden()
    finally:
        page.context.close()
