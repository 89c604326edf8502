"""The clean article text is re-derived from the raw copy, byte for byte."""

import re

from govkg.graph.source_text import (
    CLEAN_ARTICLE_PATH,
    RAW_ARTICLE_PATH,
    clean_article_text,
    restore_lost_characters,
)


def test_clean_text_is_rederived_byte_for_byte():
    derived = clean_article_text(RAW_ARTICLE_PATH.read_text(encoding="utf-8"))
    assert derived.encode("utf-8") == CLEAN_ARTICLE_PATH.read_bytes()


def test_no_inserted_pinyin_remains_but_the_articles_own_brackets_stay():
    clean = CLEAN_ARTICLE_PATH.read_text(encoding="utf-8")
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", clean)
    assert re.findall(r"\(([^)]*)\)", clean) == ["即人脸识别电子签名", "2019"]


def test_damage_is_repaired():
    clean = CLEAN_ARTICLE_PATH.read_text(encoding="utf-8")
    assert "?" not in clean
    assert "咨询论证专家库3个平台" in clean
    assert "《肇庆市星湖风景名胜区七星岩景区保护管理条例》" in clean
    assert "像网购一样方便。”\n首创“1+N+3”模式" in clean
    assert clean.startswith("西江日报记者 肖桂芳 通讯员 吴宇玲\n")


def test_text_is_simplified():
    clean = CLEAN_ARTICLE_PATH.read_text(encoding="utf-8")
    for traditional in "報慶這設發數縣區項環準":
        assert traditional not in clean


def test_a_changed_input_is_not_repaired_silently():
    import pytest

    with pytest.raises(ValueError, match="exactly once"):
        restore_lost_characters("專家庫3個平臺")
