"""Errors and the keyboard on the query page, in Chromium: the editor's error mark shows under
the site's CSP, the engine's message wraps on a phone, a failed query offers no downloads and its
advice is in the page's language (a time-out's too), Tab
leaves the editor after Esc (and the page says so), and on a phone the editor comes before the
list of stored questions in the Tab order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser_pages import Tabs, english_interface_words, kept_tabs, new_tab, show
from tests.conftest import LiveServer, start_server, stop_server

BROKEN = (
    "SELECT ?s WHERE {\n  ?s rdfs:label ?l .\n"
    '  FILTER(?l = "a long literal that a phone cannot show on one line" }\n'
)


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[Tabs]:
    """A tab per width, kept for the module: each test opens the query page afresh in it."""
    with kept_tabs(browser) as tabs:
        yield tabs


@contextmanager
def _query_page(
    tabs: Tabs, server: LiveServer, width: int, language: str = "en"
) -> Iterator[tuple[Page, list[str]]]:
    """The query page, ready, and what the CSP refused on it (its console's reports) while in use."""
    page = tabs.tab(width)
    refused: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", listen)
    try:
        yield show(page, f"{server.url}query?lang={language}"), refused
    finally:
        page.remove_listener("console", listen)


@pytest.mark.parametrize("width", [390, 1280])
def test_a_failed_query_is_marked_its_message_wraps_and_it_offers_no_downloads(
    live_server: LiveServer, tabs: Tabs, width: int
) -> None:
    with _query_page(tabs, live_server, width, "zh") as (page, refused):
        page.evaluate("text => window.govkgQueryPage.setQuery(text)", BROKEN)
        page.click("#run-query")
        expect(page.locator("#result-error")).to_be_visible()
        # The advice is in Chinese; only the engine's own message (lang="en") is not.
        assert english_interface_words(page, "#result-error") == []
        marker = page.locator(".cm-lint-marker-error")
        expect(marker).to_be_visible()
        box = marker.bounding_box()
        assert box is not None and box["width"] >= 8 and box["height"] >= 8
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('.code-editor').shadowRoot"
                ".querySelector('.cm-lint-marker-error')).backgroundColor"
            )
            == "rgb(197, 34, 31)"
        )
        assert refused == []  # no data: image refused by the CSP
        # Nothing of the engine's message is cut off: it wraps inside its box.
        detail = page.locator("#result-error pre")
        assert detail.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # A failed query has no answer to download, in any format; its share link stays.
        expect(page.locator("#result-tools .downloads")).to_be_hidden()
        assert page.locator("#download-links a").count() == 0
        expect(page.locator("#share-url")).to_be_visible()


def test_esc_then_tab_leaves_the_editor_and_the_page_says_so(live_server: LiveServer, tabs: Tabs) -> None:
    with _query_page(tabs, live_server, 1280) as (page, _):
        expect(page.locator("#editor-keys")).to_be_visible()
        expect(page.locator("#editor-keys")).to_contain_text("Esc, then Tab")
        page.locator(".cm-content").click()
        page.keyboard.press("Tab")  # indents: focus stays in the editor
        assert page.evaluate("document.activeElement.className") == "code-editor"
        page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "run-query"
        description = page.evaluate(
            "document.querySelector('.code-editor').shadowRoot.querySelector('.cm-content')"
            ".getAttribute('aria-description')"
        )
        assert "Esc" in description


def test_on_a_phone_the_editor_comes_before_the_question_list(live_server: LiveServer, tabs: Tabs) -> None:
    with _query_page(tabs, live_server, 390) as (page, _):
        page.locator("#content").focus()
        for _ in range(14):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.className") == "code-editor":
                break
        else:
            pytest.fail("14 Tabs from the top of the content did not reach the editor")
        assert page.evaluate("document.activeElement.closest('.examples')") is None
        # It is also above the list on the screen.
        editor, first_question = (
            page.locator(".code-editor").bounding_box(),
            page.locator("a.example").first.bounding_box(),
        )
        assert editor and first_question and editor["y"] < first_question["y"]
    # A wide screen still shows the questions to the editor's left.
    with _query_page(tabs, live_server, 1280) as (page, _):
        editor, first_question = (
            page.locator(".code-editor").bounding_box(),
            page.locator("a.example").first.bounding_box(),
        )
        assert editor and first_question and first_question["x"] < editor["x"]


def test_a_timed_out_or_cut_answer_is_told_so_in_the_page_language(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A server of its own with small limits: a query stops after one second (counting a three-way
    # cross join of the article's triples runs far longer) and an answer has at most 1 row. A
    # time-out's 503 says Retry-After, as every 503 does: the page told it as "the server is busy"
    # until the answer said why (X-Govkg-Error).
    server = start_server(tmp_path_factory.mktemp("limits"), "--query-timeout", "1", "--max-result-rows", "1")
    page = new_tab(browser, 390)
    cross_join = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    two_rows = "SELECT ?n WHERE { VALUES ?n { 1 2 } }"
    told_in = {
        "zh": ("查询运行超过 1 秒，已被停止。", "1 行"),
        "en": ("The query took longer than 1 s", "limit of 1 rows"),
    }
    try:
        for language, (timed_out, cut) in told_in.items():
            show(page, f"{server.url}query?lang={language}")
            page.evaluate("text => window.govkgQueryPage.setQuery(text)", cross_join)
            page.click("#run-query")
            expect(page.locator("#result-error strong")).to_have_text(re.compile("^" + re.escape(timed_out)))
            if language == "zh":
                assert english_interface_words(page, "#result-error") == []
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.evaluate("text => window.govkgQueryPage.setQuery(text)", two_rows)
            page.click("#run-query")
            expect(page.locator("#result-truncated")).to_contain_text(cut)
            expect(page.locator("table.results-table tbody tr")).to_have_count(1)
            if language == "zh":
                assert english_interface_words(page, "#result-truncated") == []
    finally:
        page.context.close()
        stop_server(server)
