"""The query page at ``/``: a SPARQL editor with the competency questions as one-click examples.

The page is a plain form that works without JavaScript (submitting it with a
format redirects to ``/sparql``); ``static/query.js`` enhances it: it runs the
query in place, shows the results as a table whose IRIs link to their resource
pages and show their labels, offers the downloads and a share link, and reports
errors, time-outs and truncation. Everything the script needs is embedded as JSON
in a ``<script type="application/json">`` element, so the page runs under a
``default-src 'self'`` Content-Security-Policy, with no inline script or style.

Known prefixes (``serialize.project_prefixes``) need no ``PREFIX`` line: when a
query is run, a line is prepended for each known prefix that it uses without
declaring it (:func:`govkg.sparql.text.complete_prefixes`, mirrored in the script).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from govkg.errors import ClientError
from govkg.graph.stored_queries import StoredQuery, load_stored_queries
from govkg.rdf.formats import RDF_FORMATS, RESULTS_FORMATS, content_type
from govkg.rdf.serialize import project_prefixes
from govkg.sparql.text import complete_prefixes
from govkg.web.negotiation import negotiate_language
from govkg.web.responses import security_headers, vary
from govkg.web.store import loaded_graph

blueprint = Blueprint("query_page", __name__)

PAGE_LANGUAGES = ("en", "zh")
#: The ``lang`` attribute of a page (and of text) in each page language.
HTML_LANGUAGE = {"en": "en", "zh": "zh-Hans"}

STARTER_QUERY = """\
# Everything with a label. Known prefixes such as rdfs: and gov: need no PREFIX line.
SELECT ?thing ?label
WHERE {
  ?thing rdfs:label ?label .
}
LIMIT 25
"""

#: The page's words in each language; the script gets them too, for its messages.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Query the knowledge graph",
        "lead": "Ask the facts of the Xijiang Daily report on Zhaoqing's rule-of-law government in SPARQL. "
        "Pick a question to see how it is asked, or write your own query.",
        "examples": "Questions the graph answers",
        "examples_hint": "Click a question to load its query and run it.",
        "filter": "Filter the questions",
        "all_queries": "All stored queries (API)",
        "federated": "needs an allowlisted SERVICE endpoint",
        "query_label": "SPARQL query",
        "run": "Run",
        "stop": "Stop",
        "shortcut": "Ctrl+Enter runs the query",
        "open_as": "Results as",
        "graph_formats": "CONSTRUCT / DESCRIBE",
        "prefixes_summary": "Known prefixes ({count}) — no PREFIX line needed",
        "prefixes_explained": "When you run a query, the page adds a PREFIX line for each of these prefixes "
        "that the query uses without declaring it. Your text stays as you wrote it; the query sent to the "
        "endpoint, and the download links, carry the added lines.",
        "results": "Results",
        "running": "Running…",
        "running_for": "Running… {seconds} s (stopped at {limit} s)",
        "stopped": "Stopped.",
        "rows": "{count} rows in {seconds} s",
        "one_row": "1 row in {seconds} s",
        "triples": "{count} triples in {seconds} s",
        "no_results": "No results.",
        "answer_yes": "Answer: yes (true)",
        "answer_no": "Answer: no (false)",
        "shown_rows": "Showing the first {shown} of {count} rows; download the results to see them all.",
        "prefixes_added": "PREFIX lines added for: {prefixes}",
        "bad_query": "The query has an error",
        "timeout": "The query took longer than {seconds} s and was stopped.",
        "too_large": "The query is too long",
        "busy": "The server is busy with other queries; try again in a moment.",
        "read_only": "This endpoint only answers queries; it does not accept updates.",
        "failed": "The query could not be run (HTTP {status})",
        "unreachable": "The server could not be reached.",
        "truncated": "Only part of the result is shown: it was cut at the server's limit of {limit} rows.",
        "share": "Link to this query",
        "copy_link": "Copy",
        "copied": "Copied",
        "download": "Download",
        "link_too_long": "This query is too long to be carried by a link; the links below may not work.",
        "language": "Language",
        "no_query": "Write a query first.",
    },
    "zh": {
        "title": "查询知识图谱",
        "lead": "用 SPARQL 查询《西江日报》关于肇庆市法治政府建设报道中的事实。"
        "可点选下面的问题查看其查询，也可自己编写查询。",
        "examples": "图谱能回答的问题",
        "examples_hint": "点击问题即可载入并运行它的查询。",
        "filter": "筛选问题",
        "all_queries": "全部预置查询（API）",
        "federated": "需要白名单内的 SERVICE 端点",
        "query_label": "SPARQL 查询",
        "run": "运行",
        "stop": "停止",
        "shortcut": "按 Ctrl+Enter 运行查询",
        "open_as": "结果格式",
        "graph_formats": "CONSTRUCT / DESCRIBE",
        "prefixes_summary": "已知前缀（{count} 个）——无需写 PREFIX",
        "prefixes_explained": "运行查询时，页面会为查询中使用但未声明的每个已知前缀自动添加一行 PREFIX。"
        "编辑框中的文字保持原样；发送到端点的查询和下载链接包含添加的行。",
        "results": "结果",
        "running": "正在运行…",
        "running_for": "正在运行… {seconds} 秒（超过 {limit} 秒将被停止）",
        "stopped": "已停止。",
        "rows": "共 {count} 行，用时 {seconds} 秒",
        "one_row": "共 1 行，用时 {seconds} 秒",
        "triples": "共 {count} 个三元组，用时 {seconds} 秒",
        "no_results": "没有结果。",
        "answer_yes": "答案：是（true）",
        "answer_no": "答案：否（false）",
        "shown_rows": "仅显示 {count} 行中的前 {shown} 行；下载结果可查看全部。",
        "prefixes_added": "已自动添加 PREFIX：{prefixes}",
        "bad_query": "查询有误",
        "timeout": "查询运行超过 {seconds} 秒，已被停止。",
        "too_large": "查询过长",
        "busy": "服务器正忙于其他查询，请稍后再试。",
        "read_only": "本端点只回答查询，不接受更新。",
        "failed": "查询无法运行（HTTP {status}）",
        "unreachable": "无法连接服务器。",
        "truncated": "只显示部分结果：结果已按服务器上限 {limit} 行截断。",
        "share": "本查询的链接",
        "copy_link": "复制",
        "copied": "已复制",
        "download": "下载",
        "link_too_long": "查询过长，无法完整放入链接；下面的链接可能无法使用。",
        "language": "语言",
        "no_query": "请先输入查询。",
    },
}

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


@blueprint.record_once
def _check_stored_queries(state) -> None:  # noqa: ANN001
    """Read the stored queries at start-up, so a malformed one stops the server with its file and line."""
    load_stored_queries()


def page_language() -> str:
    """The page language: ``?lang=`` if given, else the best of ``Accept-Language``, else English.

    Raises a 400 :class:`~govkg.errors.ClientError` for a ``lang`` that is not a language tag.
    """
    requested = request.args.get("lang")
    if requested is not None:
        if not _LANGUAGE_TAG.match(requested):
            raise ClientError("lang must be a language tag such as zh or en.")
        primary = requested.split("-", 1)[0].lower()
        return primary if primary in PAGE_LANGUAGES else "en"
    return negotiate_language(request.headers.get("Accept-Language"), PAGE_LANGUAGES) or "en"


def html_response(html: str) -> Response:
    """An HTML page with the security headers; it varies with the request's languages."""
    response = Response(html, status=200)
    response.headers["Content-Type"] = content_type("text/html")
    vary(response, "Accept-Language")
    return security_headers(response)  # the site's one Content-Security-Policy: default-src 'self'…


def sparql_url(**params: str) -> str:
    """The URL of the SPARQL endpoint (relative to the site), with ``params`` as its query string.

    >>> from flask import Flask
    >>> with Flask(__name__).test_request_context("/"):
    ...     sparql_url(query="ASK {}", format="json")
    '/sparql?query=ASK+%7B%7D&format=json'
    """
    url = request.script_root + "/sparql"
    return f"{url}?{urlencode(params)}" if params else url


def format_choices() -> dict[str, list[dict[str, str]]]:
    """The download formats, straight from the format registry: results formats and RDF formats."""

    def describe(fmt: Any) -> dict[str, str]:
        return {
            "name": fmt.name,
            "label": fmt.label,
            "media_type": fmt.media_type,
            "extension": fmt.extension,
        }

    return {"results": [describe(f) for f in RESULTS_FORMATS], "rdf": [describe(f) for f in RDF_FORMATS]}


def example_view(query: StoredQuery, base_iri: str, language: str) -> dict[str, Any]:
    """What the page shows of one stored query: summaries (page language first) and its text."""
    text = query.bound_text(base_iri)
    summaries = [("en", query.summary), ("zh", query.summary_zh)]
    if language == "zh":
        summaries.reverse()
    return {
        "name": query.name,
        "summary": summaries[0][1],
        "summary_lang": HTML_LANGUAGE[summaries[0][0]],
        "other_summary": summaries[1][1],
        "other_summary_lang": HTML_LANGUAGE[summaries[1][0]],
        "description": query.description,
        "tags": list(query.tags),
        "federated": query.federated,
        "text": text,
        "href": url_for("query_page.query_page", query=text),
    }


@blueprint.get("/")
def query_page() -> Response:
    """The SPARQL query page; ``?query=`` fills (and, with JavaScript, runs) the editor.

    With ``&format=NAME`` as well (the form submitted without JavaScript), it
    redirects to ``/sparql`` with the query, its known prefixes declared.
    """
    loaded = loaded_graph()
    prefixes = project_prefixes(loaded.base_iri)
    query_text = request.args.get("query")
    format_name = request.args.get("format")
    if format_name is not None:
        return _redirect_to_endpoint(query_text, format_name, prefixes)

    language = page_language()
    messages = MESSAGES[language]
    settings = current_app.config["GOVKG_SETTINGS"]
    examples = [example_view(query, loaded.base_iri, language) for query in load_stored_queries()]
    page_data = {
        "language": language,
        "endpoint": sparql_url(),
        "page_path": url_for("query_page.query_page"),
        "base_iri": loaded.base_iri,
        "prefixes": prefixes,
        "query_timeout": settings["query_timeout"],
        "max_result_rows": settings["max_result_rows"],
        "formats": format_choices(),
        "examples": [{"name": example["name"], "text": example["text"]} for example in examples],
        "messages": messages,
        "run_on_load": query_text is not None,
    }
    html = render_template(
        "query_page.html",
        page_language=HTML_LANGUAGE[language],
        language=language,
        t=messages,
        examples=examples,
        query_text=STARTER_QUERY if query_text is None else query_text,
        prefixes=prefixes,
        formats=format_choices(),
        language_links=[
            (f"?{urlencode({'lang': code})}", name) for code, name in (("en", "English"), ("zh", "中文"))
        ],
        page_data=page_data,
    )
    return html_response(html)


def _redirect_to_endpoint(query_text: str | None, format_name: str, prefixes: dict[str, str]) -> Response:
    if not query_text or not query_text.strip():
        raise ClientError("Write a query first: the query parameter is empty.")
    known_formats = {fmt.name for fmt in (*RESULTS_FORMATS, *RDF_FORMATS)}
    if format_name not in known_formats:
        raise ClientError(f"format must be one of {', '.join(sorted(known_formats))}.")
    completed, _ = complete_prefixes(query_text, prefixes)
    return redirect(sparql_url(query=completed, format=format_name), code=303)
