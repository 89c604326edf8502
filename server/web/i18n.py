"""The site's words in Chinese and English, and the one place that decides a page's language.

Every template gets, through :func:`init_app`'s context processor:

* ``t`` — this module's :data:`MESSAGES` in the page language (``t.nav_home``);
* ``lang`` (``en`` / ``zh``) and ``html_lang`` (``en`` / ``zh-Hans``, for ``<html lang>``);
* ``lang_url(path)`` — ``path`` with ``?lang=`` added when the reader chose a language
  with ``?lang`` (a choice made by ``Accept-Language`` needs no parameter), so a chosen
  language is kept on every link;
* ``switch_links`` — this page in each language, for the language switch.

The query page hands the same catalogue to its script, so its messages come from here too.
``tests/test_i18n.py`` checks that both languages have the same keys and placeholders.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Flask, request
from govkg.errors import ClientError
from govkg.web.negotiation import negotiate_language

#: The languages of the pages' own words; the first is the default.
PAGE_LANGUAGES: tuple[str, ...] = ("en", "zh")
#: The ``lang`` attribute of a page (and of text) in each page language.
HTML_LANGUAGE = {"en": "en", "zh": "zh-Hans"}
#: Each language's name in itself, for the language switch.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


def chosen_language() -> str | None:
    """The language the reader chose with ``?lang=`` (``en`` or ``zh``), or ``None`` if none.

    Any other well-formed tag reads as English. Raises a 400 :class:`ClientError` for a
    ``lang`` that is not a language tag.
    """
    requested = request.args.get("lang")
    if requested is None:
        return None
    if not _LANGUAGE_TAG.match(requested):
        raise ClientError("lang must be a language tag such as zh or en.", 400)
    primary = requested.split("-", 1)[0].lower()
    return primary if primary in PAGE_LANGUAGES else "en"


def page_language() -> str:
    """The page language: ``?lang=`` if given, else the best of ``Accept-Language``, else English.

    Raises a 400 :class:`ClientError` for a ``lang`` that is not a language tag.
    """
    chosen = chosen_language()
    if chosen is not None:
        return chosen
    return negotiate_language(request.headers.get("Accept-Language"), PAGE_LANGUAGES) or "en"


def with_language(url: str, language: str | None) -> str:
    """``url`` with its ``lang`` parameter set to ``language`` (removed if ``None``).

    >>> with_language("/id/place/zhaoqing", "zh")
    '/id/place/zhaoqing?lang=zh'
    >>> with_language("/query?query=ASK+%7B%7D&lang=en", "zh")
    '/query?query=ASK+%7B%7D&lang=zh'
    >>> with_language("/dumps/?lang=zh#files", None)
    '/dumps/#files'
    """
    parts = urlsplit(url)
    query = "&".join(pair for pair in parts.query.split("&") if pair and pair.split("=", 1)[0] != "lang")
    if language is not None:
        query = f"{query}&{urlencode({'lang': language})}" if query else urlencode({"lang": language})
    return urlunsplit(parts._replace(query=query))


def lang_url(url: str) -> str:
    """``url`` carrying the reader's ``?lang`` choice, if they made one (see :func:`chosen_language`)."""
    try:
        chosen = chosen_language()
    except ClientError:
        chosen = None
    return url if chosen is None else with_language(url, chosen)


def switch_links() -> list[tuple[str, str, str]]:
    """``(href, language name, code)`` of this page in each page language."""
    current = request.full_path if request.query_string else request.path
    return [(with_language(current, code), LANGUAGE_NAMES[code], code) for code in PAGE_LANGUAGES]


def format_number(value: float | int | str, language: str) -> str:
    """A number as a reader of ``language`` writes it: ``220,000`` in English, ``22万`` in Chinese.

    Chinese counts in 万 (10⁴) and 亿 (10⁸) from ten thousand up, and writes smaller
    numbers without separators, as the article does.

    >>> format_number(220000, "en"), format_number(220000, "zh"), format_number(1695, "zh")
    ('220,000', '22万', '1695')
    >>> format_number(12345, "zh"), format_number(2.5, "en"), format_number("n/a", "en")
    ('1.23万', '2.5', 'n/a')
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if language == "zh":
        for unit, size in (("亿", 10**8), ("万", 10**4)):
            if abs(number) >= size:
                return f"{number / size:.2f}".rstrip("0").rstrip(".") + unit
        return f"{number:.10g}"
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.10g}"


def messages(language: str) -> dict[str, str]:
    """The catalogue of ``language`` (English for any other)."""
    return MESSAGES.get(language, MESSAGES["en"])


def init_app(app: Flask) -> None:
    """Give every template the page language, its words and the link helpers."""

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        try:
            language = page_language()
        except ClientError:  # an error page about that very parameter still renders
            language = "en"
        return {
            "t": messages(language),
            "lang": language,
            "html_lang": HTML_LANGUAGE[language],
            "lang_url": lang_url,
            "switch_links": switch_links(),
            "number": lambda value: format_number(value, language),
        }


#: The site's words. Keys are shared by both languages; ``{name}`` marks a value filled in.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # --- every page: header, menu, footer -------------------------------------------------
        "site_name": "Zhaoqing rule-of-law knowledge graph",
        "meta_description": "Every fact of a Xijiang Daily report on Zhaoqing's rule-of-law government as "
        "linked data, each with the words of the report that state it: pages, a SPARQL endpoint, charts "
        "and downloads.",
        "meta_resource": "{title}, in the Zhaoqing rule-of-law knowledge graph: its facts, the words of the "
        "Xijiang Daily report that state them, and its links.",
        "meta_query": "Ask the Zhaoqing rule-of-law knowledge graph in SPARQL: an editor that completes "
        "names, stored questions to start from, and answers as tables and charts.",
        "meta_ontology": "The gov: ontology of the Zhaoqing rule-of-law knowledge graph: its classes and "
        "properties, in HTML, Turtle, JSON-LD, RDF/XML and N-Triples.",
        "skip_to_content": "Skip to the content",
        "menu": "Site menu",
        "nav_home": "Home",
        "nav_query": "Query",
        "nav_questions": "Questions",
        "nav_ontology": "Ontology",
        "nav_dumps": "Downloads",
        "nav_void": "Dataset description",
        "nav_catalog": "Catalogue",
        "language": "Language",
        "footer": "Facts from one Xijiang Daily (西江日报) report on Zhaoqing (肇庆市), each with the words "
        "of the report that state it. Data under CC BY 4.0.",
        "footer_endpoint": "SPARQL endpoint",
        # --- search (the box in the header and /search) -----------------------------------------
        "search_title": "Search",
        "search_title_for": "Search: {query}",
        "search_label": "Search labels, descriptions and quotes",
        "search_box": "Search",
        "search_button": "Search",
        "search_hint": "Chinese or English words, e.g. 零跑动, 肇商通 or business opening. "
        "Resources with every word come first, then those with some.",
        "search_count": "{count} resources found for “{query}”.",
        "search_none": "Nothing found for “{query}”.",
        "search_partial": "some of the words",
        "search_kind_label": "Name",
        "search_kind_description": "Description",
        "search_kind_quote": "Quote from the article",
        # --- the home page --------------------------------------------------------------------
        "home_title": "Zhaoqing's rule-of-law government, fact by fact",
        "home_lead": "Every fact of one Xijiang Daily report on how Zhaoqing (肇庆市), Guangdong, built a "
        "rule-of-law government and reformed its public services: each number, each first, each rule, "
        "linked to the sentence of the report that states it.",
        "home_source": "The source",
        "home_source_text": "The report of the Xijiang Daily (西江日报), the daily newspaper of Zhaoqing. "
        "Its full text is here with every quoted passage marked; click a marked passage to see the fact "
        "drawn from it.",
        "home_read_article": "Read the report with its facts marked",
        "home_about_article": "About the report",
        "home_figures": "The figures in the report",
        "home_figures_lead": "Every number the report states, in the order it states them. Each links to "
        "its page: the number, its chart and the sentence it comes from.",
        "home_firsts": "What Zhaoqing did first",
        "home_firsts_lead": "The report credits Zhaoqing with {count} firsts (率先, 首创):",
        "home_charts": "Statistics as charts",
        "home_charts_lead": "The report's numbers, grouped into statistical datasets: one chart per "
        "dataset (and per unit); each title opens the dataset's page with its table.",
        "home_explore": "Explore",
        "home_city": "The city of Zhaoqing",
        "home_city_text": "Everything the report says about the city",
        "home_questions": "Questions the graph answers",
        "home_questions_text": "{count} ready-made questions, each with its answer",
        "home_query": "Ask your own question",
        "home_query_text": "The SPARQL query editor, with examples",
        "home_dumps": "Download the data",
        "home_dumps_text": "The whole graph in RDF formats, for your own tools",
        "home_ontology": "The vocabulary",
        "home_ontology_text": "The terms of the gov: ontology used to describe the facts",
        "home_how": "How it is made",
        "home_how_text": "Each fact is described with standard vocabularies (W3C ORG, RDF Data Cube, "
        "PROV-O, Web Annotation…) and linked to its evidence: the exact words of the report, by quote and "
        "by position. Nothing is added that the report does not say.",
        "scope_none": "first, no scope given",
        # --- the query page -------------------------------------------------------------------
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
        "shortcut": "Ctrl+Enter runs the query; Ctrl+Space suggests prefixes, terms and resources",
        "editor_keys": "In the editor, Tab indents: press Esc, then Tab, to move on to the next control.",
        "open_as": "Results as",
        "graph_formats": "CONSTRUCT / DESCRIBE",
        "prefixes_summary": "Known prefixes ({count}) — no PREFIX line needed",
        "prefixes_explained": "When you run a query, the page declares each of these prefixes that the "
        "query uses without declaring it. Your text stays as you wrote it, and errors are shown at your "
        "own line and column; the download links carry the declarations.",
        "stored_question": "The question",
        "results": "Results",
        "results_table": "Query results, {count} rows",
        "view_table": "Table",
        "view_chart": "Chart",
        "view_bar": "Bars",
        "view_line": "Line",
        "view_graph": "Graph",
        "graph_of": "Diagram of the {count} triples: subjects and objects as nodes, predicates as arrows",
        "graph_keys": "Tab reaches the diagram; the arrow keys walk its nodes, naming their arrows; "
        "Enter opens one.",
        "graph_too_big": "The graph view draws at most {limit} triples; this answer has {count}.",
        "views": "Result view",
        "chart_of": "{value} by {category}",
        "chart_value": "Values",
        "chart_category": "Names",
        "chart_unit": "Unit",
        "chart_no_unit": "(none)",
        "chart_units": "These values have {count} different units; one axis holds one: the chart draws "
        "the unit chosen here.",
        "sort_by": "Sort by {column}",
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
        "error_at": "at line {line}, column {column}",
        "error_detail": "The query engine's message:",
        "timeout": "The query took longer than {seconds} s and was stopped.",
        "out_of_memory": "The query needed more memory than one query may use and was stopped.",
        "too_large": "The query is too long",
        "busy": "The server is busy with other queries; try again in a moment.",
        "read_only": "This endpoint only answers queries; it does not accept updates.",
        "failed": "The query could not be run (HTTP {status})",
        "unreachable": "The server could not be reached.",
        "truncated": "Only part of the result is shown: it was cut at the server's limit of {limit} rows.",
        "share": "Link to this query",
        "copy_link": "Copy",
        "csv_excel": "CSV for Excel",
        "export_properties": "This table as a file",
        "filter_rows": "Filter this table",
        "rows_shown": "{shown} of {count} values shown",
        "export_dataset": "The dataset's observations as a table",
        "export_in_editor": "the query in the editor",
        "copied": "Copied",
        "download": "Download",
        "link_too_long": "This query is too long to be carried by a link; the links below may not work.",
        "no_query": "Write a query first.",
        "col_subject": "subject",
        "col_predicate": "predicate",
        "col_object": "object",
        # --- the stored-query list ------------------------------------------------------------
        "listing_title": "Questions the graph answers",
        "listing_lead": "The competency questions of the knowledge graph: each is a SPARQL query you can "
        "run here, fetch in any results format, or read.",
        "listing_open": "Open in the query page",
        "listing_results": "Results",
        "listing_text": "SPARQL text",
        "listing_parameters": "Parameters",
        "listing_api": "The same list for programs, and every operation of this server described:",
        # --- resource pages -------------------------------------------------------------------
        "types": "Type",
        "properties": "Properties",
        "property": "Property",
        "value": "Value",
        "incoming": "Links to this resource",
        "incoming_from": "{count} links from",
        "subject": "From",
        "evidence": "Evidence in the article",
        "interpretation": "Editorial interpretation",
        "interpretation_intro": "The graph states these beyond the article's words:",
        "as": "This description as",
        "more": "more values not shown; the RDF forms have them all",
        "incoming_more": "Only the first links are listed; ask the SPARQL endpoint for all of them.",
        "annotation": "annotation",
        "no_properties": "No triple has this resource as subject; it is only the object of other triples.",
        "quote_only": "Quoted words (their sentence could not be located in the article):",
        "article": "The article, with the words each fact is drawn from marked",
        "article_hint": "Tap marked words to open the fact they state; words that state several facts "
        "open a list of them (underlined twice).",
        "article_facts_here": "{count} facts are drawn from these words",
        "key_value": "Value",
        "unit": "unit",
        "series": "The series of this dataset",
        "series_of": "The series this figure belongs to",
        "chart_table": "The numbers of the chart",
        "chart_split": "These values have {count} different units: one chart for each unit.",
        "chart_current": "this observation",
        "chart_others": "the other observations of the dataset",
        "neighbourhood": "Its links at a glance",
        "neighbourhood_hint": "This resource in the middle, what it links to and what links to it; "
        "select a node to open its page, or Tab to the diagram and walk its nodes with the arrow keys "
        "(Enter opens one). The tables below list the same links.",
        "neighbourhood_out": "It links to",
        "neighbourhood_in": "Linked from",
        "neighbourhood_label": "Diagram of the links of {title}: {count} linked resources",
        "neighbourhood_left_out": "{count} more linked resources are listed in the tables only.",
        "quote_after": "after “{words}”",
        "observation": "Observation",
        "unnamed": "(unnamed)",
        "selector_quote": "quote",
        "selector_position": "characters {start}–{end}",
        # --- named graphs ---------------------------------------------------------------------
        "graph_heading": "Named graph {slug}",
        "graph_summary": "{triples} triples about {subjects} subjects. Its RDF forms hold all of them.",
        "graph_no_types": "No typed resources.",
        "graph_classes": "Resources by type",
        # --- not found and errors -------------------------------------------------------------
        "not_found_title": "Not found",
        "not_found_text": "This dataset says nothing about {iri}: no triple has it as subject or object.",
        "same_kind": "Resources of the same kind",
        "more_count": "… {count} more",
        "not_found_help": "Find resources from the home page or the query page, browse the ontology, "
        "or download the whole dataset.",
        "error_title": "Something went wrong",
        "error_heading": "Error {status}: {reason}",
        "error_client": "The request cannot be answered",
        "error_400": "The request is not valid",
        "error_403": "Refused",
        "error_404": "Not found",
        "error_405": "Method not allowed",
        "error_406": "Not available in the asked-for format",
        "error_413": "Too large",
        "error_415": "Unsupported media type",
        "error_429": "Too many requests",
        "error_502": "The data store did not answer",
        "error_503": "Busy, or the query took too long",
        "error_help_client": "Check the address or the query, then try again.",
        "error_help_404": "This address names nothing on this site. Find resources from the home page or "
        "the query page.",
        "error_help_server": "The fault is on this server's side, not in your request. Try again in a "
        "moment.",
        "error_help_503": "The server is busy or the query ran out of time. Try again in a moment; a query "
        "that takes too long can be narrowed with LIMIT, a FILTER or fewer OPTIONAL parts.",
        "error_detail_label": "The server's message:",
        "error_status": "HTTP status {status}",
        "error_home": "Back to the home page",
        # --- dumps ----------------------------------------------------------------------------
        "dumps_title": "Download the data",
        "dumps_lead": "The whole dataset — the named graphs {graphs} — in every format, plain and gzipped.",
        "dumps_version": "Version {version}, last modified {modified}.",
        "dumps_graphs": "N-Quads and TriG keep the named graphs apart; the other formats hold their union.",
        "dumps_licence": "Licence:",
        "dumps_file": "File",
        "dumps_format": "Format",
        "dumps_media_type": "Media type",
        "dumps_size": "Size",
        "dumps_checksum": "SHA-256",
        "dumps_gzipped": "gzipped",
        "dumps_on_demand": "built on first download",
        "dumps_json": "This list as JSON:",
        "dumps_described": "The dataset's description:",
        # --- VoID and the catalogue -----------------------------------------------------------
        "void_title": "Dataset description (VoID)",
        "catalog_title": "Data catalogue (DCAT-AP)",
        "catalog_lead": "A DCAT-AP 3.0.1 catalogue, for open-data portals to harvest.",
        "catalog_dataset": "Dataset",
        "catalog_keywords": "Keywords",
        "catalog_themes": "Themes",
        "catalog_spatial": "Place",
        "catalog_licence": "Licence",
        "catalog_modified": "Modified",
        "catalog_version": "Version",
        "catalog_endpoint": "SPARQL endpoint",
        "catalog_distributions": "Distributions",
        "void_triples": "Triples",
        "void_entities": "Entities",
        "void_subjects": "Distinct subjects",
        "void_objects": "Distinct objects",
        "void_classes": "Classes",
        "void_properties": "Properties",
        "void_uri_space": "URI space",
        "void_dumps": "Data dumps",
        "void_files": "{count} files",
        "void_examples": "Example resources",
        "void_linksets": "Links to other datasets",
        "void_links": "{count} links",
        "void_subsets": "Named graphs",
        "void_class_partition": "Resources by class",
        "void_class": "Class",
        "void_vocabularies": "Vocabularies used",
        # --- the ontology ---------------------------------------------------------------------
        "ontology_title": "The gov: ontology",
        "ontology_other_terms": "Other terms",
    },
    "zh": {
        "site_name": "肇庆法治政府知识图谱",
        "meta_description": "以关联数据发布《西江日报》肇庆法治政府建设报道中的每一条事实，"
        "每条都附有报道原文：网页、SPARQL 查询端点、图表和下载。",
        "meta_resource": "{title}：肇庆法治政府知识图谱中的相关事实、"
        "《西江日报》报道中陈述这些事实的原文，以及关联资源。",
        "meta_query": "用 SPARQL 查询肇庆法治政府知识图谱：可补全名称的编辑器、"
        "可直接运行的问题，结果以表格和图表显示。",
        "meta_ontology": "肇庆法治政府知识图谱的 gov: 本体：类和属性，"
        "提供 HTML、Turtle、JSON-LD、RDF/XML 和 N-Triples 格式。",
        "skip_to_content": "跳到正文",
        "menu": "网站导航",
        "nav_home": "首页",
        "nav_query": "查询",
        "nav_questions": "问题",
        "nav_ontology": "本体",
        "nav_dumps": "数据下载",
        "nav_void": "数据集描述",
        "nav_catalog": "数据目录",
        "language": "语言",
        "footer": "事实取自《西江日报》关于肇庆市的一篇报道，每条事实都附有报道中陈述它的原文。"
        "数据采用 CC BY 4.0 许可。",
        "footer_endpoint": "SPARQL 端点",
        "search_title": "搜索",
        "search_title_for": "搜索：{query}",
        "search_label": "搜索名称、说明和报道原文",
        "search_box": "搜索",
        "search_button": "搜索",
        "search_hint": "输入中文或英文词语，例如 零跑动、肇商通。"
        "包含全部词语的资源排在前面，其后是包含部分词语的资源。",
        "search_count": "“{query}”找到 {count} 个资源。",
        "search_none": "没有找到“{query}”。",
        "search_partial": "部分词语",
        "search_kind_label": "名称",
        "search_kind_description": "说明",
        "search_kind_quote": "报道原文",
        "home_title": "肇庆法治政府建设，一条条事实",
        "home_lead": "《西江日报》一篇报道中关于广东省肇庆市建设法治政府、改革政务服务的全部事实："
        "每个数字、每项率先、每部法规，都链接到报道中陈述它的那句话。",
        "home_source": "来源",
        "home_source_text": "肇庆市的日报《西江日报》的报道。全文收录于此，每段被引用的原文都已标出；"
        "点击标出的原文，即可查看由它得出的事实。",
        "home_read_article": "阅读标注了事实的报道全文",
        "home_about_article": "关于这篇报道",
        "home_figures": "报道中的数字",
        "home_figures_lead": "报道陈述的每一个数字，按报道中出现的顺序排列。点击可查看该数字、"
        "它的图表和出处原句。",
        "home_firsts": "肇庆的“率先”",
        "home_firsts_lead": "报道称肇庆在以下 {count} 个事项上率先（率先、首创）：",
        "home_charts": "统计图表",
        "home_charts_lead": "报道中的数字按统计数据集归类：每个数据集（每种单位）一张图；"
        "点击标题可打开该数据集的页面及其数据表。",
        "home_explore": "浏览",
        "home_city": "肇庆市",
        "home_city_text": "报道中关于这座城市的一切",
        "home_questions": "图谱能回答的问题",
        "home_questions_text": "{count} 个预置问题，每个都附有答案",
        "home_query": "提出您自己的问题",
        "home_query_text": "SPARQL 查询编辑器，附有示例",
        "home_dumps": "下载数据",
        "home_dumps_text": "整个图谱的各种 RDF 格式文件，供您用自己的工具处理",
        "home_ontology": "词汇表",
        "home_ontology_text": "描述这些事实所用的 gov: 本体术语",
        "home_how": "制作方法",
        "home_how_text": "每条事实都用标准词汇（W3C ORG、RDF Data Cube、PROV-O、Web Annotation 等）描述，"
        "并链接到其依据：报道的原文，按引文和位置标出。报道没有说的，一概不加。",
        "scope_none": "首创，未注明范围",
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
        "shortcut": "按 Ctrl+Enter 运行查询；按 Ctrl+空格 提示前缀、术语和资源",
        "editor_keys": "在编辑器中按 Tab 键会缩进：先按 Esc 再按 Tab，即可移到下一个控件。",
        "open_as": "结果格式",
        "graph_formats": "CONSTRUCT / DESCRIBE",
        "prefixes_summary": "已知前缀（{count} 个）——无需写 PREFIX",
        "prefixes_explained": "运行查询时，页面会为查询中使用但未声明的每个已知前缀自动声明。"
        "编辑框中的文字保持原样，错误按您自己的行号和列号标出；下载链接包含这些声明。",
        "stored_question": "问题",
        "results": "结果",
        "results_table": "查询结果，共 {count} 行",
        "view_table": "表格",
        "view_chart": "图表",
        "view_bar": "柱状图",
        "view_line": "折线图",
        "view_graph": "关系图",
        "graph_of": "{count} 个三元组的关系图：主语和宾语为节点，谓语为箭头",
        "graph_keys": "按 Tab 键进入关系图，用方向键在节点间移动并读出其箭头，按 Enter 打开节点。",
        "graph_too_big": "关系图最多绘制 {limit} 个三元组；本结果有 {count} 个。",
        "views": "结果视图",
        "chart_of": "{value}（按 {category}）",
        "chart_value": "数值列",
        "chart_category": "名称列",
        "chart_unit": "单位",
        "chart_no_unit": "（无）",
        "chart_units": "这些数值有 {count} 种不同的单位，一条坐标轴只能有一种：图表只绘制在此选定的单位。",
        "sort_by": "按 {column} 排序",
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
        "error_at": "位于第 {line} 行第 {column} 列",
        "error_detail": "查询引擎的原始信息：",
        "timeout": "查询运行超过 {seconds} 秒，已被停止。",
        "out_of_memory": "查询所需内存超过单个查询的上限，已被停止。",
        "too_large": "查询过长",
        "busy": "服务器正忙于其他查询，请稍后再试。",
        "read_only": "本端点只回答查询，不接受更新。",
        "failed": "查询无法运行（HTTP {status}）",
        "unreachable": "无法连接服务器。",
        "truncated": "只显示部分结果：结果已按服务器上限 {limit} 行截断。",
        "share": "本查询的链接",
        "copy_link": "复制",
        "csv_excel": "CSV（Excel 用）",
        "export_properties": "下载此表",
        "filter_rows": "筛选此表",
        "rows_shown": "显示 {count} 个值中的 {shown} 个",
        "export_dataset": "下载该数据集的全部观测值",
        "export_in_editor": "在编辑器中查看查询",
        "copied": "已复制",
        "download": "下载",
        "link_too_long": "查询过长，无法完整放入链接；下面的链接可能无法使用。",
        "no_query": "请先输入查询。",
        "col_subject": "主语",
        "col_predicate": "谓语",
        "col_object": "宾语",
        "listing_title": "图谱能回答的问题",
        "listing_lead": "知识图谱的能力问题：每个问题都是一个 SPARQL 查询，可在此运行、以任一结果格式获取，"
        "或查看其文本。",
        "listing_open": "在查询页打开",
        "listing_results": "结果",
        "listing_text": "SPARQL 文本",
        "listing_parameters": "参数",
        "listing_api": "供程序使用的同一列表，以及本服务器全部接口的说明：",
        "types": "类型",
        "properties": "属性",
        "property": "属性",
        "value": "值",
        "incoming": "指向此资源的链接",
        "incoming_from": "{count} 个链接来自",
        "subject": "来自",
        "evidence": "原文依据",
        "interpretation": "编辑推断",
        "interpretation_intro": "以下陈述超出报道原文，是编辑推断：",
        "as": "本描述的其他格式",
        "more": "个值未显示；RDF 格式包含全部值",
        "incoming_more": "仅列出前面的链接；全部链接请查询 SPARQL 端点。",
        "annotation": "标注",
        "no_properties": "没有以此资源为主语的三元组；它只作为其他三元组的宾语出现。",
        "quote_only": "引用原文（未能在文章中定位其所在句子）：",
        "article": "文章全文（标出的是各事实所依据的原文）",
        "article_hint": "点按标出的文字即可打开它所陈述的事实；"
        "支持多条事实的文字（双下划线）会列出这些事实。",
        "article_facts_here": "这段文字支持 {count} 条事实",
        "key_value": "数值",
        "unit": "单位",
        "series": "本数据集的数据序列",
        "series_of": "此数字所属的数据序列",
        "chart_table": "图表中的数字",
        "chart_split": "这些数值有 {count} 种不同的单位：每种单位各绘一张图。",
        "chart_current": "本观测值",
        "chart_others": "该数据集的其他观测值",
        "neighbourhood": "关联一览",
        "neighbourhood_hint": "中间是本资源，周围是它链接到的资源和链接到它的资源；"
        "点击节点可打开其页面；也可按 Tab 键进入关联图，用方向键在节点间移动（按 Enter 打开）。"
        "下方表格列出同样的链接。",
        "neighbourhood_out": "它链接到",
        "neighbourhood_in": "链接到它的",
        "neighbourhood_label": "{title} 的关联图：{count} 个相关资源",
        "neighbourhood_left_out": "另有 {count} 个相关资源只在表格中列出。",
        "quote_after": "接在“{words}”之后",
        "observation": "观测值",
        "unnamed": "（无名称）",
        "selector_quote": "引文",
        "selector_position": "第 {start}–{end} 个字符",
        "graph_heading": "命名图 {slug}",
        "graph_summary": "共 {triples} 个三元组，涉及 {subjects} 个主语。其 RDF 格式包含全部三元组。",
        "graph_no_types": "没有带类型的资源。",
        "graph_classes": "按类型列出的资源",
        "not_found_title": "未找到",
        "not_found_text": "本数据集中没有关于 {iri} 的三元组：它既不是任何三元组的主语，也不是宾语。",
        "same_kind": "同类资源",
        "more_count": "……另有 {count} 个",
        "not_found_help": "可从首页或查询页查找资源、浏览本体，或下载整个数据集。",
        "error_title": "出错了",
        "error_heading": "错误 {status}：{reason}",
        "error_client": "无法响应该请求",
        "error_400": "请求无效",
        "error_403": "已拒绝",
        "error_404": "未找到",
        "error_405": "不允许该请求方法",
        "error_406": "没有所要求的格式",
        "error_413": "内容过大",
        "error_415": "不支持的媒体类型",
        "error_429": "请求过多",
        "error_502": "数据存储没有响应",
        "error_503": "服务器繁忙，或查询超时",
        "error_help_client": "请检查网址或查询语句后重试。",
        "error_help_404": "本网站没有这个地址所指的内容。可从首页或查询页查找资源。",
        "error_help_server": "问题出在服务器一方，而不是您的请求。请稍后重试。",
        "error_help_503": "服务器繁忙或查询超时。请稍后重试；"
        "耗时过长的查询可以用 LIMIT、FILTER 或更少的 OPTIONAL 缩小范围。",
        "error_detail_label": "服务器的原始信息：",
        "error_status": "HTTP 状态码 {status}",
        "error_home": "返回首页",
        "dumps_title": "数据下载",
        "dumps_lead": "整个数据集（命名图 {graphs}）的各种格式，提供原始文件和 gzip 压缩文件。",
        "dumps_version": "版本 {version}，最后修改于 {modified}。",
        "dumps_graphs": "N-Quads 和 TriG 格式分别保存各个命名图；其他格式保存它们的并集。",
        "dumps_licence": "许可协议：",
        "dumps_file": "文件",
        "dumps_format": "格式",
        "dumps_media_type": "媒体类型",
        "dumps_size": "大小",
        "dumps_checksum": "SHA-256 校验值",
        "dumps_gzipped": "gzip 压缩",
        "dumps_on_demand": "首次下载时生成",
        "dumps_json": "此列表的 JSON 格式：",
        "dumps_described": "数据集描述：",
        "void_title": "数据集描述（VoID）",
        "catalog_title": "数据目录（DCAT-AP）",
        "catalog_lead": "DCAT-AP 3.0.1 目录，供开放数据门户采集。",
        "catalog_dataset": "数据集",
        "catalog_keywords": "关键词",
        "catalog_themes": "主题",
        "catalog_spatial": "地区",
        "catalog_licence": "许可协议",
        "catalog_modified": "修改时间",
        "catalog_version": "版本",
        "catalog_endpoint": "SPARQL 端点",
        "catalog_distributions": "分发",
        "void_triples": "三元组数",
        "void_entities": "实体数",
        "void_subjects": "不同主语数",
        "void_objects": "不同宾语数",
        "void_classes": "类的数目",
        "void_properties": "属性数目",
        "void_uri_space": "URI 空间",
        "void_dumps": "数据下载",
        "void_files": "{count} 个文件",
        "void_examples": "示例资源",
        "void_linksets": "指向其他数据集的链接",
        "void_links": "{count} 个链接",
        "void_subsets": "命名图",
        "void_class_partition": "按类统计的资源",
        "void_class": "类",
        "void_vocabularies": "所用词汇",
        "ontology_title": "gov: 本体",
        "ontology_other_terms": "其他术语",
    },
}
