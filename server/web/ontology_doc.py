"""The ontology's documentation page, made by pyLODE once per dataset version and language.

pyLODE (OntPub profile) writes a complete HTML document with an anchor for every
term, so ``{base}ontology#Reform`` lands on the section of ``Reform``. Two things
are done to its output before it is served:

* it is **sanitized**: pyLODE passes descriptions through Markdown, which keeps raw
  HTML, and copies them into a JSON-LD ``<script>``; so the page is re-serialized
  keeping only an allowlist of elements and attributes, every ``<script>`` dropped,
  every link restricted to http(s), relative and fragment targets;
* its one ``<style>`` block is allowed by hash in the Content-Security-Policy, so
  no other inline style or script can run.

The ontology graph given to pyLODE is narrowed to one language (``zh`` or ``en``):
for each subject and property, only the literals in that language are kept when
there are any, so a label reads "Reform", not "Reform改革".

pyLODE 3.4.1 from PyPI cannot be imported as released: its ``pylode.version``
reads a ``pyproject.toml`` that the wheel does not ship (RDFLib/pyLODE#260, fixed
after 3.4.1). :func:`_import_ontpub` supplies that one module from the installed
distribution's metadata. If pyLODE still fails, the page falls back to a simple
term list rendered with :mod:`govkg.web.page_model`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import sys
import time
import types
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib.metadata import PackageNotFoundError, version

import pyoxigraph as ox
import rdflib
from flask import render_template, request
from govkg.store.loaded import LoadedGraph
from govkg.web.assets import asset_url
from govkg.web.i18n import HTML_LANGUAGE, chosen_language, messages
from govkg.web.page_model import PageBuilder
from govkg.web.representations import TRIPLE_FORMATS, document_name
from govkg.web.responses import CONTENT_SECURITY_POLICY, app_cache

log = logging.getLogger(__name__)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@dataclass(frozen=True)
class OntologyPage:
    """A finished documentation page and the CSP that lets exactly its own style through."""

    html: str
    content_security_policy: str
    generator: str  # "pyLODE" or "govkg"


def ontology_page(loaded: LoadedGraph, language: str) -> OntologyPage:
    """The documentation of the ontology graph in ``language`` (built once per dataset version).

    Keyed by the page language and the reader's ``?lang`` choice as they are normalised
    (``zh``, ``en`` or none), never by the raw tag: each distinct ``?lang=en-…`` would build
    the page again (a third of a second) into a cache with no bound.
    """
    return app_cache("resources").get(
        loaded.dataset_version,
        ("ontology-page", language, request.script_root, chosen_language()),
        lambda: _build(loaded, language),
    )


def _build(loaded: LoadedGraph, language: str) -> OntologyPage:
    started = time.monotonic()
    triples = [
        quad.triple for quad in loaded.store.quads_for_pattern(None, None, None, loaded.graph_iri("ontology"))
    ]
    try:
        generated = pylode_html(one_language(triples, language))
        page = _sanitized_page(generated, loaded, triples, language)
    except Exception:  # noqa: BLE001 - any pyLODE failure falls back to our own page
        log.exception("pyLODE could not document the ontology; serving the simple term list")
        page = _fallback_page(loaded, triples, language)
    log.info(
        "Documented the ontology in %s with %s (%.2f s).",
        language,
        page.generator,
        time.monotonic() - started,
    )
    return page


def pylode_html(triples: list[ox.Triple]) -> str:
    """pyLODE's (OntPub profile) HTML documentation of an ontology, unsanitized."""
    OntPub = _import_ontpub()
    with warnings.catch_warnings():
        # pyLODE 3.4.1 reads its CSS with open(...).read() and leaves the file to the GC.
        warnings.simplefilter("ignore", ResourceWarning)
        return OntPub(ontology=_rdflib_graph(triples)).make_html()


def _import_ontpub():  # noqa: ANN202
    """``pylode.OntPub``, importable even where ``pylode.version`` cannot find its pyproject.toml."""
    if "pylode.version" not in sys.modules:
        try:
            import pylode.version  # noqa: F401
        except FileNotFoundError:
            shim = types.ModuleType("pylode.version")
            try:
                shim.__version__ = version("pylode")
            except PackageNotFoundError:
                shim.__version__ = "unknown"
            sys.modules["pylode.version"] = shim
        except ImportError:
            pass
    from pylode import OntPub

    return OntPub


def one_language(triples: list[ox.Triple], language: str) -> list[ox.Triple]:
    """The triples with, for each subject and predicate, only the literals in ``language``
    when there are any (else all of them).

    >>> s, p = ox.NamedNode("http://e/s"), ox.NamedNode(RDFS_LABEL)
    >>> kept = one_language([ox.Triple(s, p, ox.Literal("Reform", language="en")),
    ...                      ox.Triple(s, p, ox.Literal("改革", language="zh"))], "zh")
    >>> [t.object.value for t in kept]
    ['改革']
    """
    in_language = {
        (t.subject, t.predicate)
        for t in triples
        if isinstance(t.object, ox.Literal) and _in_language(t.object, language)
    }
    return [
        t
        for t in triples
        if not (
            isinstance(t.object, ox.Literal)
            and t.object.language
            and (t.subject, t.predicate) in in_language
            and not _in_language(t.object, language)
        )
    ]


def _in_language(literal: ox.Literal, language: str) -> bool:
    tag = (literal.language or "").lower()
    return tag == language or tag.startswith(language + "-")


def _rdflib_graph(triples: list[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return graph.parse(data=data, format="nt")


# --- sanitizing pyLODE's HTML -----------------------------------------------------------------

_ALLOWED_ELEMENTS = {
    "html", "head", "title", "style", "link", "body", "div", "span", "section", "nav", "header", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "a", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead",
    "tbody", "tr", "th", "td", "code", "pre", "em", "strong", "b", "i", "sup", "sub", "br", "hr",
    "blockquote", "img", "abbr", "small",
}  # fmt: skip
_VOID_ELEMENTS = {"br", "hr", "img", "link", "meta"}
#: Dropped with everything inside them.
_DROPPED_WITH_CONTENT = {"script", "iframe", "object", "embed", "noscript", "template", "svg", "math", "form"}
_ALLOWED_ATTRIBUTES = {
    "id",
    "class",
    "href",
    "title",
    "lang",
    "rel",
    "type",
    "sizes",
    "colspan",
    "rowspan",
    "alt",
    "src",
}
_URL_ATTRIBUTES = {"href", "src"}


def safe_url(value: str, element: str) -> bool:
    """Whether a link target may stay: http(s), relative and fragment links; data: only for
    the icons pyLODE embeds as ``<link rel=icon>``.

    >>> safe_url("https://www.w3.org/", "a"), safe_url("#Reform", "a"), safe_url(" JavaScript:alert(1)", "a")
    (True, True, False)
    >>> safe_url("data:image/png;base64,AAAA", "link"), safe_url("data:text/html,x", "a")
    (True, False)
    """
    url = "".join(value.split()).lower()
    scheme, colon, _ = url.partition(":")
    if not colon or "/" in scheme or "#" in scheme or "?" in scheme:
        return True  # relative reference
    if scheme in ("http", "https", "mailto"):
        return True
    return element == "link" and url.startswith("data:image/")


class _Sanitizer(HTMLParser):
    """Re-serialize HTML keeping allowed elements and attributes; ``<style>`` only in ``<head>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.styles: list[str] = []
        self._stack: list[str] = []
        self._dropping = 0
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            self._dropping += tag not in _VOID_ELEMENTS
            return
        if tag in _DROPPED_WITH_CONTENT or (tag == "style" and "head" not in self._stack):
            self._dropping = int(tag not in _VOID_ELEMENTS)
            return
        if tag not in _ALLOWED_ELEMENTS:
            return  # the element goes, its text stays (escaped)
        kept = []
        for name, value in attrs:
            value = value or ""
            if tag == "link" and name == "rel" and value.lower() not in ("icon", "alternate"):
                return  # no stylesheets or preloads from elsewhere
            if name in _ALLOWED_ATTRIBUTES and not (name in _URL_ATTRIBUTES and not safe_url(value, tag)):
                kept.append(f' {name}="{html.escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in _VOID_ELEMENTS:
            self._stack.append(tag)
            self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_ELEMENTS:
            self.handle_starttag(tag, attrs)
        elif not self._dropping and tag not in _DROPPED_WITH_CONTENT and tag in _ALLOWED_ELEMENTS:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            self._dropping -= tag not in _VOID_ELEMENTS
            return
        if tag not in self._stack:
            return
        while self._stack:
            open_tag = self._stack.pop()
            self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                break
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._dropping:
            return
        if self._in_style:
            self.styles.append(data)
            self.out.append(data)  # pyLODE's own CSS, allowed by its hash
        else:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        return "<!doctype html>\n" + "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self._stack))


def sanitize_html(document: str) -> tuple[str, list[str]]:
    """The document keeping only allowlisted markup, and the text of its ``<style>`` blocks.

    >>> page, styles = sanitize_html('<html><head><style>p{}</style></head><body>'
    ...     '<p onclick="x()">a<script>alert(1)</script><a href="javascript:x">b</a>'
    ...     '<style>q{}</style><img src=x onerror=alert(1)></p></body></html>')
    >>> page
    '<!doctype html>\\n<html><head><style>p{}</style></head><body><p>a<a>b</a><img src="x"></p></body></html>'
    >>> styles
    ['p{}']
    """
    sanitizer = _Sanitizer()
    sanitizer.feed(document)
    sanitizer.close()
    return sanitizer.result(), sanitizer.styles


def _style_hash(style: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii") + "'"


_ENTITY_SECTION = re.compile(
    r'(<div class="[^"]*\bentity\b[^"]*" id=")([^"]*)(">(?:(?!<div class=).)*?<code>)([^<]*)(</code>)',
    re.DOTALL,
)
_FRAGMENT_LINK = re.compile(r'href="#([^"]*)"')


def fix_term_anchors(page: str, namespace: str, script_root: str) -> str:
    """Give each term's section the exact local name of its IRI as ``id``, and keep links local.

    pyLODE lower-cases its anchors, but fragments are case-sensitive: ``ontology#Reform``
    must land on ``id="Reform"``. Each section shows its term's IRI in a ``<code>``;
    that names the anchor. The table of contents (after the sections) links to the
    lower-cased anchors in section order, so the n-th link to ``#assessment`` goes to the
    n-th section so named (``Assessment`` and ``assessment`` may both exist). Links to
    ``{namespace}X`` become ``#X``, other links under the base stay on this server.

    >>> ns = "https://w3id.org/govkg/ontology#"
    >>> section = '<div class="property entity" id="assessment"><h3>A</h3><code>{}</code></div>'
    >>> page = (section.format(ns + "Assessment") + section.format(ns + "assessment") +
    ...         '<a href="' + ns + 'Assessment">A</a><a href="#assessment">A</a><a href="#assessment">a</a>')
    >>> print(fix_term_anchors(page, ns, "").replace("</div>", "</div>\\n"))
    <div class="property entity" id="Assessment"><h3>A</h3><code>https://w3id.org/govkg/ontology#Assessment</code></div>
    <div class="property entity" id="assessment"><h3>A</h3><code>https://w3id.org/govkg/ontology#assessment</code></div>
    <a href="#Assessment">A</a><a href="#Assessment">A</a><a href="#assessment">a</a>
    """
    sections: dict[str, list[str]] = {}

    def rename(match: re.Match) -> str:
        iri = html.unescape(match.group(4).strip())
        if not iri.startswith(namespace) or len(iri) == len(namespace):
            return match.group(0)
        local = iri[len(namespace) :]
        sections.setdefault(match.group(2), []).append(local)
        return match.group(1) + html.escape(local) + match.group(3) + match.group(4) + match.group(5)

    page = _ENTITY_SECTION.sub(rename, page)
    page = page.replace(f'href="{html.escape(namespace)}', 'href="#')
    base = html.escape(namespace.rsplit("ontology#", 1)[0])
    page = page.replace(f'href="{base}', f'href="{html.escape(script_root)}/')
    seen: dict[str, int] = {}

    def relink(match: re.Match) -> str:
        names = sections.get(match.group(1))
        if not names:
            return match.group(0)
        index = seen.get(match.group(1), 0)
        seen[match.group(1)] = index + 1
        return f'href="#{html.escape(names[min(index, len(names) - 1)])}"'

    return _FRAGMENT_LINK.sub(relink, page)


def _sanitized_page(
    generated: str, loaded: LoadedGraph, triples: list[ox.Triple], language: str
) -> OntologyPage:
    page, styles = sanitize_html(generated)
    page = fix_term_anchors(page, loaded.base_iri + "ontology#", request.script_root)
    page = _add_undocumented_terms(page, loaded, triples, language)
    banner = render_template("ontology_banner.html", page_language=language)
    head_extra = (
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        + f'<meta name="description" content="{html.escape(messages(language)["meta_ontology"])}">'
        + "".join(
            f'<link rel="alternate" type="{html.escape(media_type)}" href="{html.escape(href)}">'
            for href, _, media_type in _alternates()
        )
    )
    head_extra += "".join(
        f'<link rel="stylesheet" href="{html.escape(asset_url(name))}">'
        for name in ("govkg.css", "ontology.css")
    )
    page = page.replace("<head>", "<head>" + head_extra, 1).replace("<body>", "<body>" + banner, 1)
    page = page.replace("<html>", f'<html lang="{HTML_LANGUAGE[language]}">', 1)
    if language == "zh":
        page = translate_headings(page, PYLODE_HEADINGS_ZH)
    # pyLODE's content is the page's main landmark, the skip link's target.
    page = page.replace('<div id="content">', '<div id="content" role="main" tabindex="-1">', 1)
    csp = (
        CONTENT_SECURITY_POLICY
        + "; img-src 'self' data:; style-src 'self' "
        + " ".join(_style_hash(style) for style in styles)
    )
    return OntologyPage(page, csp.rstrip(), "pyLODE")


#: pyLODE's English headings and field names, as the Chinese page shows them.
PYLODE_HEADINGS_ZH: dict[str, str] = {
    "Classes": "类",
    "Object Properties": "对象属性",
    "Datatype Properties": "数据属性",
    "Annotation Properties": "注释属性",
    "Named Individuals": "命名个体",
    "Namespaces": "命名空间",
    "Metadata": "元数据",
    "Legend": "图例",
    "Table of Contents": "目录",
    "Creator": "创建者",
    "Date Modified": "修改日期",
    "Description": "描述",
    "Domain": "定义域",
    "Range": "值域",
    "Has Part": "包含",
    "In Domain Of": "作为定义域",
    "In Range Of": "作为值域",
    "Is Defined By": "定义于",
    "License": "许可协议",
    "Preferred Namespace Prefix": "推荐前缀",
    "Preferred Namespace Uri": "命名空间",
    "Sub Class Of": "上位类",
    "Sub Property Of": "上位属性",
    "Super Class Of": "下位类",
    "Version Info": "版本",
    "Title": "标题",
    "Ontology": "本体",
    "Class": "类",
    "Object Property": "对象属性",
    "Datatype Property": "数据属性",
    "Annotation Property": "注释属性",
    "Named Individual": "命名个体",
    "Restriction": "约束",
    "Definition": "定义",
    "Example": "示例",
    "Source": "来源",
    "Scope Note": "范围注释",
    "made by": "制作工具：",
    "with the": "使用",
    "profile": "配置",
}


def translate_headings(page: str, words: dict[str, str]) -> str:
    """Replace each text node that is exactly one of ``words`` (spaces around it kept).

    >>> translate_headings("<h2>Classes</h2><p>Classes of things</p>", {"Classes": "类"})
    '<h2>类</h2><p>Classes of things</p>'
    """

    def replace(match: re.Match) -> str:
        text = match.group(1)
        return ">" + text.replace(text.strip(), words[text.strip()]) + "<"

    pattern = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.sub(rf">(\s*(?:{pattern})\s*)<", replace, page)


def _alternates() -> list[tuple[str, str, str]]:
    return [(document_name("ontology", fmt.extension), fmt.label, fmt.media_type) for fmt in TRIPLE_FORMATS]


def _term_sections(
    loaded: LoadedGraph, triples: list[ox.Triple], language: str, skip: set[str] = frozenset()
) -> list[tuple[str, str, list]]:
    """``(anchor, label, rows)`` for each IRI subject of ``triples`` whose anchor is not in ``skip``."""
    builder = PageBuilder(loaded, language)
    namespace = loaded.base_iri + "ontology#"
    by_subject: dict = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
    terms = []
    for subject in sorted((s for s in by_subject if isinstance(s, ox.NamedNode)), key=lambda s: s.value):
        anchor = subject.value[len(namespace) :] if subject.value.startswith(namespace) else ""
        if anchor not in skip:
            terms.append(
                (anchor, builder.iri_view(subject).text, builder.rows(by_subject[subject], by_subject))
            )
    return terms


def _add_undocumented_terms(page: str, loaded: LoadedGraph, triples: list[ox.Triple], language: str) -> str:
    """Add a section for the terms pyLODE leaves out (datatypes, individuals), so every
    ``{base}ontology#Term`` has its anchor on the page."""
    namespace = loaded.base_iri + "ontology#"
    anchors = set(re.findall(r'\sid="([^"]*)"', page))
    documented = {html.unescape(anchor) for anchor in anchors} | {""}
    missing = [
        term
        for term in _term_sections(loaded, triples, language, skip=documented)
        if term[0] and (namespace + term[0]) != loaded.base_iri + "ontology"
    ]
    if not missing:
        return page
    section = render_template("ontology_more_terms.html", terms=missing, page_language=language)
    marker = '<div id="namespaces">'
    if marker in page:
        return page.replace(marker, section + marker, 1)
    return page.replace("</body>", section + "</body>", 1)


def _fallback_page(loaded: LoadedGraph, triples: list[ox.Triple], language: str) -> OntologyPage:
    body = render_template(
        "ontology.html",
        iri=loaded.base_iri + "ontology",
        terms=_term_sections(loaded, triples, language),
        alternates=_alternates(),
        page_language=language,
    )
    return OntologyPage(body, CONTENT_SECURITY_POLICY, "govkg")
