"""govkg link against small Wikidata- and GeoNames-shaped datasets, each served by a real Oxigraph server.

The fixtures (tests/data/linking/, see its README) hold true matches for our resources,
pairs a person should review, and decoys: the same label on another type, Traditional
and English-only labels, a same-named place elsewhere. The labelled pairs below say
which is which; precision and recall are measured on them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
from govkg.cli import link as link_command
from govkg.cli import main
from govkg.graph.knowledge_graph import load_store
from govkg.graph.stored_queries import QUERIES_DIR, read_stored_query
from govkg.linking import linker, matching, sources, writing
from govkg.settings import DEFAULT_BASE_IRI, load_settings
from govkg.sparql import outbound_guard
from govkg.sparql.local import answer_locally
from govkg.store.opening import open_knowledge_graph
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

from tests.stores import OxigraphServer, start_oxigraph, stop_oxigraph

FIXTURES = Path(__file__).resolve().parent / "data" / "linking"
OURS = FIXTURES / "ours"
DUMPS = {"wikidata": FIXTURES / "wikidata-sample.ttl", "geonames": FIXTURES / "geonames-sample.ttl"}

GOV = "https://w3id.org/govkg/id/"
WD = "http://www.wikidata.org/entity/"
GN = "https://sws.geonames.org/"
ZHAOQING, GUANGDONG, CHINA = GOV + "place/zhaoqing", GOV + "place/guangdong", GOV + "place/china"
GOVERNMENT = GOV + "organization/zhaoqing-municipal-government"
XIJIANG_DAILY = GOV + "organization/xijiang-daily"
BIG_DATA, AI = GOV + "concept/technology/big-data", GOV + "concept/technology/artificial-intelligence"


@dataclass(frozen=True)
class LabelledPairs:
    """What the matcher should find in one fixture."""

    links: frozenset[tuple[str, str, str]]  # (ours, theirs, predicate)
    near_misses: frozenset[tuple[str, str]]
    decoys: frozenset[str]


LABELLED = {
    "wikidata": LabelledPairs(
        links=frozenset(
            {
                (ZHAOQING, WD + "Q999000001", str(OWL.sameAs)),
                (GUANGDONG, WD + "Q15175", str(OWL.sameAs)),
                (CHINA, WD + "Q148", str(OWL.sameAs)),
                (GOVERNMENT, WD + "Q999000004", str(OWL.sameAs)),
                (BIG_DATA, WD + "Q999000021", str(SKOS.exactMatch)),
            }
        ),
        near_misses=frozenset({(XIJIANG_DAILY, WD + "Q999000006"), (AI, WD + "Q999000020")}),
        decoys=frozenset(WD + f"Q99900000{n}" for n in (2, 3, 5, 7, 8, 9)),
    ),
    "geonames": LabelledPairs(
        links=frozenset(
            {
                (ZHAOQING, GN + "999000205/", str(OWL.sameAs)),  # the prefecture (ADM2)
                (ZHAOQING, GN + "1784853/", str(SKOS.closeMatch)),  # the city as a settlement
                (GUANGDONG, GN + "999000201/", str(OWL.sameAs)),
                (CHINA, GN + "1814991/", str(OWL.sameAs)),
            }
        ),
        near_misses=frozenset(),
        decoys=frozenset(GN + f"99900020{n}/" for n in (2, 3, 4, 6)),
    ),
}


# -- a real Oxigraph server per fixture ---------------------------------------------------------


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The query URL of an Oxigraph server for each fixture dataset."""
    servers: dict[str, OxigraphServer] = {}
    try:
        for name, dump in DUMPS.items():
            servers[name] = start_oxigraph(tmp_path_factory.mktemp(f"oxigraph-{name}"), dump)
        yield {name: server.query_url for name, server in servers.items()}
    finally:
        for server in servers.values():
            stop_oxigraph(server)


@pytest.fixture(scope="module")
def runs(endpoints: dict[str, str]) -> dict[str, linker.LinkRun]:
    """One run of link discovery against each endpoint, with the default settings."""
    return {name: linker.run_link_discovery(url, data_dir=OURS) for name, url in endpoints.items()}


def found_links(run: linker.LinkRun) -> set[tuple[str, str, str]]:
    return {(link.pair.ours.iri, link.pair.theirs.iri, link.predicate) for link in run.links}


# -- quality on the labelled pairs --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_precision_and_recall_on_the_labelled_pairs(runs, name):
    labelled, found = LABELLED[name].links, found_links(runs[name])
    pairs = {(ours, theirs) for ours, theirs, _ in found}
    true_pairs = {(ours, theirs) for ours, theirs, _ in labelled}
    precision = len(pairs & true_pairs) / len(pairs)
    recall = len(pairs & true_pairs) / len(true_pairs)
    assert precision == 1.0, sorted(pairs - true_pairs)
    assert recall >= 0.9, sorted(true_pairs - pairs)
    # ...and each link has the predicate its types call for.
    assert found <= labelled


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_decoys_are_neither_linked_nor_listed_for_review(runs, name):
    run = runs[name]
    linked = {link.pair.theirs.iri for link in run.links}
    listed = {miss.pair.theirs.iri for miss in run.near_misses}
    assert not LABELLED[name].decoys & linked
    assert not LABELLED[name].decoys & listed


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_near_misses_are_the_labelled_ones(runs, name):
    run = runs[name]
    assert {(miss.pair.ours.iri, miss.pair.theirs.iri) for miss in run.near_misses} == LABELLED[
        name
    ].near_misses


def test_the_evidence_behind_a_link_is_recorded(runs):
    (zhaoqing,) = [link for link in runs["wikidata"].links if link.pair.ours.iri == ZHAOQING]
    reasons = " | ".join(zhaoqing.pair.reasons)
    assert "same division code 441200" in reasons  # P442 "44 12"
    assert "GeoNames ID 1784853 is a close match of ours" in reasons  # P1566
    assert "km apart" in reasons  # P625
    (guangdong,) = [link for link in runs["wikidata"].links if link.pair.ours.iri == GUANGDONG]
    assert guangdong.pair.reasons[0] == "same name without the suffix: 广东@zh ~ 廣東省@zh-hant"


# -- the command and its outputs ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_outputs(endpoints, tmp_path_factory) -> dict[str, tuple[Path, Path, str]]:
    """``govkg link`` against each endpoint: the linkset, the near-miss CSV and what it said."""
    from click.testing import CliRunner

    outputs = {}
    for name, url in endpoints.items():
        directory = tmp_path_factory.mktemp(f"link-{name}")
        linkset, near_misses = directory / "linkset.ttl", directory / "near-misses.csv"
        arguments = ["link", "--target", url, "--data-dir", str(OURS), "-o", str(linkset)]
        result = CliRunner().invoke(main, [*arguments, "--near-misses", str(near_misses)])
        assert result.exit_code == 0, result.output
        outputs[name] = (linkset, near_misses, result.output)
    return outputs


def test_the_near_miss_csv_lists_the_near_misses_for_review(cli_outputs):
    _, near_misses, _ = cli_outputs["wikidata"]
    rows = list(csv.DictReader(io.StringIO(near_misses.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == writing.NEAR_MISS_COLUMNS
    assert {(row["our_iri"], row["target_iri"]) for row in rows} == LABELLED["wikidata"].near_misses
    by_target = {row["target_iri"]: row for row in rows}
    newspaper = by_target[WD + "Q999000006"]
    assert (newspaper["our_label"], newspaper["target_label"]) == ("西江日报@zh", "西江日报@zh-hans")
    assert newspaper["verdict"] == "types only related"
    assert "an organisation and its publication" in newspaper["reasons"]
    ai = by_target[WD + "Q999000020"]
    assert ai["verdict"] == "below threshold" and "type not recognised" in ai["reasons"]
    scores = [float(row["score"]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(matching.DEFAULT_NEAR_MISS_FLOOR <= score <= 1 for score in scores)


@pytest.mark.parametrize("name", sorted(LABELLED))
def test_the_linkset_parses_and_describes_itself(cli_outputs, name):
    linkset_path, _, said = cli_outputs[name]
    graph = rdflib.Graph().parse(linkset_path, format="turtle")
    ours = rdflib.URIRef(GOV + "dataset/zhaoqing-rule-of-law")
    linksets = set(graph.subjects(RDF.type, VOID.Linkset))
    assert {graph.value(linkset, VOID.linkPredicate) for linkset in linksets} == {
        rdflib.URIRef(predicate) for _, _, predicate in LABELLED[name].links
    }
    activities = set(graph.subjects(RDF.type, PROV.Activity))
    assert len(activities) == 1
    (activity,) = activities
    for linkset in linksets:
        predicate = graph.value(linkset, VOID.linkPredicate)
        target = graph.value(linkset, VOID.objectsTarget)
        uri_space = str(graph.value(target, VOID.uriSpace))
        links = [(s, o) for s, o in graph.subject_objects(predicate) if str(o).startswith(uri_space)]
        assert graph.value(linkset, VOID.triples).toPython() == len(links) > 0
        assert graph.value(linkset, VOID.subjectsTarget) == ours
        assert (target, RDF.type, VOID.Dataset) in graph
        assert graph.value(linkset, DCTERMS.created).datatype == XSD.dateTime
        assert graph.value(linkset, PROV.wasGeneratedBy) == activity
    assert graph.value(activity, PROV.startedAtTime) <= graph.value(activity, PROV.endedAtTime)
    parameters = {
        str(graph.value(used, RDFS.label)): graph.value(used, PROV.value).toPython()
        for used in graph.objects(activity, PROV.used)
        if (used, RDF.type, PROV.Entity) in graph
    }
    assert parameters.keys() == {"target", "type", "threshold", "near-miss floor", "software version"}
    assert parameters["target"].startswith("http://127.0.0.1:")
    assert float(parameters["threshold"]) == matching.DEFAULT_THRESHOLD
    assert parameters["type"] == "any"
    assert f"linked {len({ours for ours, _, _ in LABELLED[name].links})} of " in said


def test_the_linkset_goes_to_stdout_without_an_output_file(runner):
    result = runner.invoke(main, ["link", "--target", str(DUMPS["geonames"]), "--data-dir", str(OURS)])
    assert result.exit_code == 0, result.output
    graph = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert (rdflib.URIRef(CHINA), OWL.sameAs, rdflib.URIRef(GN + "1814991/")) in graph


# -- dumps, paging, options, errors -------------------------------------------------------------


def test_a_gzipped_dump_gives_the_same_links_as_the_endpoint(runs, tmp_path):
    dump = tmp_path / "wikidata-sample.ttl.gz"
    dump.write_bytes(gzip.compress(DUMPS["wikidata"].read_bytes()))
    run = linker.run_link_discovery(str(dump), data_dir=OURS)
    assert found_links(run) == found_links(runs["wikidata"])
    assert run.target_name == "wikidata-sample.ttl.gz"


def test_the_endpoint_is_read_in_ordered_pages(endpoints, runs):
    run = linker.run_link_discovery(endpoints["wikidata"], data_dir=OURS, page_size=2, max_pages=100)
    assert found_links(run) == found_links(runs["wikidata"])
    assert run.requests > runs["wikidata"].requests and not run.truncated


def test_the_page_bound_stops_the_reading_and_says_so(endpoints):
    run = linker.run_link_discovery(endpoints["wikidata"], data_dir=OURS, page_size=1, max_pages=1)
    assert run.truncated
    assert "some may be missing" in writing.summary(run)


@pytest.mark.parametrize(
    ("type_filter", "expected"),
    [
        ("organization", {GOVERNMENT}),
        ("cv:PublicOrganisation", {GOVERNMENT}),
        ("place", {ZHAOQING, GUANGDONG, CHINA}),
        ("schema:Country", {CHINA}),
        ("concept", {BIG_DATA}),
    ],
)
def test_type_restricts_the_resources_linked(type_filter, expected):
    run = linker.run_link_discovery(str(DUMPS["wikidata"]), type_filter=type_filter, data_dir=OURS)
    assert {link.pair.ours.iri for link in run.links} == expected


def test_a_higher_threshold_turns_links_into_near_misses():
    run = linker.run_link_discovery(str(DUMPS["wikidata"]), threshold=0.95, data_dir=OURS)
    assert {link.pair.ours.iri for link in run.links} == {ZHAOQING, GUANGDONG, CHINA}
    below = {miss.pair.ours.iri for miss in run.near_misses if miss.verdict == "below threshold"}
    assert {GOVERNMENT, BIG_DATA} <= below


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--target", "http://127.0.0.1:9/query", "--timeout", "2"],
            "the endpoint http://127.0.0.1:9/query failed",
        ),
        (["--target", "no-such-dump.ttl"], "no-such-dump.ttl: no such file"),
        (["--target", str(FIXTURES / "README.md")], "README.md: not a known RDF format"),
        (["--target", str(DUMPS["wikidata"]), "--type", "nope:Thing"], "unknown type 'nope:Thing'"),
        (
            ["--target", str(DUMPS["wikidata"]), "--threshold", "0.4"],
            "need 0 <= near-miss floor <= threshold",
        ),
    ],
)
def test_errors_are_one_line_messages(runner, arguments, message):
    result = runner.invoke(main, ["link", "--data-dir", str(OURS), *arguments])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output


def test_the_command_defaults_are_the_module_defaults():
    defaults = {param.name: param.default for param in link_command.params}
    assert defaults["threshold"] == matching.DEFAULT_THRESHOLD
    assert defaults["near_miss_floor"] == matching.DEFAULT_NEAR_MISS_FLOOR
    assert defaults["page_size"] == sources.DEFAULT_PAGE_SIZE
    assert defaults["max_pages"] == sources.DEFAULT_MAX_PAGES
    assert defaults["timeout"] == sources.DEFAULT_TIMEOUT


def test_the_project_graph_links_to_the_wikidata_sample():
    """The real data/ (its labels and codes) finds the fixture's Zhaoqing and keeps the curated links."""
    run = linker.run_link_discovery(str(DUMPS["wikidata"]), type_filter="place")
    links = found_links(run)
    assert (ZHAOQING, WD + "Q999000001", str(OWL.sameAs)) in links
    assert (CHINA, WD + "Q148", str(OWL.sameAs)) in links


# -- the link competency queries ----------------------------------------------------------------


def test_the_external_identifiers_query_gives_its_expected_results():
    query = read_stored_query(QUERIES_DIR / "external-identifiers.rq")
    loaded = open_knowledge_graph(DEFAULT_BASE_IRI)
    answer = answer_locally(
        loaded.backend, DEFAULT_BASE_IRI, query.bound_text(DEFAULT_BASE_IRI), "json", load_settings()
    )
    expected = (QUERIES_DIR / "expected" / "external-identifiers.srj").read_text(encoding="utf-8")
    assert json.loads(answer) == json.loads(expected)


def test_the_federated_query_finds_the_item_that_carries_our_geonames_id(endpoints):
    query = read_stored_query(QUERIES_DIR / "federated-geonames.rq")
    assert query.federated and query.endpoint_in_url
    assert query.service_iri() == "https://query.wikidata.org/sparql"
    # The Wikidata-shaped fixture stands in for the Wikidata Query Service.
    text = query.bound_text(DEFAULT_BASE_IRI, endpoint=endpoints["wikidata"])
    # This process may have the engine's outbound guard installed (any app built in it does):
    # allow the stand-in endpoint, as a server's service_allowlist would.
    outbound_guard.install([endpoints["wikidata"]])
    solutions = load_store().query(text, use_default_graph_as_union=True)
    rows = [
        {name: solution[name].value for name in ("place", "relation", "item", "itemDivisionCode", "ourCode")}
        for solution in solutions
    ]
    assert rows == [
        {
            "place": ZHAOQING,
            "relation": str(SKOS.closeMatch),
            "item": WD + "Q999000001",
            "itemDivisionCode": "44 12",
            "ourCode": "441200",
        }
    ]
