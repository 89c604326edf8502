"""Charts one can read, in Chromium at 390 and 1280 px: the value axis names its measure and unit,
labels break between words (or Chinese characters), never inside one, one unit per chart, a
legend where a bar is singled out, and the home page draws its statistics."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_pages import Tabs, kept_tabs
from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[Tabs]:
    """A tab per width, kept for the module: each test opens its page afresh in it, ready when its
    near-screen charts are drawn (tests/browser_pages.py)."""
    with kept_tabs(browser) as tabs:
        yield tabs


def _drawn_texts(page: Page, selector: str) -> list[str]:
    chart = page.locator(selector).first
    chart.scroll_into_view_if_needed()
    expect(chart.locator("svg")).to_be_visible()
    return chart.locator("svg text").all_text_contents()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_chart_titles_its_axis_with_the_unit_and_never_breaks_a_word(
    live_server: LiveServer, tabs: Tabs, width: int
) -> None:
    page = tabs.show(f"{live_server.url}id/dataset-cube/major-decision-review-rates?lang=en", width)
    texts = _drawn_texts(page, ".chart")
    joined = " ".join(texts)
    assert "(percent)" in joined, texts
    categories = page.locator("table.series tbody th").all_text_contents()
    words = {word for label in categories for word in label.split()} | {"rate", "(percent)"}
    for text in texts:
        for word in text.split():
            assert re.fullmatch(r"[\d,.%…]+", word) or word.rstrip("…") in words or word in joined, (
                f"{word!r} is not a whole word of a label: {texts}"
            )
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_values_of_different_units_get_a_chart_each(live_server: LiveServer, tabs: Tabs) -> None:
    page = tabs.show(f"{live_server.url}id/dataset-cube/legal-acts-made?lang=en", 1280)
    expect(page.locator(".chart-section p.muted", has_text="2 different units")).to_be_visible()
    charts = page.locator(".chart-section .chart")
    assert charts.count() == 2
    titles = [" ".join(_drawn_texts(page, f".chart[data-chart='chart-data-{n}']")) for n in (1, 2)]
    assert "(documents)" in titles[0] and "(acts)" in titles[1], titles
    # The table says the values with their units, in the plural where English has one.
    cells = page.locator("table.series td.number").all_text_contents()
    assert any(re.fullmatch(r"38\s+documents", cell.strip()) for cell in cells), cells


def test_a_singled_out_bar_has_a_legend(live_server: LiveServer, tabs: Tabs) -> None:
    page = tabs.show(f"{live_server.url}id/observation/business-opening-time-step-1?lang=zh", 390)
    expect(page.locator(".chart-legend")).to_contain_text("本观测值")
    assert "（天）" in " ".join(_drawn_texts(page, ".chart"))


@pytest.mark.parametrize(("width", "language"), [(390, "zh"), (1280, "en")])
def test_the_home_page_draws_its_statistics(
    live_server: LiveServer, tabs: Tabs, width: int, language: str
) -> None:
    page = tabs.show(f"{live_server.url}?lang={language}", width)
    boxes = page.locator(".home-charts .chart")
    assert boxes.count() >= 10
    for index in range(boxes.count()):
        boxes.nth(index).scroll_into_view_if_needed()
    expect(page.locator(".home-charts .chart[data-drawn='true'] svg")).to_have_count(boxes.count())
    assert page.evaluate("document.documentElement.scrollWidth") <= width


_LABEL_BOXES = """() => {
  const cy = govkgGraph.instance(document.querySelector('.diagram-section .graph'));
  return cy.nodes().map(n => ({ name: n.data('full'), box: n.boundingBox({ includeLabels: true }) }));
}"""


@pytest.mark.parametrize("language", ["en", "zh"])
def test_at_1280_px_no_two_names_in_a_diagram_overlap_and_arrows_are_named_on_hover(
    live_server: LiveServer, tabs: Tabs, language: str
) -> None:
    page = tabs.show(f"{live_server.url}id/place/zhaoqing?lang={language}", 1280)
    page.locator(".diagram-section .graph").scroll_into_view_if_needed()
    expect(page.locator(".graph[data-drawn='true']")).to_be_visible()
    boxes = page.evaluate(_LABEL_BOXES)
    assert len(boxes) > 20
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            a, b = first["box"], second["box"]
            apart = a["x2"] <= b["x1"] or b["x2"] <= a["x1"] or a["y2"] <= b["y1"] or b["y2"] <= a["y1"]
            assert apart, f"{first['name']!r} overlaps {second['name']!r}"
    # An arrow's name shows when the pointer is on either of its ends.
    named = page.evaluate(
        "() => { const cy = govkgGraph.instance(document.querySelector('.diagram-section .graph'));"
        " const node = cy.nodes().filter(n => n.data('role') === 'in')[0]; node.emit('mouseover');"
        " return node.connectedEdges().map(e => e.hasClass('named') && e.data('name')); }"
    )
    assert named and all(named), named


_FOCUSED = """() => {
  const cy = govkgGraph.instance(document.querySelector('.diagram-section .graph'));
  const focused = cy.nodes('.focused');
  return {
    active: document.activeElement === document.querySelector('.diagram-section .graph'),
    focused: focused.map(n => n.data('full')),
    href: focused.map(n => n.data('href')),
    named: cy.edges('.named').map(e => e.data('full')).sort(),
    arrows: focused.connectedEdges().map(e => e.data('full')).sort(),
    status: document.querySelector('.graph-status').textContent,
  };
}"""


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_keyboard_walks_a_diagram_and_names_the_arrows_of_the_node_it_is_on(
    live_server: LiveServer, tabs: Tabs, language: str
) -> None:
    # Edge names on hover *or focus* (issue 20): the drawing is one Tab stop, the arrow keys walk
    # its nodes, the node walked to has its arrows named and told in a status line; Enter opens it.
    page = tabs.show(f"{live_server.url}id/place/zhaoqing?lang={language}", 1280)
    graph = page.locator(".diagram-section .graph")
    graph.scroll_into_view_if_needed()
    expect(page.locator(".graph[data-drawn='true']")).to_be_visible()
    for _ in range(100):  # from the top of the page, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('graph')"):
            break
    state = page.evaluate(_FOCUSED)
    assert state["active"], "Tab never reaches the diagram"
    # The resource itself first, its arrows named.
    assert state["focused"] == [{"en": "Zhaoqing", "zh": "肇庆市"}[language]]
    assert state["named"] == state["arrows"] and len(state["arrows"]) > 5
    page.keyboard.press("ArrowRight")
    state = page.evaluate(_FOCUSED)
    (name,) = state["focused"]
    assert name not in ("Zhaoqing", "肇庆市") and state["named"] == state["arrows"] and state["arrows"]
    assert state["status"].startswith(name) and all(arrow in state["status"] for arrow in state["arrows"])
    expect(graph).to_have_attribute("role", "application")
    assert page.evaluate("window.scrollY") > 0  # the arrow keys did not scroll the page
    page.keyboard.press("Tab")
    assert page.evaluate(_FOCUSED)["named"] == []  # leaving the drawing unnames its arrows
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(_FOCUSED)["focused"] == [name]  # back where it was
    for _ in range(len(state["arrows"]) + 60):  # on to a resource of this site (not GeoNames)
        page.keyboard.press("ArrowRight")
        state = page.evaluate(_FOCUSED)
        if state["href"][0].startswith("/id/"):
            break
    assert state["focused"] != [name]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server.url.rstrip("/") + state["href"][0]


def test_a_query_answer_with_several_units_draws_one_unit_at_a_time(
    live_server: LiveServer, tabs: Tabs
) -> None:
    # The stored question listing every figure: ranks, percentages, days and 220,000 entities.
    page = tabs.show(f"{live_server.url}query?lang=en&example=statistics-overview", 1280)
    expect(page.locator("table.results-table tbody tr").first).to_be_visible()
    page.locator("[data-view='bar']").click()
    unit = page.locator("select[data-choice='unit']")
    expect(unit).to_be_visible()
    units = unit.locator("option").all_text_contents()
    assert len(units) > 2 and "percent" in units, units
    expect(page.locator(".view-switch p.hint", has_text="different units")).to_be_visible()
    unit.select_option("percent")
    # Drawn again for the unit chosen (the assertions retry until the redrawn chart says so).
    chart = page.locator(".result-chart svg")
    expect(chart).to_contain_text("(percent)")
    expect(chart).not_to_contain_text("220,000")
