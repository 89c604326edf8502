"""Fast on phones: static files under content-hashed names, cached for a year and compressed;
HTML revalidated; each page loads only the bundles it draws with; no layout shift from the
diagram or the chart; a meta description on every page. Real server, real HTTP, real Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser_pages import COMPLETIONS_LOADED, DRAWN, new_tab
from tests.conftest import PROJECT_ROOT, LiveServer
from tests.test_web_pages import PAGE_TYPES

STATIC = PROJECT_ROOT / "server" / "web" / "static"
# In an attribute, or in the query page's data (the bundles its script fetches: "editor_script" …).
_HASHED = re.compile(r'(?:(?:src|href|data-bundle)=|_script": )"(/static/[^"]+)"')


def _open(browser: Browser, url: str, width: int = 1280) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page


def _assets_of(server: LiveServer, path: str) -> list[str]:
    return _HASHED.findall(requests.get(server.url + path.lstrip("/"), timeout=30).text)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("name", PAGE_TYPES)
def test_every_page_has_a_meta_description_and_is_revalidated(
    live_server: LiveServer, name: str, language: str
) -> None:
    response = requests.get(
        live_server.url + PAGE_TYPES[name][1:],
        params={"lang": language},
        headers={"Accept": "text/html"},
        timeout=30,
    )
    match = re.search(r'<meta name="description" content="([^"]{40,})">', response.text)
    assert match, f"{name} ({language}) has no meta description"
    if language == "zh":
        assert re.search("[\u4e00-\u9fff]", match.group(1)), match.group(1)
    assert response.headers["Cache-Control"] == "no-cache"


def test_static_files_have_hashed_names_a_year_of_cache_and_compression(live_server: LiveServer) -> None:
    assets = set(_assets_of(live_server, "/query") + _assets_of(live_server, "/id/place/zhaoqing"))
    assert {"govkg", "query", "editor", "graph", "visuals", "favicon"} <= {
        Path(url).name.split(".")[0] for url in assets
    }
    for url in assets:
        assert re.fullmatch(r"/static/(vendor/)?[a-z]+\.[0-9a-f]{12}\.(js|css|svg)", url), url
        response = requests.get(live_server.url + url[1:], headers={"Accept-Encoding": "gzip"}, timeout=30)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        plain = url.replace("/static/", "").split(".")
        original = STATIC / f"{plain[0]}.{plain[-1]}"
        assert response.content == original.read_bytes()  # requests undid the gzip
        if len(response.content) > 1024:
            assert response.headers["Content-Encoding"] == "gzip", url
    bundle = next(url for url in assets if "/vendor/editor." in url)
    brotli = requests.get(
        live_server.url + bundle[1:], headers={"Accept-Encoding": "br"}, stream=True, timeout=30
    )
    assert brotli.headers["Content-Encoding"] == "br" and "Accept-Encoding" in brotli.headers["Vary"]
    assert int(brotli.headers["Content-Length"]) < (STATIC / "vendor" / "editor.js").stat().st_size / 3
    revalidated = requests.get(
        live_server.url + bundle[1:],
        headers={"If-None-Match": brotli.headers["ETag"], "Accept-Encoding": "br"},
        timeout=30,
    )
    assert revalidated.status_code == 304
    # A name that is not the current content is stale: not found, never cached as if it were.
    stale = re.sub(r"\.[0-9a-f]{12}\.", ".000000000000.", bundle)
    assert requests.get(live_server.url + stale[1:], timeout=30).status_code == 404
    # The plain name still answers, revalidated on each use.
    plain = requests.get(live_server.url + "static/govkg.css", timeout=30)
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"


_DECODE_BROTLI = (
    "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(process.argv[1])))"
)


def test_the_brotli_copies_are_the_bundles_as_built() -> None:
    # node's zlib decodes them (the test needs no Python brotli package).
    node = shutil.which("node")
    assert node is not None
    for bundle in sorted((STATIC / "vendor").glob("*.js")):
        copy = bundle.with_name(bundle.name + ".br")
        assert copy.is_file(), f"{copy.name} is missing: run `npm run build`"
        decoded = subprocess.run(
            [node, "-e", _DECODE_BROTLI, str(copy)],
            capture_output=True,
            check=True,
        ).stdout
        assert decoded == bundle.read_bytes(), f"{copy.name} is stale: run `npm run build`"


def _loaded_scripts(page: Page) -> list[str]:
    return page.evaluate("Array.from(document.scripts, s => s.src).filter(Boolean)")


def test_a_page_loads_only_the_bundles_it_draws_with(live_server: LiveServer, browser) -> None:
    page = _open(browser, f"{live_server.url}query?lang=en")
    try:
        scripts = _loaded_scripts(page)
        assert any("/vendor/editor." in src for src in scripts)
        assert not any("/vendor/charts." in src or "/vendor/graph." in src for src in scripts)
        # Every script blocks nothing: deferred in the page, or added later (async).
        blocking = "Array.from(document.scripts).filter(s => s.src && !s.defer && !s.async).length"
        assert page.evaluate(blocking) == 0
    finally:
        page.context.close()
    # A resource page on a phone: no editor, no charts, and no diagram drawing (a list instead).
    page = _open(browser, f"{live_server.url}id/place/zhaoqing?lang=en", width=390)
    try:
        page.mouse.wheel(0, 20000)
        page.wait_for_timeout(500)
        assert not any("/vendor/" in src for src in _loaded_scripts(page))
        expect(page.locator(".diagram-list a[href^='/id/place/guangdong']")).to_be_visible()
        expect(page.locator(".graph")).to_be_hidden()
    finally:
        page.context.close()


_LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => { for (const entry of list.getEntries()) total += entry.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 300);
})"""


@pytest.mark.parametrize(
    ("path", "drawn"),
    [
        ("id/place/zhaoqing", ".graph[data-drawn='true']"),
        ("id/dataset-cube/business-opening-time", ".chart[data-drawn='true']"),
    ],
)
def test_drawing_a_diagram_or_a_chart_moves_nothing(
    live_server: LiveServer, browser, path: str, drawn: str
) -> None:
    page = _open(browser, f"{live_server.url}{path}?lang=en")
    try:
        page.locator(drawn.split("[")[0]).scroll_into_view_if_needed()
        expect(page.locator(drawn)).to_be_visible()
        assert page.evaluate(_LAYOUT_SHIFT) < 0.01
    finally:
        page.context.close()


#: When the editor's bundle was asked for and when the page first painted, in ms from the start.
_EDITOR_AFTER_PAINT = """() => ({
  paint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
  editor: performance.getEntriesByType("resource")
    .find((entry) => entry.name.includes("/vendor/editor.")).startTime,
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_editor_comes_after_the_first_paint_and_moves_nothing(
    live_server: LiveServer, browser: Browser, width: int
) -> None:
    # Lighthouse's mobile Performance on /query was 92-93 on a loaded machine: the editor's
    # bundle (deferred) ran before the first paint, so its start counted in the page's paint.
    page = new_tab(browser, width)
    try:
        page.goto(f"{live_server.url}query?lang=zh")
        page.wait_for_function(DRAWN)
        page.wait_for_function(COMPLETIONS_LOADED)
        expect(page.locator(".code-editor .cm-content")).to_be_visible()
        times = page.evaluate(_EDITOR_AFTER_PAINT)
        assert times["editor"] > times["paint"], times
        assert page.evaluate(_LAYOUT_SHIFT) == 0  # the editor takes the textarea's box
        expect(page.locator("#editor-keys")).to_be_visible()
    finally:
        page.context.close()
