"""Labels compared across scripts and spellings: normalised, without their administrative suffix, blocked.

A label is reduced for comparison (:func:`normalize_label`: NFKC, Simplified,
case-folded, no accents or punctuation), its administrative suffix set apart
(:func:`core_name`), compared with another (:func:`name_similarity`) and given the
blocking keys (:func:`block_keys`) that decide which pairs are compared at all.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache

import opencc

#: Administrative suffixes, longest first, and the kind of unit each names. A suffix is
#: stripped only when a name of at least two characters (Chinese) or one word (Latin)
#: remains, so 沙市 or "Shi" alone stay whole.
ZH_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("特别行政区", "sar"),
    ("自治区", "autonomous-region"),
    ("自治州", "autonomous-prefecture"),
    ("自治县", "autonomous-county"),
    ("地区", "prefecture"),
    ("市", "city"),
    ("省", "province"),
    ("区", "district"),
    ("县", "county"),
)
LATIN_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("special administrative region", "sar"),
    ("autonomous region", "autonomous-region"),
    ("prefecture level city", "city"),
    ("prefecture", "prefecture"),
    ("province", "province"),
    ("sheng", "province"),
    ("city", "city"),
    ("shi", "city"),
    ("district", "district"),
    ("county", "county"),
)
# A prefecture and a prefecture-level city name the same level of unit.
_SAME_SUFFIX_KIND = {"prefecture": "city"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@cache
def normalize_label(text: str) -> str:
    """A label reduced for comparison: NFKC, Simplified, case-folded, without accents or punctuation.

    Full-width forms become half-width (NFKC), Traditional characters Simplified
    (OpenCC ``t2s``), tone marks and other accents are dropped, punctuation and
    symbols become spaces, and runs of spaces one space, none next to a Chinese
    character.

    >>> normalize_label("肇慶市")
    '肇庆市'
    >>> normalize_label("  ＺＨＡＯＱＩＮＧ  City ")
    'zhaoqing city'
    >>> normalize_label("Guǎngdōng Shěng")
    'guangdong sheng'
    >>> normalize_label("“西江 日报”")
    '西江日报'
    >>> normalize_label("People's Republic of China")
    'people s republic of china'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _to_simplified().convert(text).casefold()
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    text = "".join(" " if unicodedata.category(char)[0] in "PSZC" else char for char in text)
    words = text.split()
    joined = ""
    for word in words:
        if joined and not (_CJK.match(joined[-1]) or _CJK.match(word[0])):
            joined += " "
        joined += word
    return unicodedata.normalize("NFC", joined)


@cache
def core_name(text: str) -> tuple[str, str | None]:
    """The normalised label without its administrative suffix, and the kind of unit the suffix named.

    >>> core_name("肇慶市")
    ('肇庆', 'city')
    >>> core_name("广西壮族自治区")
    ('广西壮族', 'autonomous-region')
    >>> core_name("Zhaoqing Prefecture-level City")
    ('zhaoqing', 'city')
    >>> core_name("Guangdong Sheng")
    ('guangdong', 'province')
    >>> core_name("沙市")
    ('沙市', None)
    >>> core_name("Shi")
    ('shi', None)
    """
    name = normalize_label(text)
    if _CJK.search(name):
        for suffix, kind in ZH_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                return name[: -len(suffix)], kind
        return name, None
    for suffix, kind in LATIN_SUFFIXES:
        if name.endswith(" " + suffix):
            return name[: -len(suffix) - 1], _SAME_SUFFIX_KIND.get(kind, kind)
    return name, None


def is_chinese(text: str) -> bool:
    """Whether a label is written in Chinese characters (then it is compared only with Chinese labels).

    >>> is_chinese("肇庆市"), is_chinese("Zhaoqing")
    (True, False)
    """
    return bool(_CJK.search(text))


def name_similarity(ours: str, theirs: str) -> tuple[float, str]:
    """How alike two labels are, from 0 to 1, and why.

    >>> name_similarity("肇庆市", "肇慶市")
    (1.0, 'same label')
    >>> name_similarity("广东", "廣東省")
    (0.95, 'same name without the suffix')
    >>> name_similarity("肇庆市", "肇庆县")
    (0.8, 'same name, different suffixes (city / county)')
    >>> name_similarity("Zhaoqing", "Zhaoqing railway station")
    (0.45, 'similar names (ratio 0.50)')
    """
    if normalize_label(ours) == normalize_label(theirs):
        return 1.0, "same label"
    (our_core, our_kind), (their_core, their_kind) = core_name(ours), core_name(theirs)
    if our_core == their_core:
        if our_kind and their_kind and our_kind != their_kind:
            return 0.8, f"same name, different suffixes ({our_kind} / {their_kind})"
        return 0.95, "same name without the suffix"
    ratio = difflib.SequenceMatcher(None, our_core, their_core, autojunk=False).ratio()
    return round(0.9 * ratio, 4), f"similar names (ratio {ratio:.2f})"


#: Words and character pairs too common to block on (every government, every company);
#: names still meet on their other words and on their whole core name.
GENERIC_WORDS = frozenset(
    {"the", "and", "for", "of", "people", "municipal", "government", "company", "limited", "ltd", "co"}
    | {"人民", "政府", "有限", "公司", "中心"}
)


def block_keys(label: str) -> set[str]:
    """The blocking keys of a label: its core name, and its character bigrams or words.

    Two resources are compared only if they share a key. The core name is the key of
    exact matches; bigrams (Chinese) and words of three letters or more (Latin) let
    near misses meet.

    >>> sorted(block_keys("肇慶市"))
    ['=肇庆', '~肇庆']
    >>> sorted(block_keys("Zhaoqing Shi"))
    ['=zhaoqing', '~zhaoqing']
    >>> sorted(block_keys("西江日报"))
    ['=西江日报', '~日报', '~江日', '~西江']
    """
    core, _ = core_name(label)
    if not core:
        return set()
    keys = {"=" + core}
    if is_chinese(core):
        compact = core.replace(" ", "")
        bigrams = {compact[i : i + 2] for i in range(len(compact) - 1)}
        keys.update("~" + bigram for bigram in bigrams - GENERIC_WORDS)
    else:
        keys.update("~" + word for word in core.split() if len(word) >= 3 and word not in GENERIC_WORDS)
    return keys
