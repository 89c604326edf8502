"""The article's text: repair the damaged copy as received into clean Simplified Chinese.

The copy in ``data/sources/`` was converted to Traditional characters, had a pinyin
reading inserted after many characters, lost two characters to a broken encoding
step and had one closing quotation mark pushed onto the next line
(``data/sources/README.md`` says exactly how). :func:`clean_article_text` undoes
each of these, in that order, so that the evidence quotes of the graph can be
exact spans of the result.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import opencc
from govkg.package_data import DATA_DIR

#: Where the project's article files live, relative to the repository root.
SOURCES_DIR = DATA_DIR / "sources"
RAW_ARTICLE_PATH = SOURCES_DIR / "xijiang-daily-zhaoqing-rule-of-law.raw.txt"
CLEAN_ARTICLE_PATH = SOURCES_DIR / "xijiang-daily-zhaoqing-rule-of-law.txt"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
# A pinyin syllable in parentheses straight after a CJK character. The article's own
# brackets — "(即人臉識別電子簽名)" and "(2019)" — hold CJK text or digits, never
# lower-case Latin letters, so they never match.
INSERTED_PINYIN = re.compile(rf"(?<=[{_CJK}])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüê]+\)")

#: The two characters lost to the broken encoding step, with the text around them
#: that identifies each one, and what each span read before the damage.
LOST_CHARACTER_REPAIRS: tuple[tuple[str, str], ...] = (
    ("專家?guī)?個", "專家庫3個"),  # 咨询论证专家库3个平台
    ("管理?xiàng)l例", "管理條例"),  # 七星岩景区保护管理条例
)

#: The closing quotation mark pushed to the start of the next line.
MOVED_QUOTATION_MARK = ("方便。\n”", "方便。”\n")


def strip_inserted_pinyin(text: str) -> str:
    """Remove every ``(pinyin)`` inserted after a CJK character.

    >>> strip_inserted_pinyin("西江日報(bào)記者 第二屆(2019) (即人臉識別)")
    '西江日報記者 第二屆(2019) (即人臉識別)'
    """
    return INSERTED_PINYIN.sub("", text)


def restore_lost_characters(text: str) -> str:
    """Put back the two characters lost to the broken encoding step.

    Raises ValueError if a damaged span is not found exactly once, so a changed
    input can never be repaired silently in the wrong place.

    >>> restore_lost_characters("專家?guī)?個平臺 管理?xiàng)l例")
    '專家庫3個平臺 管理條例'
    """
    for damaged, repaired in LOST_CHARACTER_REPAIRS:
        if text.count(damaged) != 1:
            raise ValueError(f"expected the damaged span {damaged!r} exactly once")
        text = text.replace(damaged, repaired)
    return text


def restore_quotation_mark(text: str) -> str:
    """Move the closing quotation mark back to the end of its sentence.

    >>> restore_quotation_mark("像網購一樣方便。\\n”首創")
    '像網購一樣方便。”\\n首創'
    """
    moved, restored = MOVED_QUOTATION_MARK
    if text.count(moved) != 1:
        raise ValueError("expected the moved quotation mark exactly once")
    return text.replace(moved, restored)


@cache
def _traditional_to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional characters to Simplified with OpenCC's ``t2s`` profile.

    >>> to_simplified("肇慶市法治政府建設")
    '肇庆市法治政府建设'
    """
    return _traditional_to_simplified().convert(text)


def clean_article_text(raw: str) -> str:
    """Derive the clean Simplified-Chinese article from the damaged copy."""
    text = strip_inserted_pinyin(raw)
    text = restore_lost_characters(text)
    text = restore_quotation_mark(text)
    return to_simplified(text)


@cache
def article_text() -> str:
    """The committed clean article text, the one every evidence quote points into."""
    return CLEAN_ARTICLE_PATH.read_text(encoding="utf-8")


def write_clean_article(raw_path: Path = RAW_ARTICLE_PATH, clean_path: Path = CLEAN_ARTICLE_PATH) -> str:
    """Re-derive the clean article from the raw copy and write it; returns the text."""
    clean = clean_article_text(raw_path.read_text(encoding="utf-8"))
    clean_path.write_text(clean, encoding="utf-8")
    return clean
