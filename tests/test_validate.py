"""``govkg validate`` reports each kind of broken data clearly, with the right exit status."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from govkg.cli import main
from govkg.graph.knowledge_graph import DATA_DIR

PREFIXES = """\
@prefix gov: <https://w3id.org/govkg/ontology#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#> .
@prefix sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#> .
@prefix id: <https://w3id.org/govkg/id/> .
"""


@pytest.fixture(scope="module")
def valid_report():
    from govkg.graph.validation import validate_files

    return validate_files()


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A copy of data/ (facts and links) that a test may break."""
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy, ignore=shutil.ignore_patterns("sources"))
    return copy


def _validate(runner, data_dir: Path):
    return runner.invoke(main, ["validate", "--data-dir", str(data_dir)])


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"fixture text not found once in {path.name}: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_committed_data_is_valid(valid_report):
    assert valid_report.problems == []
    assert valid_report.checked_quotes >= 50


def test_committed_data_validates_with_exit_0(runner):
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: ")


def test_a_missing_label_is_reported_with_its_focus_node(runner, data_copy):
    _replace_once(
        data_copy / "02-six-firsts.ttl",
        'rdfs:label "工程建设项目审批管理平台"@zh , "construction project approval management platform"@en',
        'rdfs:label "construction project approval management platform"@en',
    )
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "id/platform/construction-project-approval-platform" in result.output
    assert "(@zh)" in result.output


def test_a_string_where_a_number_belongs_is_reported(runner, data_copy):
    _replace_once(data_copy / "02-six-firsts.ttl", "gov:processingTime 7 ;", 'gov:processingTime "7" ;')
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "id/observation/business-opening-time-step-1" in result.output
    assert "gov:processingTime" in result.output


def test_a_literal_the_store_would_rewrite_is_reported(runner, data_copy):
    """What is validated is what is served: a derived integer type comes out as xsd:integer."""
    _replace_once(
        data_copy / "02-six-firsts.ttl",
        "oa:start 378 ; oa:end 406",
        'oa:start "378"^^xsd:nonNegativeInteger ; oa:end 406',
    )
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "not served as written: " in result.output and "02-six-firsts.ttl: 1 literal(s)" in result.output
    assert '"378"^^<http://www.w3.org/2001/XMLSchema#integer>' in result.output


def test_a_decimal_not_in_canonical_form_is_reported(runner, data_copy):
    path = data_copy / "04-decision-making.ttl"
    text = path.read_text(encoding="utf-8")
    assert 'gov:rate "100"^^xsd:decimal ;' in text
    path.write_text(text.replace('gov:rate "100"^^xsd:decimal ;', "gov:rate 100.0 ;", 1), encoding="utf-8")
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert '"100.0"^^<http://www.w3.org/2001/XMLSchema#decimal> is served as "100"' in result.output


def test_a_quote_not_in_the_article_is_reported(runner, data_copy):
    _replace_once(
        data_copy / "02-six-firsts.ttl",
        'oa:exact "在全省率先上线工程建设项目审批管理平台" ]',
        'oa:exact "在全国率先上线工程建设项目审批管理平台" ]',
    )
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "在全国率先上线工程建设项目审批管理平台" in result.output
    assert "does not occur in the text" in result.output


def test_a_fact_without_evidence_is_reported(runner, data_copy):
    (data_copy / "99-unsupported.ttl").write_text(
        PREFIXES
        + """
<https://w3id.org/govkg/id/achievement/made-up> a gov:FirstMoverAchievement ;
    rdfs:label "编造的率先"@zh , "a made-up first"@en ;
    gov:scope <https://w3id.org/govkg/id/concept/first-mover-scope/nation> .
""",
        encoding="utf-8",
    )
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "id/achievement/made-up" in result.output
    assert "prov:wasDerivedFrom" in result.output


def test_a_turtle_syntax_error_names_the_file_and_line(runner, data_copy):
    broken = data_copy / "03-internet-plus.ttl"
    lines = broken.read_text(encoding="utf-8").splitlines()
    line_number = next(i for i, line in enumerate(lines, start=1) if line.rstrip().endswith(" ;"))
    lines[line_number - 1] = lines[line_number - 1].rstrip()[:-2] + ' "unterminated ;'
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _validate(runner, data_copy)
    assert result.exit_code == 1
    assert "03-internet-plus.ttl, line " in result.output
    reported_line = int(result.output.split("03-internet-plus.ttl, line ", 1)[1].split(":")[0])
    assert line_number <= reported_line <= line_number + 2


def test_shapes_that_cannot_be_read_exit_2(runner, tmp_path):
    result = runner.invoke(main, ["validate", "--shapes", str(tmp_path / "missing.ttl")])
    assert result.exit_code == 2
