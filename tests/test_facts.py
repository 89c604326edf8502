"""The knowledge graph's content: it loads, conforms to its shapes, cites exact evidence, and says what the
article says — nothing more.

The spot checks ask the pyoxigraph store (the one the endpoint serves) with SPARQL over the union of the
named graphs; SHACL runs with pySHACL over the ontology and the fact files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from govkg.graph.evidence import AmbiguousQuote, QuoteNotFound, check_annotations, locate, main
from govkg.graph.knowledge_graph import (
    LINKS_DIR,
    ONTOLOGY_PATH,
    SHAPES_PATH,
    fact_files,
    link_files,
    load_store,
)
from govkg.graph.source_text import article_text
from govkg.graph.stored_queries import QUERIES_DIR, load_stored_queries
from govkg.graph.validation import PreparedQueryGraph
from govkg.settings import DEFAULT_BASE_IRI

BASE = DEFAULT_BASE_IRI
ARTICLE = BASE + "id/article/xijiang-daily-zhaoqing-rule-of-law"
ARTICLE_TEXT = BASE + "id/article-text/xijiang-daily-zhaoqing-rule-of-law"
FACTS_GRAPH = BASE + "graph/facts"
LINKS_GRAPH = BASE + "graph/links"
GOV = BASE + "ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
PROV = "http://www.w3.org/ns/prov#"
EDITORIAL_INTERPRETATION = BASE + "id/activity/editorial-interpretation"

PREFIXES = f"""
PREFIX gov: <{GOV}>
PREFIX cube: <http://purl.org/linked-data/cube#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX xsd: <{XSD}>
PREFIX id: <{BASE}id/>
"""

#: The documented IRI pattern (docs/iri-policy.md): every IRI under the base matches one of these.
SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
KINDS = (
    "article|article-text|person|agent|organization|place|highlight|initiative|achievement|platform|service"
    "|rule|system|component|assessment|assessment-result|observation|dataset-cube|structure|recognition"
    "|quotation|interval|annotation|dataset|linkset|activity|interpretation"
)
IRI_PATTERN = re.compile(
    re.escape(BASE)
    + rf"(?:id/(?:{KINDS})/{SLUG}"
    + rf"|id/concept/{SLUG}/{SLUG}"
    + rf"|id/scheme/{SLUG}"
    + r"|id/year/[0-9]{4}"
    + rf"|eli/cn-441200/{SLUG}/{SLUG}(?:/[a-z]{{3}})?"
    + r"|ontology(?:#[A-Za-z][A-Za-z0-9-]*)?"
    + rf"|graph/{SLUG})"
)

#: External identifiers that may be linked: verified, or derived by DBpedia's naming rule
#: (research/vocab-and-links.md; data/links/README.md says how to add one).
ALLOWED_EXTERNAL_LINKS = {
    "https://sws.geonames.org/1784853/",
    "https://sws.geonames.org/1814991/",
    "http://www.wikidata.org/entity/Q15175",
    "http://www.wikidata.org/entity/Q148",
    "http://dbpedia.org/resource/Zhaoqing",
    "http://dbpedia.org/resource/Guangdong",
    "http://dbpedia.org/resource/WeChat",
    "http://dbpedia.org/resource/Seven_Star_Crags",
}

#: The only years the article names.
ARTICLE_YEARS = {"2017", "2018", "2019", "2020"}


# ---------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """The whole dataset as the server loads it."""
    return load_store()


@pytest.fixture(scope="module")
def ontology_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_PATH, format="turtle")


@pytest.fixture(scope="module")
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_PATH, format="turtle")


@pytest.fixture(scope="module")
def data_graph(ontology_graph: rdflib.Graph) -> rdflib.Graph:
    """The ontology and every fact file in one rdflib graph."""
    graph = rdflib.Graph()
    graph += ontology_graph
    for path in fact_files():
        graph.parse(path, format="turtle")
    return graph


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    """Run a SELECT over the union of the named graphs; bind each variable to its term's lexical value."""
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    names = [variable.value for variable in solutions.variables]
    return [
        {name: solution[name].value for name in names if solution[name] is not None} for solution in solutions
    ]


def ask(store: ox.Store, query: str) -> bool:
    return bool(store.query(PREFIXES + query, use_default_graph_as_union=True))


def validate(
    data: rdflib.Graph,
    shapes: rdflib.Graph,
    ontology: rdflib.Graph,
    focus: Iterable[rdflib.URIRef] | None = None,
) -> tuple[bool, str]:
    """SHACL over ``data`` with the ``ontology`` mixed in: every target, or only the ``focus`` nodes
    (seconds instead of a minute). In place on a copy that parses each SPARQL constraint once."""
    graph = PreparedQueryGraph()
    graph += data
    graph += ontology
    conforms, _, report = pyshacl.validate(
        graph,
        shacl_graph=shapes,
        inference="none",
        focus_nodes=None if focus is None else sorted(focus),
        inplace=True,
    )
    return bool(conforms), report


def around(graph: rdflib.Graph, triples: Iterable[tuple]) -> set[rdflib.URIRef]:
    """The resources of ``triples`` and those one link away from them, either way: the focus nodes
    whose shapes a change to those triples can break (a mark's shape targets the node it marks)."""
    ends = {term for triple in triples for term in (triple[0], triple[2]) if isinstance(term, rdflib.URIRef)}
    near = set(ends)
    for node in ends:
        near.update(term for term in graph.objects(node) if isinstance(term, rdflib.URIRef))
        near.update(term for term in graph.subjects(None, node) if isinstance(term, rdflib.URIRef))
    return near


def copy_of(graph: rdflib.Graph) -> rdflib.Graph:
    copy = rdflib.Graph()
    copy += graph
    return copy


def all_terms(store: ox.Store) -> Iterator[ox.NamedNode | ox.BlankNode | ox.Literal]:
    for quad in store:
        yield from (quad.subject, quad.predicate, quad.object, quad.graph_name)


# ---------------------------------------------------------------------------------------------------------
# Loading, shapes, evidence
# ---------------------------------------------------------------------------------------------------------


def test_data_loads_into_the_three_named_graphs(store: ox.Store) -> None:
    graphs = {graph.value for graph in store.named_graphs()}
    assert {BASE + "graph/ontology", FACTS_GRAPH, LINKS_GRAPH} <= graphs
    assert len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(FACTS_GRAPH)))) > 1500
    assert {path.name for path in fact_files()} >= {
        "00-article.ttl",
        "01-overview.ttl",
        "02-six-firsts.ttl",
        "03-internet-plus.ttl",
        "04-decision-making.ttl",
        "05-legislation.ttl",
        "concepts.ttl",
    }
    assert len(link_files()) >= 3


def test_facts_conform_to_the_shapes(
    data_graph: rdflib.Graph, shapes_graph: rdflib.Graph, ontology_graph: rdflib.Graph
) -> None:
    conforms, report = validate(data_graph, shapes_graph, ontology_graph)
    assert conforms, report


@pytest.mark.parametrize(
    ("what", "triple_to_remove", "message"),
    [
        (
            "evidence",
            (None, "http://www.w3.org/ns/oa#hasBody", BASE + "id/observation/matters-zero-trips"),
            "oa:hasBody of at least one oa:Annotation",
        ),
        (
            "English label",
            (BASE + "id/highlight/six-firsts", "http://www.w3.org/2000/01/rdf-schema#label", None),
            "rdfs:label in English",
        ),
        ("a dimension", (BASE + "id/observation/matters-zero-trips", GOV + "serviceModality", None), "IC-11"),
        (
            "a concept's Chinese rdfs:label",
            (BASE + "id/concept/unit/day", "http://www.w3.org/2000/01/rdf-schema#label", None),
            "rdfs:label in Chinese",
        ),
        (
            "a highlight's parts",
            (
                BASE + "id/highlight/internet-plus-fingertip-revolution",
                "http://purl.org/dc/terms/hasPart",
                None,
            ),
            "as dcterms:hasPart",
        ),
        (
            "a ranking's type",
            (BASE + "id/observation/local-featured-matters-rank-2019", RDF_TYPE, GOV + "AssessmentResult"),
            "must be a gov:AssessmentResult",
        ),
        (
            "a ranking's period",
            (
                BASE + "id/observation/local-featured-matters-rank-2019",
                "http://purl.org/linked-data/sdmx/2009/dimension#refPeriod",
                None,
            ),
            "has its period",
        ),
        (
            "a ranking's scope",
            (BASE + "id/assessment/local-featured-matters-ranking", GOV + "scope", None),
            "has its scope",
        ),
        (
            "the mark of an inferred attribution",
            (
                BASE + "id/interpretation/attribution-province-first-one-day-business-opening",
                RDF + "subject",
                None,
            ),
            "mark the statement as an editorial interpretation",
        ),
        (
            "the mark of a system's inferred attribution",
            (
                BASE + "id/interpretation/attribution-major-administrative-decision-1-n-3",
                RDF + "subject",
                None,
            ),
            "mark the statement as an editorial interpretation",
        ),
        (
            "the mark of an inferred channel",
            (BASE + "id/interpretation/channel-matters-zero-trips", PROV + "wasGeneratedBy", None),
            "mark the statement as an editorial interpretation",
        ),
        (
            "the mark of an inferred type",
            (
                BASE + "id/interpretation/type-zhaoqing-duan-inkstone-stone-resources-protection",
                RDF + "object",
                None,
            ),
            "mark the statement as an editorial interpretation",
        ),
        (
            "the Chinese note of a mark",
            (
                BASE + "id/interpretation/channel-matters-run-at-most-once",
                "http://www.w3.org/2004/02/skos/core#editorialNote",
                None,
            ),
            "editorialNote in Chinese",
        ),
        (
            "a unit",
            (
                BASE + "id/observation/zhaoshangtong-market-entities-served",
                "http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure",
                None,
            ),
            "unitMeasure",
        ),
    ],
)
def test_shapes_reject_a_fact_without(
    data_graph: rdflib.Graph,
    shapes_graph: rdflib.Graph,
    ontology_graph: rdflib.Graph,
    what: str,
    triple_to_remove: tuple[str | None, str, str | None],
    message: str,
) -> None:
    broken = copy_of(data_graph)
    pattern = tuple(rdflib.URIRef(term) if term else None for term in triple_to_remove)
    removed = list(broken.triples(pattern))
    assert removed, f"nothing to remove for {what}"
    broken.remove(pattern)
    # The whole graph conforms (test_facts_conform_to_the_shapes); here only the nodes the
    # removal can break are validated again.
    conforms, report = validate(broken, shapes_graph, ontology_graph, focus=around(data_graph, removed))
    assert not conforms
    assert message in report


def test_shapes_reject_a_number_written_as_a_string(
    data_graph: rdflib.Graph, shapes_graph: rdflib.Graph, ontology_graph: rdflib.Graph
) -> None:
    broken = copy_of(data_graph)
    observation = rdflib.URIRef(BASE + "id/observation/matters-zero-trips")
    broken.set((observation, rdflib.URIRef(GOV + "itemCount"), rdflib.Literal("1695")))
    conforms, report = validate(broken, shapes_graph, ontology_graph, focus=[observation])
    assert not conforms
    assert "xsd:integer" in report


def test_every_selector_is_an_exact_span_of_the_article(store: ox.Store) -> None:
    assert check_annotations(store, article_text(), source=ARTICLE_TEXT) == []
    targets = select(store, "SELECT DISTINCT ?target WHERE { ?target oa:hasSource ?source }")
    assert len(targets) >= 50


def test_every_target_points_into_the_article_text(store: ox.Store) -> None:
    sources = select(store, "SELECT DISTINCT ?source WHERE { [] oa:hasSource ?source }")
    assert sources == [{"source": ARTICLE_TEXT}]


def test_check_annotations_finds_a_shifted_position(data_graph: rdflib.Graph) -> None:
    broken = copy_of(data_graph)
    start = rdflib.URIRef("http://www.w3.org/ns/oa#start")
    selector, value = next(iter(broken.subject_objects(start)))
    broken.set((selector, start, rdflib.Literal(int(value) + 1)))
    problems = check_annotations(broken, article_text())
    assert len(problems) == 1
    assert "but the quote is at" in problems[0] or "is not a span" in problems[0]


def test_check_annotations_finds_a_quote_that_is_not_in_the_text(data_graph: rdflib.Graph) -> None:
    broken = copy_of(data_graph)
    exact = rdflib.URIRef("http://www.w3.org/ns/oa#exact")
    selector = broken.value(predicate=exact, object=rdflib.Literal("项目建设周期缩短2个月以上"))
    broken.set((selector, exact, rdflib.Literal("项目建设周期缩短3个月以上")))
    assert any("does not occur" in problem for problem in check_annotations(broken, article_text()))


def test_locate_refuses_missing_and_ambiguous_quotes() -> None:
    text = article_text()
    with pytest.raises(QuoteNotFound):
        locate(text, "肇庆市人民政府")
    with pytest.raises(AmbiguousQuote):
        locate(text, "互联网+掀起政务服务“指尖革命”")
    start, end = locate(text, "互联网+掀起政务服务“指尖革命”", prefix="营商环境、")
    assert text[start:end] == "互联网+掀起政务服务“指尖革命”"


def test_evidence_command_prints_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--prefix", "西江日报记者 ", "肖桂芳"]) == 0
    assert capsys.readouterr().out.strip() == "oa:start 7 ; oa:end 10"
    assert main(["率先"]) == 1


# ---------------------------------------------------------------------------------------------------------
# Literals: numbers are numbers, years are the article's
# ---------------------------------------------------------------------------------------------------------


def test_every_number_in_the_facts_is_an_integer_or_decimal(store: ox.Store) -> None:
    numeric = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?%?")
    strings = {XSD + "string"}
    bad = []
    for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(FACTS_GRAPH)):
        literal = quad.object
        if not isinstance(literal, ox.Literal) or literal.language:
            continue
        datatype = literal.datatype.value
        if datatype in strings and numeric.fullmatch(literal.value):
            bad.append(f"{quad.subject} {quad.predicate} {literal}: a number written as a string")
        if datatype.startswith(XSD) and datatype[len(XSD) :] in {
            "int",
            "long",
            "short",
            "byte",
            "float",
            "double",
            "positiveInteger",
            "unsignedInt",
        }:
            bad.append(f"{quad.subject} {quad.predicate} {literal}: use xsd:integer or xsd:decimal")
    assert bad == []


def test_every_measure_value_is_an_integer_or_decimal(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?observation ?measure ?value (DATATYPE(?value) AS ?datatype) WHERE {
          ?observation cube:dataSet ?dataSet ; ?measure ?value .
          ?measure rdfs:subPropertyOf sdmx-measure:obsValue .
        }
        """,
    )
    assert len(rows) == 20
    assert {row["datatype"] for row in rows} <= {XSD + "integer", XSD + "decimal"}


def test_no_year_but_the_articles_anywhere(store: ox.Store) -> None:
    years = {
        term.value
        for term in all_terms(store)
        if isinstance(term, ox.Literal) and term.datatype.value == XSD + "gYear"
    }
    assert years == ARTICLE_YEARS
    dates = [
        term
        for term in all_terms(store)
        if isinstance(term, ox.Literal)
        and term.datatype.value in {XSD + "date", XSD + "dateTime", XSD + "gYearMonth"}
        and term.value != "2026-11-27"  # the ontology's own modification date
    ]
    assert dates == []


# ---------------------------------------------------------------------------------------------------------
# Spot checks of the article's facts
# ---------------------------------------------------------------------------------------------------------


def test_byline(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?author ?contributor ?publisher WHERE {
          id:article\\/xijiang-daily-zhaoqing-rule-of-law <http://schema.org/author>/rdfs:label ?author ;
              <http://schema.org/contributor>/rdfs:label ?contributor ;
              <http://schema.org/publisher>/rdfs:label ?publisher .
          FILTER (LANG(?author) = "zh" && LANG(?contributor) = "zh" && LANG(?publisher) = "zh")
        }
        """,
    )
    assert rows == [{"author": "肖桂芳", "contributor": "吴宇玲", "publisher": "西江日报"}]


def test_four_highlights(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?label WHERE {
          ?initiative gov:hasHighlight ?highlight . ?highlight rdfs:label ?label FILTER (LANG(?label) = "zh")
        }
        """,
    )
    assert sorted(row["label"] for row in rows) == sorted(
        [
            "全省“六个”率先打造法治化营商环境",
            "互联网+掀起政务服务“指尖革命”",
            "首创“1+N+3”模式确保政府依法决策",
            "立良法力促法治社会发展",
        ]
    )


def test_six_firsts_are_five_in_the_province_and_one_in_the_nation(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?scope (COUNT(?achievement) AS ?count) WHERE {
          id:highlight\\/six-firsts gov:memberCount 6 ; <http://purl.org/dc/terms/hasPart> ?achievement .
          ?achievement a gov:FirstMoverAchievement ; gov:scope ?scope .
        } GROUP BY ?scope
        """,
    )
    counts = {row["scope"].rsplit("/", 1)[1]: int(row["count"]) for row in rows}
    assert counts == {"province": 5, "nation": 1}
    nation = select(
        store,
        """
        SELECT ?label WHERE {
          id:highlight\\/six-firsts <http://purl.org/dc/terms/hasPart> ?achievement .
          ?achievement gov:scope id:concept\\/first-mover-scope\\/nation ; gov:concerns/rdfs:label ?label .
          FILTER (LANG(?label) = "zh")
        }
        """,
    )
    assert nation == [{"label": "“双容双承诺”改革"}]


def test_the_firsts_outside_the_six(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?achievement ?scope WHERE {
          ?achievement a gov:FirstMoverAchievement .
          OPTIONAL { ?achievement gov:scope ?scope }
          FILTER NOT EXISTS { id:highlight\\/six-firsts <http://purl.org/dc/terms/hasPart> ?achievement }
        }
        """,
    )
    found = {row["achievement"].rsplit("/", 1)[1]: row.get("scope", "").rsplit("/", 1)[-1] for row in rows}
    assert found == {
        "province-first-yueshengshi-zhaoqing": "province",
        "province-first-featured-services": "province",
        "province-first-complete-decision-making-system": "province",
        "pioneered-1-n-3-model": "",  # 首创 names no scope
    }


def test_assessment_ranks_follow_the_order_of_fenbie(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?year ?rank WHERE {
          ?result a gov:AssessmentResult ; gov:assessment/rdfs:label "法治政府考评"@zh ;
              sdmx-dimension:refPeriod/time:hasDateTimeDescription/time:year ?year ; gov:rank ?rank .
        } ORDER BY ?year
        """,
    )
    assert rows == [{"year": "2018", "rank": "1"}, {"year": "2019", "rank": "4"}]
    grades = select(
        store,
        """
        SELECT ?year ?grade WHERE {
          ?result gov:assessment/rdfs:label "法治广东建设考评"@zh ;
              sdmx-dimension:refPeriod/time:hasDateTimeDescription/time:year ?year ;
              gov:grade/skos:prefLabel ?grade .
          FILTER (LANG(?grade) = "zh")
        } ORDER BY ?year
        """,
    )
    assert grades == [{"year": "2018", "grade": "优秀市"}, {"year": "2019", "grade": "优秀市"}]


def test_the_citys_market_entities_are_the_total_the_services_are_for(store: ox.Store) -> None:
    """全市22万家市场主体 is the city's total, those the platform's services are for, not a count served."""
    assert ask(
        store,
        """
        ASK { ?observation gov:marketEntityCount 220000 ; sdmx-dimension:refArea id:place\\/zhaoqing ;
              dcterms:subject id:agent\\/zhaoqing-market-entities ;
              sdmx-attribute:unitMeasure id:concept\\/unit\\/market-entity .
              FILTER NOT EXISTS { ?observation gov:channel ?any }
              ?service dcterms:audience id:agent\\/zhaoqing-market-entities ;
                  <http://data.europa.eu/m8g/hasChannel> id:platform\\/zhaoshangtong .
              id:platform\\/zhaoshangtong gov:usesTechnology id:concept\\/technology\\/big-data ,
                  id:concept\\/technology\\/artificial-intelligence ,
                  id:concept\\/technology\\/virtual-reality . }
        """,
    )


def test_business_opening_time_has_three_steps_and_the_period_is_the_sequences(store: ox.Store) -> None:
    """从2017年起 is the period of the 7 → 3 → 1 sequence as a whole: no step claims it for itself."""
    rows = select(
        store,
        """
        SELECT ?step ?days ?begins WHERE {
          ?observation gov:sequenceIndex ?step ; gov:processingTime ?days ;
              sdmx-attribute:unitMeasure id:concept\\/unit\\/day ;
              cube:dataSet/dcterms:temporal/time:hasBeginning/time:inDateTime/time:year ?begins .
        } ORDER BY ?step
        """,
    )
    assert [(row["step"], row["days"], row["begins"]) for row in rows] == [
        ("1", "7", "2017"),
        ("2", "3", "2017"),
        ("3", "1", "2017"),
    ]
    assert not ask(store, "ASK { ?observation gov:sequenceIndex ?step ; sdmx-dimension:refPeriod ?period }")
    # The sequence's period is traced to its words like every fact: the data set has its own evidence.
    evidence = select(
        store,
        """SELECT ?exact WHERE { [] oa:hasBody id:dataset-cube\\/business-opening-time ;
                                    oa:hasTarget/oa:hasSelector/oa:exact ?exact }""",
    )
    assert [row["exact"] for row in evidence] == ["从2017年起"]


def test_business_opening_convenience_rank_names_no_year(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?rank ?years ?gyear WHERE {
          ?result gov:assessment id:assessment\\/business-opening-convenience ; gov:rank ?rank ;
              sdmx-dimension:refPeriod ?period .
          ?period time:hasDurationDescription/time:years ?years .
          OPTIONAL { ?period (time:hasBeginning|time:hasEnd)/time:inDateTime/time:year ?gyear }
          OPTIONAL { ?period time:hasDateTimeDescription/time:year ?gyear }
        }
        """,
    )
    assert rows == [{"rank": "4", "years": "2"}] or rows == [{"rank": "4", "years": "2.0"}]


def test_lower_bounds_and_percentages(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?value (DATATYPE(?value) AS ?datatype) ?unit WHERE {
          ?observation gov:reduction ?value ; gov:valueQualifier id:concept\\/value-qualifier\\/or-more ;
              sdmx-attribute:unitMeasure ?unit .
        } ORDER BY ?value
        """,
    )
    assert [(float(row["value"]), row["datatype"], row["unit"].rsplit("/", 1)[1]) for row in rows] == [
        (2.0, XSD + "integer", "month"),
        (90.0, XSD + "decimal", "percent"),
    ]


def test_major_decisions_and_their_rates_since_2020(store: ox.Store) -> None:
    assert ask(
        store,
        """
        ASK { ?observation gov:decisionCount 599 ; sdmx-dimension:refPeriod id:interval\\/since-2020 .
              id:interval\\/since-2020 time:hasBeginning/time:inDateTime/time:year "2020"^^xsd:gYear .
              FILTER NOT EXISTS { id:interval\\/since-2020 time:hasEnd ?end } }
        """,
    )
    rows = select(
        store,
        """
        SELECT ?indicator ?rate WHERE {
          ?observation gov:rate ?rate ; gov:indicator/skos:prefLabel ?indicator ;
              sdmx-dimension:refPeriod id:interval\\/since-2020 .
          FILTER (LANG(?indicator) = "zh")
        }
        """,
    )
    assert {row["indicator"]: float(row["rate"]) for row in rows} == {
        "合法性审查率": 100.0,
        "审查发现问题处理率": 100.0,
        "集体讨论研究率": 100.0,
    }


def test_legislation_counts_since_2020(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?type ?count WHERE {
          ?observation gov:legalActCount ?count ; gov:legalActType/skos:prefLabel ?type ;
              sdmx-dimension:refPeriod id:interval\\/since-2020 .
          FILTER (LANG(?type) = "zh")
        }
        """,
    )
    assert {row["type"]: int(row["count"]) for row in rows} == {
        "地方性法规": 2,
        "政府规章": 2,
        "行政规范性文件": 38,
    }


def test_three_regulations_with_full_titles_and_nothing_invented(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?resource ?title ?action ?about WHERE {
          ?resource a eli:LegalResource ; eli:is_realized_by/eli:title ?title ;
              gov:reportedAction/skos:prefLabel ?action ; eli:is_about ?about .
          FILTER (LANG(?action) = "zh")
        }
        """,
    )
    assert {(row["title"], row["action"]) for row in rows} == {
        ("肇庆古城墙保护条例", "立法"),
        ("肇庆市星湖风景名胜区七星岩景区保护管理条例", "出台"),
        ("肇庆市端砚石资源保护条例", "颁布"),
    }
    assert all(row["resource"].startswith(BASE + "eli/cn-441200/local-regulation/") for row in rows)
    assert not ask(
        store,
        """
        ASK { ?resource a eli:LegalResource ;
              (eli:date_document|eli:date_publication|eli:first_date_entry_in_force|eli:number
               |eli:id_local|eli:passed_by) ?value }
        """,
    )


def test_recognition_of_the_double_commitment_reform(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?size ?edition ?year WHERE {
          ?recognition a gov:Recognition ; gov:shortlistSize ?size ;
              gov:recognizedItem id:initiative\\/double-tolerance-double-commitment ;
              gov:inSelection ?selection .
          ?selection gov:edition ?edition ;
              <http://purl.org/dc/terms/temporal>/time:hasDateTimeDescription/time:year ?year .
        }
        """,
    )
    assert rows == [{"size": "50", "edition": "2", "year": "2019"}]


def test_one_n_three_system(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?component ?count WHERE {
          id:system\\/major-administrative-decision-1-n-3 gov:hasComponent ?component .
          OPTIONAL { ?component gov:memberCount ?count }
        }
        """,
    )
    counts = {row["component"].rsplit("/", 1)[1]: row.get("count") for row in rows}
    assert counts == {
        "major-decision-procedure-provisions": None,
        "supporting-detailed-documents": None,  # "N": the article gives no number
        "three-platforms": "3",
    }
    platforms = select(
        store,
        """
        SELECT ?label WHERE {
          id:component\\/three-platforms <http://purl.org/dc/terms/hasPart>/rdfs:label ?label .
          FILTER (LANG(?label) = "zh")
        }
        """,
    )
    assert {row["label"] for row in platforms} == {"市政府法律顾问团队", "社会公众参与平台", "咨询论证专家库"}


def test_quotation_is_verbatim_and_attributed(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?text ?who WHERE {
          ?quotation a <http://schema.org/Quotation> ; <http://schema.org/text> ?text ;
              prov:wasAttributedTo/rdfs:label ?who .
          FILTER (LANG(?who) = "zh")
        }
        """,
    )
    assert len(rows) == 1
    assert rows[0]["who"] == "不少群众"
    assert rows[0]["text"] in article_text()
    assert rows[0]["text"].startswith("以前办理一个业务") and rows[0]["text"].endswith("像网购一样方便。")


def test_every_highlight_has_its_parts_by_one_property(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?highlight (COUNT(?part) AS ?parts) WHERE {
          ?highlight a gov:Highlight . OPTIONAL { ?highlight dcterms:hasPart ?part }
        } GROUP BY ?highlight
        """,
    )
    parts = {row["highlight"].rsplit("/", 1)[1]: int(row["parts"]) for row in rows}
    assert parts == {
        "six-firsts": 6,
        "internet-plus-fingertip-revolution": 5,
        "pioneering-1-n-3-model": 6,  # with the 599 decisions and the three rates it frames
        "good-laws-rule-of-law-society": 5,
    }
    assert not ask(store, "ASK { ?highlight a gov:Highlight ; gov:concerns ?anything }")
    assert ask(
        store,
        "ASK { id:highlight\\/internet-plus-fingertip-revolution dcterms:hasPart "
        "id:achievement\\/province-first-yueshengshi-zhaoqing }",
    )


def test_every_rank_is_an_assessment_result_with_period_and_scope(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?result ?rank ?scope ?year WHERE {
          ?result gov:rank ?rank .
          OPTIONAL { ?result a ?type FILTER (?type = gov:AssessmentResult) }
          FILTER (BOUND(?type))
          ?result sdmx-dimension:refPeriod ?period ; gov:assessment/gov:scope ?scope .
          OPTIONAL { ?period time:hasDateTimeDescription/time:year ?year }
        }
        """,
    )
    assert len(rows) == len(select(store, "SELECT ?result WHERE { ?result gov:rank ?rank }")) == 4
    featured = [row for row in rows if row["result"].endswith("/local-featured-matters-rank-2019")]
    assert featured == [
        {
            "result": BASE + "id/observation/local-featured-matters-rank-2019",
            "rank": "2",
            "scope": BASE + "id/concept/first-mover-scope/province",
            "year": "2019",
        }
    ]


def test_regulations_are_examples_of_the_local_legislation_with_verbatim_purposes(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?regulation ?purpose ?quote WHERE {
          ?regulation prov:wasGeneratedBy id:initiative\\/local-distinctive-legislation ;
              gov:purpose ?purpose .
          FILTER (LANG(?purpose) = "zh")
          ?annotation oa:hasBody ?regulation ; oa:hasTarget/oa:hasSelector/oa:exact ?quote .
          FILTER (!CONTAINS(?quote, "如为"))
        }
        """,
    )
    assert len(rows) == 3
    text = article_text()
    for row in rows:
        # The purpose is the article's own words, inside the passage that names the regulation.
        assert row["purpose"] in row["quote"] and row["quote"] in text
    assert {row["purpose"] for row in rows} == {
        "保护国家历史文化和城市价值",
        "为风景名胜区生态环境和自然资源的永续利用保驾护航",
        "保护不可再生稀缺矿产资源,促进可持续利用,擦亮肇庆端砚文化名片",
    }


def test_yueshengshi_zhaoqing_is_the_prefecture_level_edition_of_yueshengshi(store: ox.Store) -> None:
    assert ask(
        store,
        """
        ASK { id:platform\\/yueshengshi-zhaoqing dcterms:isVersionOf id:platform\\/yueshengshi ;
              dcterms:type/skos:prefLabel "地级市专版"@zh . }
        """,
    )


def test_the_three_decision_making_platforms_are_platforms(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?member WHERE {
          id:component\\/three-platforms dcterms:hasPart ?member . ?member a gov:Platform
        }
        """,
    )
    assert len(rows) == 3
    assert ask(store, "ASK { gov:DigitalPlatform rdfs:subClassOf gov:Platform }")
    assert ask(
        store,
        'ASK { id:platform\\/provincial-network rdfs:label "the provincial government-service portal"@en }',
    )


def test_what_the_graph_infers_is_marked(store: ox.Store) -> None:
    marks = select(
        store,
        """
        SELECT ?mark ?s ?p ?o WHERE {
          ?mark prov:wasGeneratedBy id:activity\\/editorial-interpretation ;
              rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
        }
        """,
    )
    by_predicate: dict[str, int] = {}
    for mark in marks:
        by_predicate[mark["p"]] = by_predicate.get(mark["p"], 0) + 1
    assert by_predicate == {
        PROV + "wasAttributedTo": 11,  # the firsts the article credits to "我市", and the 1+N+3 system
        PROV + "wasAssociatedWith": 4,
        "http://data.europa.eu/m8g/hasCompetentAuthority": 3,
        GOV + "channel": 4,  # 660 and 1695 "在已办理事项中"; the 48 and their rank "2019年平台上线"
        "http://data.europa.eu/eli/ontology#type_document": 3,  # read from 条例
        "http://data.europa.eu/m8g/hasChannel": 3,  # the featured services "其中…等特色服务"
        "http://schema.org/about": 1,  # the public's words "使用平台后"
        PROV + "wasGeneratedBy": 3,  # the three 条例 "如…", after the counts since 2020
        "http://purl.org/dc/terms/spatial": 2,  # 粤省事 and 省网 read as Guangdong's
    }
    # Every achievement or system credited to a body is marked: the article names none as its maker.
    assert not ask(
        store,
        """
        ASK { ?achievement a ?kind ; prov:wasAttributedTo ?agent .
              VALUES ?kind { gov:FirstMoverAchievement gov:DecisionMakingSystem }
              FILTER NOT EXISTS { ?mark rdf:subject ?achievement ; rdf:predicate prov:wasAttributedTo ;
                                        rdf:object ?agent } }
        """,
    )
    # A mark describes a triple the graph states, and says why in both languages.
    for mark in marks:
        assert ask(store, f"ASK {{ <{mark['s']}> <{mark['p']}> <{mark['o']}> }}")
        notes = select(store, f"SELECT ?note WHERE {{ <{mark['mark']}> skos:editorialNote ?note }}")
        assert len(notes) == 2


def test_every_labelled_resource_has_a_zh_and_an_en_rdfs_label(store: ox.Store) -> None:
    rows = select(
        store,
        f"""
        SELECT DISTINCT ?resource WHERE {{
          VALUES ?graph {{ <{FACTS_GRAPH}> <{LINKS_GRAPH}> <{BASE}graph/ontology> }}
          GRAPH ?graph {{ ?resource rdfs:label|skos:prefLabel ?any }}
          FILTER NOT EXISTS {{
            ?resource rdfs:label ?zh , ?en . FILTER (LANG(?zh) = "zh" && LANG(?en) = "en")
          }}
        }}
        """,
    )
    assert rows == []


def test_calendar_years_are_intervals_and_instants_only_begin_periods(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?year ?value WHERE {
          ?year a time:ProperInterval ;
              time:hasDateTimeDescription [ time:unitType time:unitYear ; time:year ?value ] .
        } ORDER BY ?value
        """,
    )
    assert [(row["year"].rsplit("/", 1)[1], row["value"]) for row in rows] == [
        ("2018", "2018"),
        ("2019", "2019"),
    ]
    assert not ask(store, "ASK { ?instant a time:Instant ; time:inXSDgYear ?year }")
    assert not ask(store, "ASK { ?year a time:Instant . ?observation sdmx-dimension:refPeriod ?year }")


# ---------------------------------------------------------------------------------------------------------
# Ontology and IRIs
# ---------------------------------------------------------------------------------------------------------


def test_every_gov_term_has_labels_and_definitions_in_zh_and_en(ontology_graph: rdflib.Graph) -> None:
    terms = {
        subject
        for subject in ontology_graph.subjects()
        if isinstance(subject, rdflib.URIRef) and str(subject).startswith(GOV)
    }
    assert len(terms) >= 30
    ontology = rdflib.URIRef(BASE + "ontology")
    missing = []
    for term in sorted(terms):
        for predicate in (rdflib.RDFS.label, rdflib.SKOS.definition):
            languages = {literal.language for literal in ontology_graph.objects(term, predicate)}
            if not {"zh", "en"} <= languages:
                missing.append(f"{term} {predicate} has languages {languages}")
        if (term, rdflib.RDFS.isDefinedBy, ontology) not in ontology_graph:
            missing.append(f"{term} lacks rdfs:isDefinedBy")
    assert missing == []


def test_every_gov_term_used_is_defined(store: ox.Store, ontology_graph: rdflib.Graph) -> None:
    defined = {str(subject) for subject in ontology_graph.subjects() if str(subject).startswith(GOV)}
    used = {
        term.value
        for term in all_terms(store)
        if isinstance(term, ox.NamedNode) and term.value.startswith(GOV)
    }
    assert used - defined == set()


def test_every_iri_under_the_base_follows_the_pattern(store: ox.Store) -> None:
    iris = {
        term.value
        for term in all_terms(store)
        if isinstance(term, ox.NamedNode) and term.value.startswith(BASE)
    }
    assert len(iris) > 200
    assert sorted(iri for iri in iris if not IRI_PATTERN.fullmatch(iri)) == []


def test_no_absolute_path_of_this_machine_in_the_files() -> None:
    here = str(Path(__file__).resolve().parent.parent)
    for path in [*fact_files(), *link_files(), ONTOLOGY_PATH, SHAPES_PATH, LINKS_DIR / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert here not in text and "file://" not in text, path


# ---------------------------------------------------------------------------------------------------------
# Curated links
# ---------------------------------------------------------------------------------------------------------


def test_links_go_only_to_verified_or_derived_identifiers(store: ox.Store) -> None:
    external = {
        quad.object.value
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(LINKS_GRAPH))
        if str(quad.predicate.value)
        in {"http://www.w3.org/2002/07/owl#sameAs", "http://www.w3.org/2004/02/skos/core#closeMatch"}
    }
    assert external == ALLOWED_EXTERNAL_LINKS
    assert not ask(
        store,
        """ASK { id:place\\/zhaoqing (owl:sameAs|skos:closeMatch|skos:exactMatch) ?wikidata
                 FILTER STRSTARTS(STR(?wikidata), "http://www.wikidata.org/") }""",
    )


def test_each_linkset_counts_its_links(store: ox.Store) -> None:
    assert len(link_files(LINKS_DIR)) >= 3
    for path in link_files(LINKS_DIR):
        graph = rdflib.Graph().parse(path, format="turtle")
        for linkset in graph.subjects(rdflib.RDF.type, rdflib.VOID.Linkset):
            predicate = graph.value(linkset, rdflib.VOID.linkPredicate)
            declared = graph.value(linkset, rdflib.VOID.triples)
            subjects_target = graph.value(linkset, rdflib.VOID.subjectsTarget)
            objects_target = graph.value(linkset, rdflib.VOID.objectsTarget)
            links = [
                (s, o)
                for s, o in graph.subject_objects(predicate)
                if str(s).startswith(BASE) and not str(o).startswith(BASE)
            ]
            assert int(declared) == len(links), f"{path.name}: {linkset}"
            assert str(subjects_target) == BASE + "id/dataset/zhaoqing-rule-of-law"
            assert (objects_target, rdflib.RDF.type, rdflib.VOID.Dataset) in graph
            space = str(graph.value(objects_target, rdflib.VOID.uriSpace))
            assert all(str(o).startswith(space) for _, o in links), f"{path.name}: {linkset}"
            assert graph.value(linkset, rdflib.DCTERMS.description) is not None
            assert graph.value(linkset, rdflib.DCTERMS.source) is not None


def test_gbt2260_codes(store: ox.Store) -> None:
    rows = select(
        store,
        f"""
        SELECT ?place ?code WHERE {{
          ?place skos:notation ?code FILTER (DATATYPE(?code) = <{GOV}GBT2260Code>)
          ?place <http://purl.org/dc/terms/identifier> ?identifier FILTER (STR(?identifier) = STR(?code))
        }}
        """,
    )
    assert {(row["place"].rsplit("/", 1)[1], row["code"]) for row in rows} == {
        ("zhaoqing", "441200"),
        ("guangdong", "440000"),
    }


def test_the_words_of_the_article(store: ox.Store) -> None:
    """只跑一次 is one trip (not "at most one"); 诉求 are demands; 证明 are proofs."""
    labels = {
        row["resource"].rsplit("/", 1)[1]: row["label"]
        for row in select(
            store,
            """
            SELECT ?resource ?label WHERE {
              VALUES ?resource { id:concept\\/service-modality\\/run-at-most-once
                                 id:service\\/appeal-reporting
                                 id:concept\\/indicator\\/certificates-submitted }
              ?resource rdfs:label ?label FILTER (LANG(?label) = "en")
            }
            """,
        )
    }
    assert labels["run-at-most-once"] == "one trip"
    assert "demands" in labels["appeal-reporting"] and "appeal" not in labels["appeal-reporting"]
    assert "proofs" in labels["certificates-submitted"]


#: English words the article's terms must not be given (issue 18), and what the article says.
WRONG_WORDS = {
    r"\bat most (?:one|once)\b": "只跑一次 is one trip: not at most one",
    r"\bappeals?\b": "诉求 are demands and requests, not appeals",
    r"(?<!digital )\bcertificates?\b": "证明 are proofs of a fact or status (数字证书: digital certificate)",
    r"market entit[^.;]*\bserve[sd]?\b|\bserve[sd]?\b[^.;]*market entit": (
        "全市22万家市场主体 is the city's number the services are for, not a count served"
    ),
}


def wrong_words(text: str) -> list[str]:
    """The reasons of the wrong words ``text`` holds.

    >>> text = "660 need at most one trip; 220,000 market entities served"
    >>> [reason.split(" is ")[0] for reason in wrong_words(text)]
    ['只跑一次', '全市22万家市场主体']
    >>> wrong_words("signed with a bank digital certificate; reporting demands and requests")
    []
    """
    return [reason for pattern, reason in WRONG_WORDS.items() if re.search(pattern, text, re.IGNORECASE)]


def test_no_wrong_word_is_left_in_the_graph_or_the_questions(store: ox.Store) -> None:
    """Every English literal of the graph, and every stored question's English text, is free of them."""
    rows = select(store, 'SELECT DISTINCT ?s ?text { ?s ?p ?text FILTER (LANGMATCHES(LANG(?text), "en")) }')
    assert len(rows) > 300
    found = [(row["s"], row["text"], wrong_words(row["text"])) for row in rows if wrong_words(row["text"])]
    assert found == []
    for query in load_stored_queries(QUERIES_DIR):
        english = " ".join((query.summary, query.description))
        assert wrong_words(english) == [], query.name


def test_the_five_lists_ending_in_deng_are_open(store: ox.Store) -> None:
    rows = select(store, "SELECT ?resource ?property WHERE { ?resource gov:openList ?property }")
    assert {(row["resource"].rsplit("/", 1)[1], re.split("[#/]", row["property"])[-1]) for row in rows} == {
        ("business-opening", "isGroupedBy"),
        ("zhaoshangtong", "usesTechnology"),
        ("zhaoshangtong", "hasChannel"),
        ("province-first-featured-services", "concerns"),
        ("local-distinctive-legislation", "focusArea"),
    }


def test_scopes_are_tied_to_their_places_and_the_national_selection_has_its_scope(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?achievement WHERE {
          ?achievement a gov:FirstMoverAchievement ; gov:scope/dcterms:spatial ?province .
          id:place\\/zhaoqing <http://schema.org/containedInPlace> ?province .
        }
        """,
    )
    assert len(rows) == 8  # the firsts "在全省", joined to Zhaoqing's own province
    assert ask(
        store,
        """ASK { id:concept\\/first-mover-scope\\/nation dcterms:spatial id:place\\/china .
                 id:assessment\\/china-business-environment-featured-selection-2nd
                     gov:scope id:concept\\/first-mover-scope\\/nation }""",
    )


def test_the_599_decisions_and_their_rates_are_framed_by_the_1_n_3_highlight(store: ox.Store) -> None:
    """Highlight 3 frames the figures of its section; the article does not say the 599 decisions were
    made under the 1+N+3 system, so nothing ties the figures to the system itself."""
    rows = select(
        store,
        """
        SELECT ?count ?indicator WHERE {
          id:highlight\\/pioneering-1-n-3-model
              dcterms:hasPart ?dataSet , id:system\\/major-administrative-decision-1-n-3 .
          ?observation cube:dataSet ?dataSet .
          OPTIONAL { ?observation gov:decisionCount ?count }
          OPTIONAL { ?observation gov:indicator ?indicator }
        }
        """,
    )
    assert sorted(row.get("count") or row["indicator"].rsplit("/", 1)[1] for row in rows) == [
        "599",
        "collective-deliberation-rate",
        "legality-review-rate",
        "review-problem-handling-rate",
    ]
    assert not ask(
        store,
        """ASK { ?observation cube:dataSet/^dcterms:hasPart id:highlight\\/pioneering-1-n-3-model .
                 { ?observation ?p id:system\\/major-administrative-decision-1-n-3 }
                 UNION { id:system\\/major-administrative-decision-1-n-3 ?p ?observation } }""",
    )


def test_the_48_featured_matters_and_their_rank_are_linked(store: ox.Store) -> None:
    assert ask(
        store,
        """ASK { id:observation\\/local-featured-matters-rank-2019 gov:rank 2 ;
                     gov:rankedObservation id:observation\\/local-featured-matters-2019 .
                 id:observation\\/local-featured-matters-2019 gov:itemCount 48 }""",
    )


def test_real_world_things_and_activities_are_not_derived_from_the_article(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?thing WHERE {
          ?thing prov:wasDerivedFrom ?source .
          FILTER NOT EXISTS {
            VALUES ?description { cube:Observation cube:DataSet gov:FirstMoverAchievement gov:Highlight
                                   gov:Recognition <http://schema.org/Quotation> rdf:Statement
                                   <http://purl.org/dc/dcmitype/Text> <http://rdfs.org/ns/void#Dataset>
                                   <http://www.w3.org/ns/dcat#Dataset> }
            ?thing a/rdfs:subClassOf* ?description
          }
        }
        """,
    )
    assert rows == []
    assert not ask(store, "ASK { id:place\\/zhaoqing prov:wasDerivedFrom ?source }")
