"""The article page as a map of its facts, in Chromium: every annotated fact is reachable from its
words, words several facts are drawn from open a chooser of them, and each mark is exactly the
words its fact selects (``oa:TextPositionSelector``)."""

from __future__ import annotations

import pytest
import requests
from govkg.graph.source_text import article_text
from playwright.sync_api import Browser, Page

ARTICLE = "id/article-text/xijiang-daily-zhaoqing-rule-of-law"

#: Every annotation on the article with its positions, straight from the graph (the endpoint).
POSITIONED_FACTS = """
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?fact ?start ?end WHERE {
  ?annotation a oa:Annotation ; oa:hasBody ?fact ; oa:hasTarget ?target .
  ?target oa:hasSource <%s> ; oa:hasSelector ?selector .
  ?selector a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
}
"""

#: For each fact number on the page: its link and the words of every run that lists it.
_MAP = """() => {
  const facts = {};
  const text = document.querySelector(".article-text");
  for (const run of text.querySelectorAll(":scope > mark, :scope > details")) {
    const words = run.matches("details") ? run.querySelector("summary").textContent : run.textContent;
    const links = run.matches("details") ? run.querySelectorAll(".fact-list a") : run.querySelectorAll("a");
    for (const link of links) {
      const fact = (facts[link.dataset.fact] ||= { href: link.getAttribute("href"), words: [] });
      fact.words.push(words);
    }
  }
  return facts;
}"""


def _article(browser: Browser, live_server, width: int = 1280, javascript: bool = True) -> Page:  # noqa: ANN001
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}{ARTICLE}?lang=en")
    return page


def _positioned_facts(live_server) -> dict[str, set[tuple[int, int]]]:  # noqa: ANN001
    response = requests.post(
        live_server.sparql_url,
        data={"query": POSITIONED_FACTS % (live_server.url + ARTICLE)},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    facts: dict[str, set[tuple[int, int]]] = {}
    for row in response.json()["results"]["bindings"]:
        facts.setdefault(row["fact"]["value"], set()).add(
            (int(row["start"]["value"]), int(row["end"]["value"]))
        )
    return facts


def test_every_annotated_fact_is_reachable_and_marks_exactly_its_words(live_server, browser):
    expected = _positioned_facts(live_server)
    assert len(expected) > 100  # the article's facts (117 and more)
    page = _article(browser, live_server)
    try:
        on_page = page.evaluate(_MAP)
    finally:
        page.context.close()
    text = article_text()
    reached: dict[str, list[str]] = {}
    for fact in on_page.values():  # one per quote: a fact quoted twice is listed twice
        iri = live_server.url + fact["href"].lstrip("/").split("?")[0]
        reached.setdefault(iri, []).append("".join(fact["words"]))
    assert set(reached) == set(expected), set(expected) ^ set(reached)
    for iri, spans in expected.items():
        assert sorted(reached[iri]) == sorted(text[start:end] for start, end in spans), iri


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [390, 1280])
def test_tapping_the_zero_trip_words_opens_the_zero_trip_fact(live_server, browser, width, javascript):
    page = _article(browser, live_server, width, javascript)
    try:
        words = page.locator(".article-text summary", has_text="1695项实现")
        assert words.count() == 1
        words.click()
        chooser = page.locator(".article-text details[open] .fact-list")
        assert chooser.is_visible()
        links = [link.get_attribute("href").split("?")[0] for link in chooser.get_by_role("link").all()]
        assert links[0] == "/id/observation/matters-zero-trips"  # the most specific fact first
        assert "/id/observation/matters-run-at-most-once" not in links
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        chooser.get_by_role("link").first.click()
        page.wait_for_url("**/id/observation/matters-zero-trips**")
    finally:
        page.context.close()


def test_the_660_words_open_their_own_fact(live_server, browser):
    page = _article(browser, live_server)
    try:
        summary = page.locator(".article-text summary", has_text="660项实现")
        summary.click()
        first = page.locator(".article-text details[open] .fact-list a").first
        assert first.get_attribute("href").split("?")[0] == "/id/observation/matters-run-at-most-once"
    finally:
        page.context.close()


def test_the_marks_are_calm_until_the_reader_asks(live_server, browser):
    page = _article(browser, live_server)
    try:
        painted = page.evaluate(
            """() => [...document.querySelectorAll('.article-text mark')]
                 .filter((mark) => getComputedStyle(mark).backgroundColor !== 'rgba(0, 0, 0, 0)').length"""
        )
        assert painted == 0  # only underlined: no background until pointed at, focused or opened
        closed = page.locator(".article-text details:not([open]) .fact-list").first
        assert not closed.is_visible()
        mark = page.locator(".article-text > mark a").first
        mark.focus()
        assert mark.evaluate("(a) => getComputedStyle(a).backgroundColor") != "rgba(0, 0, 0, 0)"
    finally:
        page.context.close()
