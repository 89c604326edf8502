"""The standards' own checks on the served graph, not only our shapes.

- W3C RDF Data Cube: the integrity constraints IC-1 … IC-21 as the Recommendation's SPARQL,
  run after its normalization algorithm (§10.2) on a copy of the ontology and facts, with the
  SDMX vocabulary's own ranges for the SDMX dimensions loaded (tests/data/sdmx-dimension-ranges.ttl).
- PROV-CONSTRAINTS: entities and activities are disjoint (Constraint 50, "impossible
  disjointness of entities and activities"), with the types PROV-O's domains and ranges give.
- SKOS integrity conditions S9, S13, S14, S27 and S46 of the SKOS Reference.
- Web Annotation: every TextQuoteSelector's exact is the text that the TextPositionSelector of
  the same target selects (start inclusive, end exclusive, in code points) in the source, and
  its prefix and suffix are the text around it.

Each check has a negative case on a minimal graph, so it is known to fail when it should.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from govkg.graph.knowledge_graph import graph_parts, load_store
from govkg.graph.source_text import article_text
from govkg.settings import DEFAULT_BASE_IRI

from tests.standards import data_cube

SDMX_RANGES = Path(__file__).parent / "data" / "sdmx-dimension-ranges.ttl"
ARTICLE_TEXT = DEFAULT_BASE_IRI + "id/article-text/xijiang-daily-zhaoqing-rule-of-law"

PREFIXES = """\
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX qb: <http://purl.org/linked-data/cube#>
"""


def default_graph_copy(store: ox.Store, *extra: Path) -> ox.Store:
    """A new store with every triple of ``store`` (and of the ``extra`` Turtle files) in its default graph."""
    copy = ox.Store()
    copy.extend(ox.Quad(quad.subject, quad.predicate, quad.object) for quad in store)
    for path in extra:
        copy.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return copy


def turtle(text: str) -> ox.Store:
    store = ox.Store()
    store.load(
        (PREFIXES.replace("PREFIX ", "@prefix ").replace(">\n", "> .\n") + text).encode(),
        format=ox.RdfFormat.TURTLE,
    )
    return store


@pytest.fixture(scope="module")
def served() -> ox.Store:
    """The ontology, facts and links as the server's store holds them."""
    return load_store(DEFAULT_BASE_IRI, graph_parts())


# ---------------------------------------------------------------------------------------------------------
# RDF Data Cube
# ---------------------------------------------------------------------------------------------------------


def normalized(store: ox.Store) -> ox.Store:
    """§10.2: run both phases of the normalization algorithm on ``store`` (a copy: it is changed)."""
    store.update(data_cube.PREFIXES + data_cube.NORMALIZE_PHASE_1)
    store.update(data_cube.PREFIXES + data_cube.NORMALIZE_PHASE_2)
    return store


def violated_constraints(store: ox.Store) -> list[str]:
    """The names of the integrity constraints whose ASK is true on a normalized store."""
    violated = []
    for name in data_cube.INTEGRITY_CONSTRAINTS:
        query = data_cube.runnable(name)
        template = name.split(" ")[0]
        if template in data_cube.INSTANTIATIONS:
            solutions = store.query(data_cube.PREFIXES + data_cube.INSTANTIATIONS[template])
            queries = [query.replace("$p", solution["p"].value) for solution in solutions]
        else:
            queries = [query]
        if any(bool(store.query(data_cube.PREFIXES + text)) for text in queries):
            violated.append(name)
    return violated


@pytest.fixture(scope="module")
def cube(served: ox.Store) -> ox.Store:
    return normalized(default_graph_copy(served, SDMX_RANGES))


def test_the_spec_gives_twenty_one_constraints() -> None:
    names = {name.split(" ")[0] for name in data_cube.INTEGRITY_CONSTRAINTS}
    assert names == {f"IC-{n}" for n in range(1, 22)}


def test_the_cubes_pass_every_integrity_constraint(cube: ox.Store) -> None:
    assert bool(cube.query(data_cube.PREFIXES + "ASK { ?obs a qb:Observation ; qb:dataSet ?d }"))
    assert violated_constraints(cube) == []


def test_without_the_sdmx_ranges_ic4_fails(served: ox.Store) -> None:
    """The SDMX dimensions pass IC-4 only with the SDMX vocabulary's own rdfs:range loaded."""
    assert "IC-4" in violated_constraints(normalized(default_graph_copy(served)))


MINIMAL_CUBE = """\
@prefix ex: <http://example.org/> .
ex:dsd a qb:DataStructureDefinition ;
    qb:component [ qb:dimension ex:area ] , [ qb:dimension ex:kind ] , [ qb:measure ex:count ] .
ex:area rdfs:range rdfs:Resource .
ex:kind rdfs:range skos:Concept ; qb:codeList ex:kinds .
ex:kinds a skos:ConceptScheme .
ex:k1 a skos:Concept ; skos:inScheme ex:kinds .
ex:data a qb:DataSet ; qb:structure ex:dsd .
ex:o1 qb:dataSet ex:data ; ex:area ex:here ; ex:kind ex:k1 ; ex:count 1 .
"""

BROKEN_CUBES = {
    "IC-1": "ex:o1 qb:dataSet ex:other . ex:other a qb:DataSet ; qb:structure ex:dsd .",
    "IC-2": "ex:data qb:structure ex:dsd2 . ex:dsd2 qb:component [ qb:measure ex:count ] .",
    "IC-3": "ex:empty a qb:DataStructureDefinition ; qb:component [ qb:dimension ex:area ] .",
    "IC-4": "ex:dsd qb:component [ qb:dimension ex:rangeless ] . ex:o1 ex:rangeless 1 .",
    "IC-5": "ex:dsd qb:component [ qb:dimension ex:coded ] . "
    "ex:coded rdfs:range skos:Concept . "
    "ex:o1 ex:coded ex:k1 .",
    "IC-6": "ex:dsd qb:component [ qb:dimension ex:area ; qb:componentRequired false ] .",
    "IC-7": "ex:key a qb:SliceKey .",
    "IC-8": "ex:dsd qb:sliceKey ex:key . ex:key a qb:SliceKey ; qb:componentProperty ex:elsewhere .",
    "IC-9": "ex:data qb:slice ex:slice .",
    "IC-10": "ex:slice a qb:Slice ; qb:sliceStructure ex:key . ex:key qb:componentProperty ex:area .",
    "IC-11": "ex:o2 qb:dataSet ex:data ; ex:kind ex:k1 ; ex:count 2 .",
    "IC-12": "ex:o2 qb:dataSet ex:data ; ex:area ex:here ; ex:kind ex:k1 ; ex:count 2 .",
    "IC-13": "ex:dsd qb:component [ qb:attribute ex:unit ; qb:componentRequired true ] .",
    "IC-14": "ex:o2 qb:dataSet ex:data ; ex:area ex:there ; ex:kind ex:k1 .",
    "IC-15": "ex:dsd qb:component [ qb:dimension qb:measureType ] . ex:o1 qb:measureType ex:other .",
    "IC-16": "ex:dsd qb:component [ qb:dimension qb:measureType ] , [ qb:measure ex:sum ] . "
    "ex:o1 qb:measureType ex:sum ; ex:sum 3 .",
    "IC-17": "ex:dsd qb:component [ qb:dimension qb:measureType ] , [ qb:measure ex:sum ] . "
    "ex:o1 qb:measureType ex:count .",
    "IC-18": "ex:other a qb:DataSet ; qb:structure ex:dsd ; qb:slice ex:slice . "
    "ex:slice qb:observation ex:o1 .",
    "IC-19": "ex:k2 a skos:Concept . "
    "ex:o2 qb:dataSet ex:data ; ex:area ex:there ; ex:kind ex:k2 ; ex:count 2 .",
    "IC-19 (collection)": "ex:list a skos:Collection . ex:dsd qb:component [ qb:dimension ex:listed ] . "
    "ex:listed rdfs:range skos:Concept ; qb:codeList ex:list . ex:o1 ex:listed ex:k1 .",
    "IC-20": "ex:tree a qb:HierarchicalCodeList ; qb:hierarchyRoot ex:k0 ; "
    "qb:parentChildProperty ex:narrower . "
    "ex:dsd qb:component [ qb:dimension ex:place ] . "
    "ex:place rdfs:range skos:Concept ; qb:codeList ex:tree . "
    "ex:o1 ex:place ex:k1 .",
    "IC-21": "ex:tree a qb:HierarchicalCodeList ; qb:hierarchyRoot ex:k0 ; "
    "qb:parentChildProperty [ owl:inverseOf ex:broader ] . "
    "ex:dsd qb:component [ qb:dimension ex:place ] . "
    "ex:place rdfs:range skos:Concept ; qb:codeList ex:tree . "
    "ex:o1 ex:place ex:k1 .",
}


def test_a_minimal_cube_passes() -> None:
    assert violated_constraints(normalized(turtle(MINIMAL_CUBE))) == []


@pytest.mark.parametrize("name", sorted(BROKEN_CUBES))
def test_each_constraint_catches_its_violation(name: str) -> None:
    text = "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n" + MINIMAL_CUBE + BROKEN_CUBES[name]
    assert name in violated_constraints(normalized(turtle(text)))


# ---------------------------------------------------------------------------------------------------------
# PROV-CONSTRAINTS: entities and activities are disjoint
# ---------------------------------------------------------------------------------------------------------

#: A node's PROV type from its rdf:type (through rdfs:subClassOf) and from the domains and
#: ranges PROV-O gives the PROV properties the data uses.
PROV_TYPED = (
    PREFIXES
    + """\
SELECT DISTINCT ?node WHERE {
  { ?node a/rdfs:subClassOf* prov:Entity }
  UNION { ?node prov:wasDerivedFrom|prov:wasGeneratedBy|prov:wasAttributedTo|prov:generatedAtTime
               |prov:wasQuotedFrom|prov:hadPrimarySource|prov:wasRevisionOf|prov:wasInvalidatedBy [] }
  UNION { [] prov:wasDerivedFrom|prov:used|prov:wasQuotedFrom|prov:hadPrimarySource|prov:wasRevisionOf ?node }
  {
    { ?node a/rdfs:subClassOf* prov:Activity }
    UNION { ?node prov:used|prov:wasAssociatedWith|prov:startedAtTime|prov:endedAtTime|prov:wasInformedBy [] }
    UNION { [] prov:wasGeneratedBy|prov:wasInformedBy|prov:wasInvalidatedBy ?node }
  }
}"""
)


def entities_that_are_activities(store: ox.Store) -> list[str]:
    return sorted(solution["node"].value for solution in store.query(PROV_TYPED))


def test_no_node_is_both_an_entity_and_an_activity(served: ox.Store) -> None:
    store = default_graph_copy(served)
    assert bool(store.query(PREFIXES + "ASK { ?a a/rdfs:subClassOf* prov:Activity }"))
    assert entities_that_are_activities(store) == []


def test_an_activity_derived_from_something_is_caught() -> None:
    store = turtle(
        "@prefix ex: <http://example.org/> .\n"
        "ex:Reform rdfs:subClassOf prov:Activity . ex:reform a ex:Reform ; prov:wasDerivedFrom ex:article .\n"
        "ex:fact prov:wasGeneratedBy ex:run . ex:run prov:used ex:article .\n"
    )
    assert entities_that_are_activities(store) == ["http://example.org/reform"]


# ---------------------------------------------------------------------------------------------------------
# SKOS integrity conditions (SKOS Reference, W3C Recommendation 18 August 2009)
# ---------------------------------------------------------------------------------------------------------

SKOS_CONDITIONS = {
    # S9: skos:ConceptScheme is disjoint with skos:Concept.
    "S9": "ASK { ?x a skos:ConceptScheme , skos:Concept }",
    # S13: skos:prefLabel, skos:altLabel and skos:hiddenLabel are pairwise disjoint properties.
    "S13": """ASK {
      { ?x skos:prefLabel ?l ; skos:altLabel ?l } UNION { ?x skos:prefLabel ?l ; skos:hiddenLabel ?l }
      UNION { ?x skos:altLabel ?l ; skos:hiddenLabel ?l } }""",
    # S14: a resource has no more than one value of skos:prefLabel per language tag.
    "S14": """ASK { ?x skos:prefLabel ?a , ?b .
      FILTER (?a != ?b && LANG(?a) = LANG(?b)) }""",
    # S27: skos:related is disjoint with skos:broaderTransitive (skos:broader is a sub-property of it).
    "S27": "ASK { ?x skos:related ?y ; (skos:broader|skos:broaderTransitive)+ ?y }",
    # S46: skos:exactMatch is disjoint with skos:broadMatch and skos:relatedMatch.
    "S46": """ASK { ?x skos:exactMatch ?y .
      { ?x skos:broadMatch ?y } UNION { ?x skos:relatedMatch ?y } }""",
}


def violated_skos(store: ox.Store) -> list[str]:
    return [name for name, ask in SKOS_CONDITIONS.items() if bool(store.query(PREFIXES + ask))]


def test_skos_integrity(served: ox.Store) -> None:
    store = default_graph_copy(served)
    assert bool(store.query(PREFIXES + "ASK { ?c a skos:Concept ; skos:prefLabel ?l }"))
    assert violated_skos(store) == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("S9", "ex:c a skos:ConceptScheme , skos:Concept ."),
        ("S13", 'ex:c skos:prefLabel "x"@en ; skos:altLabel "x"@en .'),
        ("S14", 'ex:c skos:prefLabel "x"@en , "y"@en .'),
        ("S27", "ex:c skos:related ex:d ; skos:broader ex:e . ex:e skos:broader ex:d ."),
        ("S46", "ex:c skos:exactMatch ex:d ; skos:relatedMatch ex:d ."),
    ],
)
def test_each_skos_condition_catches_its_violation(name: str, data: str) -> None:
    assert violated_skos(turtle("@prefix ex: <http://example.org/> .\n" + data)) == [name]


# ---------------------------------------------------------------------------------------------------------
# Web Annotation: selectors resolve to their quotes
# ---------------------------------------------------------------------------------------------------------

SELECTOR_PAIRS = (
    PREFIXES
    + """\
SELECT ?target ?source ?exact ?prefix ?suffix ?start ?end WHERE {
  ?target oa:hasSource ?source ;
      oa:hasSelector ?quote , ?position .
  ?quote a oa:TextQuoteSelector ; oa:exact ?exact .
  ?position a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
  OPTIONAL { ?quote oa:prefix ?prefix }
  OPTIONAL { ?quote oa:suffix ?suffix }
}"""
)


def unresolved_selectors(store: ox.Store, texts: dict[str, str]) -> list[str]:
    """Targets whose quote is not the span their position selects (or not between its prefix and suffix)."""
    problems = []
    for row in store.query(SELECTOR_PAIRS, use_default_graph_as_union=True):
        text = texts[row["source"].value]
        start, end = int(row["start"].value), int(row["end"].value)
        exact = row["exact"].value
        where = f"{row['target']} [{start}, {end})"
        if not 0 <= start < end <= len(text) or text[start:end] != exact:
            problems.append(f"{where}: selects {text[start:end]!r}, quotes {exact!r}")
        if row["prefix"] is not None and not text[:start].endswith(row["prefix"].value):
            problems.append(f"{where}: prefix {row['prefix'].value!r} does not precede the quote")
        if row["suffix"] is not None and not text[end:].startswith(row["suffix"].value):
            problems.append(f"{where}: suffix {row['suffix'].value!r} does not follow the quote")
    return problems


def test_every_quote_is_the_span_its_position_selects(served: ox.Store) -> None:
    targets = list(served.query(SELECTOR_PAIRS, use_default_graph_as_union=True))
    assert len(targets) >= 60
    assert unresolved_selectors(served, {ARTICLE_TEXT: article_text()}) == []


def test_a_shifted_position_or_a_wrong_prefix_is_caught() -> None:
    store = turtle(
        "@prefix ex: <http://example.org/> .\n"
        'ex:t1 oa:hasSource ex:text ; oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "bc" ] ,'
        " [ a oa:TextPositionSelector ; oa:start 1 ; oa:end 3 ] .\n"
        'ex:t2 oa:hasSource ex:text ; oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "bc" ] ,'
        " [ a oa:TextPositionSelector ; oa:start 2 ; oa:end 4 ] .\n"
        "ex:t3 oa:hasSource ex:text ; oa:hasSelector "
        '[ a oa:TextQuoteSelector ; oa:exact "bc" ; oa:prefix "x" ] ,'
        " [ a oa:TextPositionSelector ; oa:start 1 ; oa:end 3 ] .\n"
    )
    problems = unresolved_selectors(store, {"http://example.org/text": "abcd"})
    assert len(problems) == 2
    assert any("selects 'cd', quotes 'bc'" in problem for problem in problems)
    assert any("prefix 'x' does not precede" in problem for problem in problems)
