"""The query page's answer in Chromium: it comes into view and is announced, and its table has a
name; the editor completes every prefix the server knows and labels in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.browser_pages import Tabs, kept_tabs, with_completions


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[Tabs]:
    """A tab per width, kept for the module: each test opens the query page afresh in it."""
    with kept_tabs(browser, height=800) as tabs:
        yield tabs


@pytest.mark.parametrize("width", [390, 1280])
def test_a_tapped_question_answers_in_view_and_is_announced(live_server, tabs, width):
    page = tabs.show(f"{live_server.url}query?lang=en", width)
    question = page.locator("a[data-example='firsts-by-scope']")
    question.scroll_into_view_if_needed()
    question.click()
    table = page.get_by_role("table", name=re.compile(r"^Query results, \d+ rows$"))
    expect(table).to_be_visible()
    announced = page.locator("#result-announce")
    expect(announced).to_have_text(re.compile(r"^\d+ rows? in "))
    expect(announced).to_have_attribute("aria-live", "polite")
    # The results' heading ends up on screen (scrolling is smooth: wait for it to settle).
    page.wait_for_function(
        """() => { const top = document.getElementById('results').getBoundingClientRect().top;
                   return top >= 0 && top < window.innerHeight / 2; }"""
    )
    # The running timer is not read out every second: only the outcome is live.
    assert page.locator("#result-status").get_attribute("aria-live") is None


#: The words of the results table's cells (not its identifiers) that a line break cuts in two.
_CUT_WORDS = """() => {
  const cut = [];
  const body = document.querySelector(".results-table tbody");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(".term-note, a.term-iri:not([lang])")) continue;
    for (const word of node.textContent.matchAll(/[A-Za-z'’]+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set(Array.from(range.getClientRects(), (box) => Math.round(box.top)));
      if (lines.size > 1) cut.push(word[0]);
    }
  }
  return cut;
}"""


def test_on_a_phone_the_results_table_breaks_no_word(live_server, tabs):
    # "governmen/t's", "administrat/ive": cells broke anywhere to fit 390 px.
    page = tabs.show(f"{live_server.url}query?lang=en", 390)
    page.locator("a[data-example='firsts-by-scope']").click()
    expect(page.locator("table.results-table tbody tr").first).to_be_visible()
    page.wait_for_function("() => document.querySelector('.results-table a.term-iri[lang]') !== null")
    assert page.evaluate(_CUT_WORDS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_results_table_is_named_in_chinese(live_server, tabs):
    page = tabs.show(f"{live_server.url}query?lang=zh", 1280)
    page.locator("a[data-example='firsts-by-scope']").click()
    expect(page.get_by_role("table", name=re.compile(r"^查询结果，共 \d+ 行$"))).to_be_visible()


def test_completions_cover_every_known_prefix_and_labels_in_both_languages(live_server):
    answer = requests.get(live_server.url + "query/completions.json?lang=en", timeout=30).json()
    names = {term["name"] for term in answer["terms"]}
    for prefix in "eli rdfs skos qb dcterms prov oa schema dcat gov sd void".split():
        assert any(name.startswith(prefix + ":") for name in names), prefix
    assert {"eli:LegalResource", "skos:prefLabel", "qb:Observation", "rdfs:label"} <= names
    labels = {(item["label"], item["lang"]) for item in answer["resources"]}
    assert ("肇庆市端砚石资源保护条例", "zh") in labels  # a regulation's Chinese title (eli:title)
    assert any(lang == "en" and "Duan Inkstone" in label for label, lang in labels)


@pytest.mark.parametrize(
    ("typed", "offered", "inserted"),
    [
        ("eli:LegalR", "eli:LegalResource", "eli:LegalResource"),
        ("qb:Obs", "qb:Observation", "qb:Observation"),
        ("skos:prefL", "skos:prefLabel", "skos:prefLabel"),
        ("端砚石资源保护", "肇庆市端砚石资源保护条例", "<{base}eli/cn-441200/local-regulation/"),
        ("Duan Inkstone Stone", "Regulations on the Protection of Duan Inkstone", "<{base}eli/cn-441200/"),
    ],
)
def test_the_editor_completes_terms_of_every_prefix_and_labels_in_both_languages(
    live_server, tabs, typed, offered, inserted
):
    page = with_completions(tabs.tab(1280), f"{live_server.url}query?lang=en")
    editor = page.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT * WHERE { ?s ?p " + typed)
    if not typed.isascii():
        # Playwright inserts CJK text as one paste-like input (an IME would compose it):
        # ask for the list as a reader can, with Ctrl+Space.
        page.keyboard.press("Control+Space")
    option = page.locator(".cm-tooltip-autocomplete li", has_text=offered)
    expect(option.first).to_be_visible()
    page.wait_for_timeout(300)  # CodeMirror ignores a pick for 75 ms after the list appears
    option.first.click()
    query = page.evaluate("window.govkgQueryPage.getQuery()")
    assert query.startswith("SELECT * WHERE { ?s ?p " + inserted.format(base=live_server.url)), query
