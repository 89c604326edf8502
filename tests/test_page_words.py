"""The words of the pages: error pages with their status and a useful message in both
languages, English figure cards that say the figures right, the catalogue's themes in Chinese.
Real server, real HTTP."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.conftest import LiveServer

HTML = {"Accept": "text/html"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("path", "status", "en", "zh"),
    [
        ("no/such/page", 404, "Error 404: Not found", "错误 404：未找到"),
        ("id/place/nowhere.ttl", 404, "Error 404: Not found", "错误 404：未找到"),
        ("sparql?query=SELEC", 400, "Error 400: The request is not valid", "错误 400：请求无效"),
    ],
)
def test_an_html_error_page_names_its_status_and_says_what_to_do(
    live_server: LiveServer, path: str, status: int, en: str, zh: str
) -> None:
    for language, heading, advice in [("en", en, "try again"), ("zh", zh, "重试")]:
        separator = "&" if "?" in path else "?"
        response = requests.get(
            f"{live_server.url}{path}{separator}lang={language}", headers=HTML, timeout=30
        )
        assert response.status_code == status
        text = _text(response.text)
        assert f"<h1>{heading}</h1>" in response.text and str(status) in text
        assert "HTTP status {status}" not in text and "Something went wrong" not in text
        if status != 404:
            assert advice in text, text
    if status == 400:  # the parser's message keeps its lines: the caret stays under its column
        message = re.search(r'<pre class="error-message" lang="en">(.*?)</pre>', response.text, re.S)
        assert message and "\n" in message.group(1).strip(), response.text


def test_english_figure_cards_say_the_figures_right(live_server: LiveServer) -> None:
    text = _text(requests.get(live_server.url, params={"lang": "en"}, timeout=30).text)
    for figure in [
        "7 days",
        "1 day ",
        "220,000 market entities",
        "90 percent or more",
        "2 months or more",
        "1st",
        "4th",
        "1,695 matters",
    ]:
        assert figure in text, figure
    for wrong in ["7 day ", "220,000 market entity ", "2 month ", "90 percent "]:
        assert wrong not in text.replace("90 percent or more", ""), wrong
    zh = _text(requests.get(live_server.url, params={"lang": "zh"}, timeout=30).text)
    assert "第1名" in zh and "90%以上" in zh and "22万 家" in zh
    observation = requests.get(
        live_server.url + "id/observation/certificates-submitted-reduced",
        params={"lang": "en"},
        headers=HTML,
        timeout=30,
    ).text
    assert '90</span> <span class="figure-unit">percent or more' in observation


def test_the_catalogue_names_its_themes_in_chinese(live_server: LiveServer) -> None:
    text = _text(
        requests.get(live_server.url + "catalog", params={"lang": "zh"}, headers=HTML, timeout=30).text
    )
    assert "政府和公共部门" in text and "Government and public sector" not in text


def test_every_stored_question_is_described_in_chinese_on_the_chinese_pages(live_server: LiveServer) -> None:
    from govkg.graph.stored_queries import load_stored_queries

    queries = load_stored_queries()
    assert all(re.search("[\u4e00-\u9fff]", query.description_zh) for query in queries), [
        query.name for query in queries if not query.description_zh
    ]
    listing = requests.get(live_server.url + "queries/", params={"lang": "zh"}, headers=HTML, timeout=30).text
    assert '<p lang="en">' not in listing
    assert queries[0].description_zh in listing
    query_page = requests.get(live_server.url + "query", params={"lang": "zh"}, timeout=30).text
    data = json.loads(re.search(r'id="govkg-page-data">(.*?)</script>', query_page, re.S).group(1))
    assert all(example["description_lang"] == "zh-Hans" for example in data["examples"])
    english = requests.get(live_server.url + "query", params={"lang": "en"}, timeout=30).text
    data = json.loads(re.search(r'id="govkg-page-data">(.*?)</script>', english, re.S).group(1))
    assert all(example["description_lang"] == "en" for example in data["examples"])
