"""Content and language negotiation: the one pure implementation the whole app uses.

:func:`negotiate` picks a media type from an ``Accept`` header (RFC 9110 §12.5.1)
and :func:`negotiate_language` a language from ``Accept-Language`` (RFC 9110
§12.5.4 with the basic filtering and lookup of RFC 4647). Both are pure functions
of header text and the server's offer, so every route — the SPARQL endpoint, the
resource pages, the dumps index, the metadata documents — negotiates the same way.

The rules, each tested below:

* a media range's q-value is taken from its most specific matching range
  (``text/turtle`` beats ``text/*`` beats ``*/*``); ``q=0`` means "not acceptable";
* among acceptable offers the highest q wins, then the more specific matching range
  (so ``Accept: text/turtle, */*`` gets Turtle even if the server prefers HTML),
  then the server's order;
* no ``Accept`` header (or an empty one) accepts anything: the first offer wins;
* a malformed range (no ``/``, a bad q-value) is ignored, never an error; media-type
  parameters other than q (``charset``, a JSON-LD ``profile``) do not restrict matching.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_LANGUAGE_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")


@dataclass(frozen=True)
class MediaRange:
    """One media range of an ``Accept`` header, e.g. ``text/*;q=0.5``."""

    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """2 for ``type/subtype``, 1 for ``type/*``, 0 for ``*/*``."""
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        """Whether this range covers ``media_type`` (a plain ``type/subtype``).

        >>> MediaRange("text", "*", 1.0).matches("text/turtle")
        True
        >>> MediaRange("application", "json", 1.0).matches("application/ld+json")
        False
        """
        kind, _, sub = media_type.lower().partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)


def _parse_q(params: list[str]) -> float | None:
    """The q-value among a range's parameters: 1.0 when absent, ``None`` when malformed."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.match(value) else None
    return 1.0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The well-formed media ranges of an ``Accept`` header, in header order.

    >>> parse_accept("text/html, application/xml;q=0.9, */*;q=0.8")
    [MediaRange(type='text', subtype='html', q=1.0), MediaRange(type='application', subtype='xml', q=0.9), \
MediaRange(type='*', subtype='*', q=0.8)]
    >>> parse_accept("text/turtle;charset=utf-8;q=0.5, garbage, text/plain;q=2")
    [MediaRange(type='text', subtype='turtle', q=0.5)]
    """
    ranges: list[MediaRange] = []
    for item in (header or "").split(","):
        media_range, *params = item.split(";")
        kind, slash, sub = media_range.strip().lower().partition("/")
        if not slash or not _TOKEN.match(kind) or not _TOKEN.match(sub) or (kind == "*" and sub != "*"):
            continue
        q = _parse_q(params)
        if q is not None:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, or ``None`` when none is acceptable (406).

    ``offered`` lists plain ``type/subtype`` strings in the server's order of preference.

    >>> formats = ["text/html", "text/turtle", "application/ld+json"]
    >>> negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", formats)
    'text/html'
    >>> negotiate("text/turtle, */*", formats)  # an explicit type beats the wildcard
    'text/turtle'
    >>> negotiate("application/ld+json;q=0.5, text/turtle;q=0.9", formats)
    'text/turtle'
    >>> negotiate(None, formats), negotiate("", formats), negotiate("*/*", formats)
    ('text/html', 'text/html', 'text/html')
    >>> negotiate("text/html;q=0, */*", formats)  # q=0: never
    'text/turtle'
    >>> negotiate("text/*;q=0.3, text/turtle;q=0", formats)
    'text/html'
    >>> negotiate("image/png", formats) is None
    True
    >>> negotiate("TEXT/Turtle", formats)
    'text/turtle'
    """
    ranges = parse_accept(accept)
    if not ranges:
        # No header, an empty one, or only malformed ranges, which RFC 9110 lets a
        # server disregard: anything is acceptable.
        return offered[0] if offered else None
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for index, media_type in enumerate(offered):
        matching = [r for r in ranges if r.matches(media_type)]
        if not matching:
            continue
        most_specific = max(matching, key=lambda r: r.specificity)
        # Among equally specific ranges (a header repeating a type) the highest q counts.
        q = max(r.q for r in matching if r.specificity == most_specific.specificity)
        if q <= 0:
            continue
        key = (q, most_specific.specificity, -index)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The well-formed language ranges of an ``Accept-Language`` header with their q-values.

    >>> parse_accept_language("zh-CN,zh;q=0.9,en;q=0.8, x_bad, fr;q=7")
    [('zh-cn', 1.0), ('zh', 0.9), ('en', 0.8)]
    """
    ranges: list[tuple[str, float]] = []
    for item in (header or "").split(","):
        language_range, *params = item.split(";")
        language_range = language_range.strip().lower()
        q = _parse_q(params)
        if _LANGUAGE_RANGE.match(language_range) and q is not None:
            ranges.append((language_range, q))
    return ranges


def _language_match(language_range: str, tag: str) -> int:
    """How well a range covers a tag: 3 exact, 2 the tag is more specific, 1 the range is, 0 no match.

    Basic filtering (``zh`` covers ``zh-hans``) and lookup truncation (``zh-cn`` falls
    back to ``zh``) both count; ``*`` covers every tag.

    >>> _language_match("zh", "zh-hans"), _language_match("zh-cn", "zh"), _language_match("en", "zh")
    (2, 1, 0)
    """
    if language_range == tag:
        return 3
    if language_range == "*" or tag.startswith(language_range + "-"):
        return 2
    if language_range.startswith(tag + "-"):
        return 1
    return 0


def negotiate_language(accept_language: str | None, available: Sequence[str]) -> str | None:
    """The available language tag the client prefers, or ``None`` if it names none of them.

    >>> negotiate_language("zh-CN,zh;q=0.9,en;q=0.8", ["en", "zh"])
    'zh'
    >>> negotiate_language("en-GB,en;q=0.9", ["zh", "en"])
    'en'
    >>> negotiate_language("zh;q=0, *", ["zh", "en"])
    'en'
    >>> negotiate_language("fr", ["en", "zh"]) is None
    True
    >>> negotiate_language(None, ["en", "zh"]) is None
    True
    """
    ranges = parse_accept_language(accept_language)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for index, tag in enumerate(available):
        scored = [(_language_match(r, tag.lower()), r != "*", q) for r, q in ranges]
        scored = [score for score in scored if score[0]]
        if not scored:
            continue
        # The most specific matching range decides the tag's q-value.
        match, _, q = max(scored, key=lambda s: (s[1], s[0]))
        if q <= 0:
            continue
        key = (q, match, -index)
        if best is None or key > best:
            best, chosen = key, tag
    return chosen
