"""Pages in headless Chromium for the browser test modules: a tab, a page ready to be checked, and
the checks several modules make (axe-core under the site's CSP, English words on a Chinese page).

A page is ready when it has loaded (its deferred scripts have run) and drawn what its scripts draw
near the screen (:data:`DRAWN`), not after half a second of network quiet: a test whose point is
the network itself (test_assets' bundles) waits for that instead. A tab costs Chromium a renderer
process (about half a second); a navigation does not, so a module keeps its tabs
(:class:`Tabs`) where its tests need no fresh state beyond a fresh document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

#: Words that stay as they are on a Chinese page: names of standards, formats and keys.
NAMES = {
    "govkg",
    "SPARQL",
    "RDF",
    "PREFIX",
    "SERVICE",
    "CONSTRUCT",
    "DESCRIBE",
    "API",
    "OpenAPI",
    "JSON",
    "LD",
    "Turtle",
    "Triples",
    "XML",
    "Quads",
    "TriG",
    "CSV",
    "Excel",
    "TSV",
    "VoID",
    "DCAT",
    "AP",
    "IRI",
    "URI",
    "HTTP",
    "CC",
    "BY",
    "SHA",
    "gzip",
    "Ctrl",
    "Enter",
    "Esc",
    "Tab",
    "UTC",
    "GeoNames",
    "Data",
    "Cube",
    "W3C",
    "ORG",
    "PROV",
    "Web",
    "Annotation",
    "English",
    "N",
    "B",
    "KiB",
    "MiB",
    "ELI",
    "SKOS",
    "OWL",
    "XSD",
    "gov",
    "LODE",
    "pyLODE",
    "OntPub",
    "PROV-O",
    "JSON-LD",
    "N-Triples",
    "N-Quads",
    "SHA-256",
    "DCAT-AP",
    "GB",
    "T",
    "ISO",
}

#: True once every chart or diagram near the screen is drawn and nothing else is on its way.
#: ``static/visuals.js`` fetches a drawing bundle when its first element comes within 400 px of
#: the screen, and the bundle marks each element it draws ``data-drawn``; an element out of that
#: reach, or not shown (a phone shows a resource's links as a list instead), is never drawn
#: without scrolling. An element marked ``data-pending`` is waiting for a bundle fetched after the
#: first paint (the query page's textarea, for the editor), and loses the mark when it is on.
DRAWN = """() => !document.querySelector("[data-pending]")
  && Array.from(document.querySelectorAll("[data-bundle]")).every((element) => {
    if (element.dataset.drawn === "true" || !element.checkVisibility()) return true;
    const box = element.getBoundingClientRect();
    return box.bottom < -400 || box.top > window.innerHeight + 400;
  })"""

#: True once the query page's editor has its completions (its box's ``data-completions`` mark).
COMPLETIONS_LOADED = """() => {
  const editor = document.querySelector(".code-editor");
  return editor !== null && editor.dataset.completions === "loaded";
}"""

#: The text a reader sees as the interface: not the data (elements with a lang of their own,
#: code, IRIs, literals), not the hidden text.
INTERFACE_TEXT = """(only) => {
  const skip = [
    "script, style, code, pre, textarea, [lang]:not(html), [translate=no]",
    ".iri, .iri-inline, .literal, .term-note, .tag, .code-editor, [hidden], sup",
  ].join(", ");
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || !parent.checkVisibility()) continue;
    if (only && !parent.closest(only)) continue;
    words.push(node.textContent);
  }
  for (const element of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (element.closest(skip)) continue;
    for (const name of ["aria-label", "placeholder"]) {
      if (element.getAttribute(name)) words.push(element.getAttribute(name));
    }
  }
  return words.join("\\n");
}"""


def new_tab(browser: Browser, width: int = 1280, height: int = 900, **options: Any) -> Page:  # noqa: ANN401
    """A tab in a context of its own, ``width`` px wide; ``options`` go to the context."""
    page = browser.new_context(viewport={"width": width, "height": height}, **options).new_page()
    page.set_default_timeout(15_000)
    return page


def show(page: Page, url: str) -> Page:
    """Navigate ``page`` to ``url`` and wait until it is ready (loaded, near-screen visuals drawn)."""
    page.goto(url)
    page.wait_for_function(DRAWN)
    return page


def with_completions(page: Page, url: str) -> Page:
    """``page`` at the query page ``url``, ready, with the editor's completions loaded: the editor
    fetches its terms and labels once it is made, marks its box when they are in, and a test that
    types must wait for them."""
    show(page, url)
    page.wait_for_function(COMPLETIONS_LOADED)
    return page


def open_page(browser: Browser, url: str, width: int = 1280, **options: Any) -> Page:  # noqa: ANN401
    """``url`` ready in a new tab (the caller closes ``page.context``)."""
    return show(new_tab(browser, width, **options), url)


class Tabs:
    """One kept tab per width (its context made with ``options``), opened when first asked for."""

    def __init__(self, browser: Browser, height: int = 900, **options: Any) -> None:  # noqa: ANN401
        self.browser, self.height, self.options = browser, height, options
        self.pages: dict[int, Page] = {}

    def tab(self, width: int) -> Page:
        """The tab ``width`` px wide, as it is."""
        if width not in self.pages:
            self.pages[width] = new_tab(self.browser, width, self.height, **self.options)
        return self.pages[width]

    def show(self, url: str, width: int) -> Page:
        """The tab ``width`` px wide, navigated to ``url`` and ready."""
        return show(self.tab(width), url)

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@contextmanager
def kept_tabs(browser: Browser, height: int = 900, **options: Any) -> Iterator[Tabs]:  # noqa: ANN401
    """:class:`Tabs` for a module fixture, closed after its last test."""
    tabs = Tabs(browser, height, **options)
    try:
        yield tabs
    finally:
        tabs.close()


def english_interface_words(page: Page, only: str | None = None) -> list[str]:
    """The English words of ``page``'s interface text (within ``only``, a selector, if given)
    that are not :data:`NAMES`."""
    text = page.evaluate(INTERFACE_TEXT, only)
    return sorted({word for word in re.findall(r"[A-Za-z][A-Za-z0-9-]*", text) if word not in NAMES})


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def serious_axe_violations(page: Page, include: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical violations on ``page`` (only within the ``include``
    selectors, if given), one line each.

    axe is evaluated through the DevTools protocol, which the site's CSP does not govern (a
    <script> tag would be refused): it checks the page as it is served, its CSP in force. It
    adds its script to the page: check it last.
    """
    page.evaluate(_axe_source())
    context = [[selector] for selector in include] if include else None
    run = "(context) => axe.run(context ? {include: context} : document, {resultTypes: ['violations']})"
    results = page.evaluate(run, context)
    return [
        f"axe {violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in violation["nodes"][:3]
        )
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
