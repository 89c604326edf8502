"""The shapes of issue 18 reject what they should, each on a minimal graph (fast: no copy of the data).

- real-world things and activities are not prov:wasDerivedFrom anything (PROV: activities are not
  entities; the article is the source of a description, not of the city);
- descriptions (observations, firsts …) are prov:wasDerivedFrom the article;
- selector positions are plain non-negative xsd:integer, the form the store keeps.
"""

from __future__ import annotations

import pyshacl
import pytest
import rdflib
from govkg.graph.knowledge_graph import ONTOLOGY_PATH, SHAPES_PATH

PREFIXES = """\
@prefix gov: <https://w3id.org/govkg/ontology#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix initiative: <https://w3id.org/govkg/id/initiative/> .
@prefix place: <https://w3id.org/govkg/id/place/> .
@prefix obs: <https://w3id.org/govkg/id/observation/> .
@prefix article: <https://w3id.org/govkg/id/article/> .
"""
ARTICLE = "article:xijiang-daily-zhaoqing-rule-of-law"


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_PATH, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_PATH, format="turtle")


def report(data: str, shapes: rdflib.Graph, ontology: rdflib.Graph) -> str:
    graph = rdflib.Graph().parse(data=PREFIXES + data, format="turtle")
    graph += ontology  # so that sh:targetClass reaches the instances of subclasses
    _conforms, _results, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none", advanced=True)
    return text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            f"initiative:x a gov:ReformInitiative ; prov:wasDerivedFrom {ARTICLE} .",
            "a real-world thing or an activity is not prov:wasDerivedFrom",
        ),
        (
            f"place:x a schema:AdministrativeArea ; prov:wasDerivedFrom {ARTICLE} .",
            "a real-world thing or an activity is not prov:wasDerivedFrom",
        ),
        (
            "obs:x a qb:Observation .",
            "must be prov:wasDerivedFrom the article",
        ),
        ('[] a oa:TextPositionSelector ; oa:start "3"^^xsd:nonNegativeInteger ; oa:end 5 .', "xsd:integer"),
        ("[] a oa:TextPositionSelector ; oa:start -1 ; oa:end 5 .", "MinInclusive"),
    ],
)
def test_a_shape_rejects(data: str, message: str, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    assert message in report(data, shapes, ontology)


def test_a_description_derived_from_the_article_passes_those_shapes(
    shapes: rdflib.Graph, ontology: rdflib.Graph
) -> None:
    text = report(
        f"obs:x a qb:Observation ; prov:wasDerivedFrom {ARTICLE} .",
        shapes,
        ontology,
    )
    assert "wasDerivedFrom" not in text
