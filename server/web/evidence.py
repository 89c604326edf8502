"""The evidence of a fact on its page: the article's sentence that states it, the article text
with each quote linked to its fact, and what the graph infers beyond the article.

Quotes are located by their Web Annotation selectors (``oa:TextPositionSelector`` positions,
else the ``oa:exact`` text when it occurs once) in the article's clean text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from govkg.graph.interpretation import interpretations_about
from govkg.graph.source_text import article_text
from govkg.rdf.namespaces import OA
from govkg.web.page_model import (
    MAX_NESTING,
    PageBuilder,
    TermView,
    has_type,
    int_value,
    objects_of,
    pick_literal,
)

# --- evidence ---------------------------------------------------------------------------------

#: Characters that end a sentence in the article (closing quotation marks stay with it).
SENTENCE_ENDS = "。！？；!?\n"
CLOSING_MARKS = "”’」』）)"


def sentence_around(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The sentence holding ``text[start:end]``, as (before the quote, the quote, after it).

    >>> sentence_around("第一句。全国率先推出。第三句。", 6, 8)
    ('全国', '率先', '推出。')
    >>> sentence_around("他说：“像网购一样方便。”首创", 5, 7)
    ('他说：“像', '网购', '一样方便。”')
    """
    sentence_start = start
    while sentence_start > 0 and text[sentence_start - 1] not in SENTENCE_ENDS:
        sentence_start -= 1
    while sentence_start < start and text[sentence_start] in CLOSING_MARKS + "\n ":
        sentence_start += 1
    sentence_end = end
    while sentence_end < len(text) and text[sentence_end - 1] not in SENTENCE_ENDS:
        sentence_end += 1
    while sentence_end < len(text) and text[sentence_end] in CLOSING_MARKS:
        sentence_end += 1
    after = text[end:sentence_end].rstrip("\n")
    return text[sentence_start:start], text[start:end], after


@dataclass
class Evidence:
    """One quotation that supports a fact, located in the article if possible."""

    annotation: TermView
    source: TermView | None
    before: str
    quote: str
    after: str
    located: bool


def evidence_for(builder: PageBuilder, resource: ox.NamedNode) -> list[Evidence]:
    """The evidence of a fact: the annotations whose ``oa:hasBody`` is ``resource`` (or the
    resource itself, if it is an annotation), each quote shown inside its sentence."""
    store = builder.store
    annotations = {
        quad.subject for quad in store.quads_for_pattern(None, ox.NamedNode(OA + "hasBody"), resource, None)
    }
    if has_type(store, resource, ox.NamedNode(OA + "Annotation")):
        annotations.add(resource)
    text = article_text()
    found: list[Evidence] = []
    for annotation in sorted(annotations, key=str):
        for target in objects_of(store, annotation, OA + "hasTarget"):
            sources = objects_of(store, target, OA + "hasSource")
            exact, span = _selected_span(store, target, text)
            source = builder.view(sources[0], {}, MAX_NESTING, frozenset()) if sources else None
            annotation_view = builder.view(annotation, {}, MAX_NESTING, frozenset())
            if span is not None:
                before, quote, after = sentence_around(text, *span)
                found.append(Evidence(annotation_view, source, before, quote, after, True))
            elif exact:
                found.append(Evidence(annotation_view, source, "", exact, "", False))
    return found


def _selected_span(store: ox.Store, target, text: str) -> tuple[str | None, tuple[int, int] | None]:  # noqa: ANN001
    """A Web Annotation target's quote (``oa:exact``) and the span its selectors pick in ``text``."""
    exact, start, end = None, None, None
    for selector in objects_of(store, target, OA + "hasSelector"):
        for value in objects_of(store, selector, OA + "exact"):
            exact = value.value if isinstance(value, ox.Literal) else exact
        for value in objects_of(store, selector, OA + "start"):
            start = int_value(value)
        for value in objects_of(store, selector, OA + "end"):
            end = int_value(value)
    return exact, _locate(text, exact, start, end)


def _locate(text: str, exact: str | None, start: int | None, end: int | None) -> tuple[int, int] | None:
    """The span of the quote: its positions if they select it, else its only occurrence.

    >>> _locate("abcabd", "bd", 4, 6), _locate("abcabd", "bd", 0, 2), _locate("abcabd", "ab", None, None)
    ((4, 6), (4, 6), None)
    """
    if start is not None and end is not None and 0 <= start < end <= len(text):
        if exact is None or text[start:end] == exact:
            return start, end
    if exact and text.count(exact) == 1:
        position = text.index(exact)
        return position, position + len(exact)
    return None


@dataclass
class ArticleFact:
    """A fact annotated on the article: its page, its number in the text's order and the words it selects."""

    number: int
    view: TermView
    start: int
    end: int
    quote: str


@dataclass
class ArticleSegment:
    """A run of the article and the facts whose quotes cover all of it (most specific first).

    The article is cut at every quote's start and end, so each run is covered by the same
    facts throughout: the runs listing a fact are exactly the words it selects.
    """

    text: str
    facts: list[ArticleFact] = field(default_factory=list)

    @property
    def fact(self) -> ArticleFact | None:
        """The run's most specific fact (the one a tap opens when it is alone), or ``None``."""
        return self.facts[0] if self.facts else None


def article_segments(builder: PageBuilder, resource: ox.NamedNode) -> list[ArticleSegment]:
    """The article as a map of its facts: every quote whose target's ``oa:hasSource`` is
    ``resource`` (positioned or found once in the text), each run of text with the facts
    whose quotes cover it; empty if ``resource`` is no annotation's source.

    """
    store = builder.store
    text = article_text()
    annotations: dict[tuple[int, int], list] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(OA + "hasSource"), resource, None):
        target = quad.subject
        _, span = _selected_span(store, target, text)
        if span is not None:
            annotations.setdefault(span, []).extend(
                link.subject
                for link in store.quads_for_pattern(None, ox.NamedNode(OA + "hasTarget"), target, None)
            )
    builder.prefetch(annotation for found in annotations.values() for annotation in found)
    spans: dict[tuple[int, int, str], ox.NamedNode | ox.BlankNode | ox.Literal] = {}
    for span, found in annotations.items():
        for annotation in found:
            for body in objects_of(store, annotation, OA + "hasBody"):
                spans.setdefault((span[0], span[1], str(body)), body)
    if not spans:
        return []
    builder.prefetch(spans.values())
    facts: dict[tuple[int, int, str], ArticleFact] = {}
    for number, key in enumerate(sorted(spans, key=lambda k: (k[0], -k[1], k[2])), start=1):
        start, end, _ = key
        view = builder.view(spans[key], {}, MAX_NESTING, frozenset())
        facts[key] = ArticleFact(number, view, start, end, text[start:end])
    segments = []
    for run, keys in _runs(text, list(spans)):
        covering = sorted((facts[key] for key in keys), key=lambda f: (f.end - f.start, f.start, f.number))
        segments.append(ArticleSegment(run, covering))
    return segments


def _runs(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """``text`` cut at every span's ends, each run with the spans covering it.

    >>> cuts = _runs("abcdef", [(1, 4, "x"), (2, 3, "y"), (2, 6, "z")])
    >>> [(text, sorted(span[2] for span in spans)) for text, spans in cuts]
    [('a', []), ('b', ['x']), ('c', ['x', 'y', 'z']), ('d', ['x', 'z']), ('ef', ['z'])]
    """
    cuts = sorted({0, len(text), *(edge for span in spans for edge in span[:2])})
    runs = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        if start < end:
            runs.append((text[start:end], [span for span in spans if span[0] <= start and end <= span[1]]))
    return runs


# --- editorial interpretation -------------------------------------------------------------------


@dataclass
class InterpretationView:
    """One inferred statement about the resource, as shown in the page's own block."""

    mark: TermView
    predicate: TermView
    value: TermView
    note: TermView | None


def interpretation_views(builder: PageBuilder, resource: ox.NamedNode) -> list[InterpretationView]:
    """What the graph infers about ``resource`` beyond the article, with the note in the page's language."""
    views = []
    for item in interpretations_about(builder.store, resource, builder.base_iri):
        note = pick_literal(list(item.notes), builder.language)
        views.append(
            InterpretationView(
                builder.iri_view(item.mark),
                builder.iri_view(item.predicate),
                builder.view(item.value, {}, MAX_NESTING, frozenset()),
                builder.literal_view(note) if note is not None else None,
            )
        )
    return views
