"""End to end in headless Chromium: the query page, a competency question, a resource page's evidence."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _run(page: Page, query: str) -> None:
    # The textarea is replaced by the CodeMirror editor; the page's script sets its text.
    page.evaluate("text => window.govkgQueryPage.setQuery(text)", query)
    page.click("#run-query")


def test_query_page_end_to_end(live_server, tmp_path: Path):
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="en-US",
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            console_errors: list[str] = []
            page.on(
                "console", lambda message: message.type == "error" and console_errors.append(message.text)
            )
            page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
            rows = page.locator("table.results-table tbody tr")

            # A competency question: one click loads its query; Run shows the table.
            page.goto(live_server.url + "query")
            examples = page.locator("li:has(> a[data-example])")
            page.fill("#example-filter", "firsts scope")
            expect(page.locator("a[data-example='firsts-by-scope']")).to_be_visible()
            expect(page.locator("a[data-example='evidence-for-a-resource']")).to_be_hidden()
            page.fill("#example-filter", "")
            expect(page.locator("li:has(> a[data-example]):visible")).to_have_count(examples.count())
            page.click("a[data-example='firsts-by-scope']")
            expect(page.locator("#query")).to_have_value(re.compile(r"gov:FirstMoverAchievement"))
            page.click("#run-query")
            expect(rows.first).to_be_visible()
            expect(page.locator("#result-status")).to_have_text(re.compile(r"^\d+ rows? in "))
            expect(page.locator("#result-truncated")).to_be_hidden()
            expect(page.locator("#result-error")).to_be_hidden()
            expect(page.locator("a[data-example='firsts-by-scope']")).to_have_attribute(
                "aria-current", "true"
            )

            # The address bar carries the query, the share box the question's short link; downloads
            # are the registry's formats (and CSV for Excel: the same with a byte-order mark).
            shared = parse_qs(urlsplit(page.url).query)["query"][0]
            assert "gov:FirstMoverAchievement" in shared
            expect(page.locator("#share-url")).to_have_value(re.compile(r"/query\?example=firsts-by-scope$"))
            hrefs = page.locator("#download-links a").evaluate_all("links => links.map(link => link.href)")
            formats = [parse_qs(urlsplit(href).query)["format"][0] for href in hrefs]
            assert [name for name, href in zip(formats, hrefs, strict=True) if "bom=1" not in href] == [
                fmt.name for fmt in RESULTS_FORMATS
            ]
            assert all(urlsplit(href).path == "/sparql" for href in hrefs)

            # IRIs under the base link to their resource pages and show their labels, not their names.
            achievement = page.locator("table.results-table a[href*='/id/achievement/']").first
            expect(achievement).not_to_have_text(re.compile(r"^govid:"))
            page.screenshot(path=str(tmp_path / "query-page.png"), full_page=True)
            assert console_errors == [], "no script errors and no CSP violations"

            # Follow one: its resource page shows the article's words that state it.
            achievement.click()
            expect(page).to_have_url(re.compile(r"/id/achievement/"))
            expect(page.locator(".evidence mark").first).to_be_visible()
            expect(page.locator(".evidence mark").first).not_to_be_empty()

            # Back on the share URL, the query runs again by itself.
            page.go_back()
            expect(rows.first).to_be_visible()

            # Known prefixes need no PREFIX line; the page says which it added.
            _run(page, "SELECT ?label WHERE { ?s a gov:FirstMoverAchievement ; rdfs:label ?label } LIMIT 3")
            expect(rows).to_have_count(3)
            expect(page.locator("#prefixes-added")).to_contain_text("gov: rdfs:")

            # A graph answer is a subject / predicate / object table, downloadable in the RDF formats.
            _run(
                page,
                'CONSTRUCT { ?s gov:note "say \\"hi\\"" } WHERE { ?s a gov:FirstMoverAchievement } LIMIT 2',
            )
            expect(page.locator("table.results-table th")).to_have_text(["subject", "predicate", "object"])
            expect(rows).to_have_count(2)
            expect(rows.first.locator("td").nth(2)).to_have_text('say "hi"')
            hrefs = page.locator("#download-links a").evaluate_all("links => links.map(link => link.href)")
            assert [parse_qs(urlsplit(href).query)["format"][0] for href in hrefs] == [
                fmt.name for fmt in RDF_FORMATS
            ]

            # An ASK answer is a sentence.
            _run(page, "ASK { ?s a gov:FirstMoverAchievement }")
            expect(page.locator(".answer-boolean")).to_have_text("Answer: yes (true)")

            # A hostile literal is shown as text: nothing is injected.
            hostile = '<img src=x onerror="window.injected=1">'
            _run(page, f"SELECT ?x WHERE {{ BIND('{hostile}' AS ?x) }}")
            expect(rows.first.locator("td")).to_have_text(hostile)
            assert page.locator("table.results-table img").count() == 0
            assert page.evaluate("window.injected") is None

            # A bad query: the endpoint's 400 text is shown.
            _run(page, "SELECT ?s WHERE { ?s ?p }")
            expect(page.locator("#result-error")).to_contain_text("The query has an error")
            expect(page.locator("#result-error pre")).not_to_be_empty()

            # A time-out and a truncated answer: test_query_keyboard, at a server with small limits.
        finally:
            context.close()
