"""Every page type in headless Chromium, as a reader on a phone or a desktop would see it.

The real server runs as a subprocess (the session's ``live_server``). Checked here: no page
is wider than a 390 px phone, axe-core finds no serious or critical accessibility
violation (zh and en, 390 and 1280 px), the Chinese interface has no English interface words,
the English figure cards say their figures right and the Chinese catalogue names its themes in
Chinese, the editor completes a prefix, and a Data Cube dataset page draws its chart. axe-core
comes from ``node_modules`` (``npm ci``, which scripts/install-test-deps.sh runs).

Each page type is loaded once per view (width and language) and every check of that view is
made on that one load, in a tab the view keeps open (a new tab costs Chromium a renderer
process, about half a second; a navigation does not). A page is ready when it has loaded and
drawn what its scripts draw near the screen (``DRAWN`` in tests/browser_pages.py, with the
checks this module shares with the other browser modules), not after half a second of network
quiet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser_pages import (
    DRAWN,
    Tabs,
    english_interface_words,
    kept_tabs,
    open_page,
    serious_axe_violations,
    show,
    with_completions,
)
from tests.conftest import LiveServer

#: One page of each type.
PAGE_TYPES = {
    "home": "/",
    "query": "/query",
    "questions": "/queries/",
    "place": "/id/place/zhaoqing",
    "observation": "/id/observation/matters-run-at-most-once",
    "dataset": "/id/dataset-cube/business-opening-time",
    "article-text": "/id/article-text/xijiang-daily-zhaoqing-rule-of-law",
    "named-graph": "/graph/links",
    "ontology": "/ontology",
    "dumps": "/dumps/",
    "void": "/.well-known/void",
    "catalog": "/catalog",
    "not-found": "/id/place/nowhere",
}


def _wider_than_the_screen(page: Page, name: str) -> list[str]:
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.viewport_size["width"] if page.viewport_size else 0
    return [f"{width} px wide on a {screen} px screen"] if width > screen else []


def _english_interface_words(page: Page, name: str) -> list[str]:
    # pyLODE writes the ontology's own data (terms of other vocabularies, IRIs) among its
    # words: there, the site's header and footer and pyLODE's headings are the interface.
    only = "header, nav, footer, h1, h2, h3, h4, th, .skip-link" if name == "ontology" else None
    english = english_interface_words(page, only)
    return [f"English words on the Chinese page: {english}"] if english else []


def _serious_axe_violations(page: Page, name: str) -> list[str]:
    return serious_axe_violations(page)


#: Each name of the phone's link list with the places its links go.
_LINK_LIST = """() => {
  const names = {};
  for (const link of document.querySelectorAll(".diagram-list a")) {
    (names[link.textContent.trim()] ||= new Set()).add(link.getAttribute("href"));
  }
  return Object.entries(names).filter(([, places]) => places.size > 1).map(([name]) => name);
}"""


def _link_list_names_tell_links_apart(page: Page, name: str) -> list[str]:
    # The Chinese article-text page listed three annotations as the same 24 characters of quote.
    alike = page.evaluate(_LINK_LIST)
    return [f"one name in the link list for links to different places: {alike}"] if alike else []


#: The English figure cards say each figure as English does: plurals, "or more", ordinal ranks
#: (the cards read "7 day", "220,000 market entity", "90 percent", "2 month" and a bare "1").
_ENGLISH_FIGURES = [
    "7 days",
    "220,000 market entities",
    "90 percent or more",
    "2 months or more",
    "1st",
    "4th",
]
_WRONG_FIGURES = re.compile(r"^(7 day|220,000 market entity|2 month|90 percent|\d+)$")


def _figure_cards_say_the_figures_right(page: Page, name: str) -> list[str]:
    if name != "home":
        return []
    cards = [" ".join(text.split()) for text in page.locator(".figure-card .figure-line").all_inner_texts()]
    missing = [figure for figure in _ENGLISH_FIGURES if figure not in cards]
    wrong = [card for card in cards if _WRONG_FIGURES.match(card)]
    return [f"figure cards {cards}: missing {missing}, wrong {wrong}"] if missing or wrong else []


def _themes_in_chinese(page: Page, name: str) -> list[str]:
    if name != "catalog":
        return []
    row = page.locator("tr", has=page.locator("th", has_text="主题"))
    themes = row.locator("td a").all_inner_texts()
    if "政府和公共部门" in themes and not any(re.search("[A-Za-z]", theme) for theme in themes):
        return []
    return [f"the catalogue's themes are not in Chinese: {themes}"]


Check = Callable[[Page, str], list[str]]

#: Where every page type is looked at (width in px, interface language) and what is checked
#: there: no page wider than a phone, in either language; axe-core at both widths in both
#: languages (English names are longer: at 390 px the ontology's legend overflowed its box); no
#: English interface word on the Chinese page at either width (a phone lists a resource's links
#: where a desktop draws them), and no name in that list shared by links to different places; the
#: English figure cards and the Chinese catalogue's themes as a reader sees them. axe comes last:
#: it adds its script to the page.
VIEWS: dict[str, tuple[int, str, tuple[Check, ...]]] = {
    "phone-zh": (
        390,
        "zh",
        (
            _wider_than_the_screen,
            _english_interface_words,
            _link_list_names_tell_links_apart,
            _serious_axe_violations,
        ),
    ),
    "phone-en": (
        390,
        "en",
        (
            _wider_than_the_screen,
            _link_list_names_tell_links_apart,
            _figure_cards_say_the_figures_right,
            _serious_axe_violations,
        ),
    ),
    "desktop-zh": (1280, "zh", (_english_interface_words, _themes_in_chinese, _serious_axe_violations)),
    "desktop-en": (1280, "en", (_figure_cards_say_the_figures_right, _serious_axe_violations)),
}


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[dict[str, Page]]:
    """One open tab per view, navigated from page type to page type."""
    tabs = {}
    for view, (width, _language, _checks) in VIEWS.items():
        tab = browser.new_context(viewport={"width": width, "height": 900}).new_page()
        tab.set_default_timeout(15_000)
        tabs[view] = tab
    yield tabs
    for tab in tabs.values():
        tab.context.close()


@pytest.fixture(scope="module")
def kept(browser: Browser) -> Iterator[Tabs]:
    """A tab per width for the tests below, kept for the module (each opens its page afresh)."""
    with kept_tabs(browser) as tabs:
        yield tabs


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", PAGE_TYPES)
def test_every_page_type_fits_a_phone_passes_axe_and_speaks_its_language(
    live_server: LiveServer, tabs: dict[str, Page], name: str, view: str
) -> None:
    width, language, checks = VIEWS[view]
    page = tabs[view]
    page.goto(f"{live_server.url}{PAGE_TYPES[name][1:]}?lang={language}")
    page.wait_for_function(DRAWN)
    problems = [problem for check in checks for problem in check(page, name)]
    assert problems == [], f"{name} at {width} px ({language}):\n" + "\n".join(problems)


def test_the_editor_completes_a_prefix(live_server, kept):
    # gov:FirstMoverAchievement is among the terms the editor fetches: typed once they are in.
    page = with_completions(kept.tab(1280), f"{live_server.url}query?lang=en")
    editor = page.locator(".cm-content")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT * WHERE { ?s a gov:FirstM")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="gov:FirstMoverAchievement")
    expect(option.first).to_be_visible()
    # CodeMirror ignores keys for 75 ms after the list appears (its interactionDelay).
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    assert (
        page.evaluate("window.govkgQueryPage.getQuery()") == "SELECT * WHERE { ?s a gov:FirstMoverAchievement"
    )
    assert page.locator("#query").input_value() == "SELECT * WHERE { ?s a gov:FirstMoverAchievement"
    # A prefix itself, from its first letters.
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT * WHERE { ?s skos")
    expect(page.locator(".cm-tooltip-autocomplete li", has_text="skos:").first).to_be_visible()


def test_a_syntax_error_is_marked_at_the_users_own_line_and_column(live_server, kept):
    page = kept.show(f"{live_server.url}query?lang=zh", 1280)
    # One line, a known prefix undeclared: the page declares it in the query it sends.
    page.evaluate("text => window.govkgQueryPage.setQuery(text)", "SELECT ?s WHERE { ?s rdfs:label }")
    page.click("#run-query")
    expect(page.locator("#result-error")).to_contain_text("查询有误 位于第 1 行第 33 列")
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)


def test_a_chart_is_drawn_on_a_dataset_page(live_server, kept):
    page = kept.show(f"{live_server.url}id/dataset-cube/business-opening-time?lang=zh", 1280)
    chart = page.locator(".chart[data-drawn='true']")
    expect(chart).to_be_visible()
    # ECharts draws with SVG: one bar per observation (7, 3 and 1 days), labelled with its value.
    expect(chart.locator("svg")).to_be_visible()
    labels = chart.locator("svg text").all_text_contents()
    assert {"7", "3", "1"} <= set(labels)
    box = chart.bounding_box()
    assert box and box["height"] > 100 and box["width"] > 300


def test_query_results_sort_and_switch_to_a_chart(live_server, kept):
    query = "SELECT ?label ?n WHERE { ?o gov:itemCount ?n ; rdfs:label ?label FILTER(LANG(?label) = 'en') }"
    page = kept.show(f"{live_server.url}query?lang=zh&query={query}", 1280)
    cells = page.locator("table.results-table tbody td.number")
    expect(cells.first).to_be_visible()
    page.locator("table.results-table th.number button").click()
    values = cells.all_text_contents()
    assert "1695" in values and values == sorted(values, key=lambda v: float(v.replace("万", "e4")))
    page.locator("[data-view='bar']").click()
    expect(page.locator(".result-chart svg")).to_be_visible()


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: The Cytoscape core drawing into the first element a selector matches (govkgGraph keeps them).
_CY = "govkgGraph.instance(document.querySelector('{}'))"


def _sparql_count(server_url: str, query: str) -> int:
    response = requests.post(
        server_url + "sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_a_resource_page_draws_its_neighbourhood_and_a_node_opens_its_page(live_server, kept):
    place = f"{live_server.url}id/place/zhaoqing"
    refused: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page = kept.tab(1280)
    page.on("console", listen)
    show(page, f"{place}?lang=en")
    try:
        diagram = page.locator(".graph[data-drawn='true']")
        expect(diagram).to_be_visible()
        nodes = page.evaluate(_CY.format(".graph") + ".nodes().length")
        # One node per resource it links to or that links to it (the store's count, asked
        # independently), besides the resource itself; those beyond the diagram's limit are counted.
        neighbours = _sparql_count(
            live_server.url,
            f"SELECT (COUNT(DISTINCT ?n) AS ?n) WHERE {{ {{ <{place}> ?p ?n FILTER(?p != <{RDF_TYPE}>) }}"
            f" UNION {{ ?n ?p <{place}> }} FILTER(isIRI(?n) && ?n != <{place}>) }}",
        )
        left_out = page.locator(".diagram-section p.muted", has_text="more linked resources")
        shown_left_out = int(left_out.text_content().split()[0]) if left_out.count() else 0
        assert nodes - 1 + shown_left_out == neighbours and nodes > 5
        labels = page.evaluate(
            "govkgGraph.instance(document.querySelector('.graph')).nodes().map(n => n.data('full'))"
        )
        assert "Guangdong" in labels and "Zhaoqing" in labels
        assert refused == []  # Cytoscape's own <style> would be refused by the CSP
        # A click on a node (where Cytoscape drew it) opens that resource's page.
        position = page.evaluate(
            "() => { const cy = govkgGraph.instance(document.querySelector('.graph'));"
            " const node = cy.nodes().filter(n => n.data('full') === 'Guangdong')[0];"
            " return node.renderedPosition(); }"
        )
        box = diagram.bounding_box()
        assert box is not None
        with page.expect_navigation():
            page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        assert page.url == f"{live_server.url}id/place/guangdong?lang=en"
    finally:
        page.remove_listener("console", listen)


def test_without_javascript_the_resource_page_keeps_its_tables_and_no_empty_diagram(live_server, browser):
    page = open_page(browser, f"{live_server.url}id/place/zhaoqing?lang=zh", java_script_enabled=False)
    try:
        expect(page.locator(".diagram-section")).to_be_hidden()
        expect(page.locator("table a[href='/id/place/guangdong?lang=zh']").first).to_be_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_construct_answer_switches_to_a_graph_view(live_server, kept, width):
    zhaoqing = f"<{live_server.url}id/place/zhaoqing>"
    query = quote(f"CONSTRUCT {{ {zhaoqing} ?p ?o }} WHERE {{ {zhaoqing} ?p ?o }}")
    page = kept.show(f"{live_server.url}query?lang=zh&query={query}", width)
    rows = page.locator("table.results-table tbody tr")
    expect(rows.first).to_be_visible()
    # The labels the table asks for once it is drawn (the graph names its nodes with them).
    expect(rows.locator(".term-note").first).to_be_attached()
    assert page.evaluate("typeof window.govkgGraph") == "undefined"  # fetched only when asked for
    page.locator("[data-view='graph']").click()
    graph = page.locator(".result-graph[data-drawn='true']")
    expect(graph).to_be_visible()
    expect(page.locator("table.results-table")).to_be_hidden()
    edges = page.evaluate(_CY.format(".result-graph") + ".edges().length")
    labels = page.evaluate(_CY.format(".result-graph") + ".nodes().map(n => n.data('full'))")
    assert edges == rows.count() and "广东" in labels and "肇庆市" in labels
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The keyboard walks it as it walks a resource's diagram, naming the arrows of the node it is on.
    expect(graph).to_have_attribute("aria-description", re.compile("方向键"))
    graph.focus()
    page.keyboard.press("ArrowRight")
    named = page.evaluate(_CY.format(".result-graph") + ".edges('.named').map(e => e.data('full'))")
    assert named and all(name in page.locator(".graph-status").text_content() for name in named)
    page.locator("[data-view='table']").click()
    expect(page.locator("table.results-table")).to_be_visible()
