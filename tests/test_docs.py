"""The docs stay true: every code block of README.md and docs/ is run here, or marked as illustrative.

A fenced block is preceded by a marker comment, invisible once rendered:

* ``<!-- tested: NAME -->``: a test below fetches the block with ``doc_block("NAME")`` and runs
  it (its commands against a real server, its Turtle through SHACL, its query through the
  stored-query parser …), so the block cannot drift from what works;
* ``<!-- illustrative: WHY -->``: not run, and WHY says what covers it instead (a block that
  needs another machine's store, or the whole suite itself).

An unmarked block, an unknown NAME or a NAME no test fetches fails
:func:`test_every_doc_block_is_tested_or_marked_illustrative`.

A command written inline in the prose (a backticked ```govkg …```, ```python …```, ```curl …``` …
outside the fenced blocks) is listed here by its text, in :data:`INLINE_RUN` (run by
:func:`test_inline_commands_run`, placeholders filled) or in :data:`INLINE_ILLUSTRATIVE` (not run,
with why and what covers it instead); an unlisted one, or a listed one the docs no longer have,
fails :func:`test_every_inline_command_is_run_or_marked_illustrative`. Every inline ``govkg``
command, run or not, is checked against the CLI itself: its command, its options and the
choices it lists. Also here: a row for every setting, and .ci/run running exactly README's test
command.
"""

from __future__ import annotations

import gzip
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
import requests
from govkg.settings import DEFAULT_BASE_IRI, SETTINGS, settings_table_markdown

from tests.conftest import PROJECT_ROOT, LiveServer, start_server, stop_server

README = PROJECT_ROOT / "README.md"
CI_RUN = PROJECT_ROOT / ".ci" / "run"
DOC_FILES = [
    README,
    *sorted((PROJECT_ROOT / "docs").glob("*.md")),
    PROJECT_ROOT / "queries" / "README.md",
    PROJECT_ROOT / "data" / "links" / "README.md",
]
MARKER = re.compile(r"^\s*<!-- (tested|illustrative): (.+?) -->\s*$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
#: The blocks the tests below run, by the name their marker gives.
TESTED_BLOCKS = {
    "readme-commands",
    "readme-annotation",
    "readme-query-header",
    "readme-persistent-store",
    "readme-development",
    "linked-data-examples",
    "dcat-ap-by-hand",
    "query-header-example",
    "write-expected",
}


@dataclass(frozen=True)
class DocBlock:
    """A fenced code block of a doc, with the marker comment above it (``kind``, ``name``)."""

    path: Path
    line: int
    language: str
    text: str
    kind: str | None  # "tested", "illustrative" or None (unmarked)
    name: str


def doc_blocks(path: Path) -> list[DocBlock]:
    """The fenced blocks of a Markdown file, each with the marker of the line above it (blank lines skipped).

    >>> [(b.language, b.kind, b.name, b.text) for b in doc_blocks(README)][0][:3]
    ('sh', 'tested', 'readme-commands')
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        above = next((line for line in reversed(lines[:number]) if line.strip()), "")
        marker = MARKER.match(above)
        indent = len(opening.group(1))
        end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
        text = "\n".join(line[indent:] for line in lines[number + 1 : end]) + "\n"
        blocks.append(
            DocBlock(
                path,
                number + 1,
                opening.group(2),
                text,
                marker.group(1) if marker else None,
                marker.group(2) if marker else "",
            )
        )
        number = end + 1
    return blocks


def doc_block(name: str) -> str:
    """The text of the block marked ``<!-- tested: name -->``."""
    assert name in TESTED_BLOCKS, f"add {name!r} to TESTED_BLOCKS"
    (block,) = [b for path in DOC_FILES for b in doc_blocks(path) if (b.kind, b.name) == ("tested", name)]
    return block.text


def command_lines(block: str) -> list[str]:
    """The commands of a shell block: one a line, trailing ``  # comment`` and blank lines dropped.

    >>> command_lines("ls -l   # list\\n\\necho '#x' a#b\\n")
    ['ls -l', "echo '#x' a#b"]
    """
    stripped = (re.sub(r"\s+#\s.*$", "", line).strip() for line in block.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def test_every_doc_block_is_tested_or_marked_illustrative() -> None:
    blocks = [block for path in DOC_FILES for block in doc_blocks(path)]
    unmarked = [f"{b.path.relative_to(PROJECT_ROOT)}:{b.line}" for b in blocks if b.kind is None]
    assert not unmarked, "mark each block <!-- tested: NAME --> or <!-- illustrative: WHY -->"
    tested = [b.name for b in blocks if b.kind == "tested"]
    assert sorted(tested) == sorted(TESTED_BLOCKS)  # each name once, and each one known
    source = Path(__file__).read_text(encoding="utf-8")
    assert all(f'doc_block("{name}")' in source for name in TESTED_BLOCKS)  # and fetched by a test
    assert all(len(b.name) > 20 for b in blocks if b.kind == "illustrative")  # says why


def test_the_marker_check_finds_an_unmarked_block(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("Text.\n\n<!-- illustrative: shown only, see x -->\n```sh\nls\n```\n\n```sh\npwd\n```\n")
    assert [(b.line, b.kind, b.text) for b in doc_blocks(doc)] == [
        (4, "illustrative", "ls\n"),
        (8, None, "pwd\n"),
    ]


# --- commands written inline in the prose ---------------------------------------------------------

#: The programs whose backticked spans in the prose are shell commands (``govkg.web`` and a bare
#: ``govkg`` are names, not commands: a command has a word after the program's).
COMMAND_PROGRAMS = ("govkg", "python", "python3", "pytest", "pip", "curl", "npm", "pyshacl", "ruff", "sudo")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)*)`(?!`)")


@dataclass(frozen=True)
class InlineCommand:
    """A shell command written inline in a doc's prose, as it renders (``\\|`` in a table is ``|``)."""

    path: Path
    line: int
    text: str


def inline_commands(path: Path) -> list[InlineCommand]:
    """The inline commands of a Markdown file: its backticked spans outside fenced blocks that start
    with one of :data:`COMMAND_PROGRAMS` and a space. A span may run over a line break (it renders
    as one space).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     doc = Path(folder) / "doc.md"
    ...     text = "Run `govkg dump\\n  -o x` or `govkg.web`.\\n\\n```sh\\ngovkg validate\\n```\\n"
    ...     _ = doc.write_text(text + "| `govkg query FILE\\\\|-` | `python3-venv` |\\n")
    ...     [(c.line, c.text) for c in inline_commands(doc)]
    [(1, 'govkg dump -o x'), (7, 'govkg query FILE|-')]
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    prose: list[tuple[int, str]] = []  # (line number, text) of the lines outside fenced blocks
    fenced = False
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            prose.append((number, line))
    found = []
    paragraph: list[tuple[int, str]] = []
    for number, line in [*prose, (0, "")]:
        if line.strip():
            paragraph.append((number, line))
            continue
        text = "\n".join(line for _, line in paragraph)
        for span in INLINE_CODE.finditer(text):
            command = " ".join(span.group(1).replace("\\|", "|").split())
            program, _, rest = command.partition(" ")
            if program in COMMAND_PROGRAMS and rest:
                found.append(InlineCommand(path, paragraph[text.count("\n", 0, span.start())][0], command))
        paragraph = []
    return found


#: Inline commands the tests run, by their text: the placeholders each needs filled (whole words)
#: and a text its output (stdout and stderr) must hold. They run from a scratch folder holding
#: ``data.nt`` (three triples) and ``dump.nt.gz`` (tests/data/linking's Wikidata sample), with the
#: project as ``PROJECT`` when a command names its files.
INLINE_RUN: dict[str, tuple[dict[str, str], str]] = {
    'python -m govkg.graph.evidence "660项实现“只跑一次”"': ({}, "oa:start 866 ; oa:end 878"),
    "govkg query queries/NAME.rq": ({"queries/NAME.rq": "PROJECT/queries/six-firsts.rq"}, "province"),
    "govkg load FILE… --store DIR": ({"FILE…": "data.nt", "DIR": "store"}, "data.nt: 3 triples into"),
    "govkg link --target dump.nt.gz": ({}, "owl:sameAs <http://www.wikidata.org/entity/Q148>"),
    "govkg proxy-config --upstream HOST:PORT": ({"HOST:PORT": "127.0.0.1:5001"}, "server 127.0.0.1:5001"),
    'python -c "from govkg.settings import settings_table_markdown as t; print(t())"': ({}, "| `workers` |"),
}

_SYNOPSIS = "a synopsis ([optional], a|b alternatives): checked against the CLI below"
_SERVER = "starts a server that runs until it is stopped; tests/conftest.py's start_server runs it"
#: Inline commands not run, by their text, and why (what runs them or covers them instead).
INLINE_ILLUSTRATIVE: dict[str, str] = {
    "govkg serve": _SERVER,
    "govkg serve --data": _SERVER + " with --data (tests/test_startup.py)",
    "govkg serve --store DIR [--data FILE…]": _SERVER + " on a store folder (tests/test_persistent_store.py)",
    "govkg serve --store DIR": _SERVER + " on a store folder (tests/test_persistent_store.py)",
    "govkg serve --store sparql:QUERY_URL": "needs an external store: tests/test_remote_store.py runs it",
    "govkg serve --data bench-1M.nt": "a benchmark at 1M triples (benchmarks/startup.py)",
    "govkg serve-public": "starts nginx and the instances; tests/test_public_profile.py runs it",
    "govkg proxy-config [--upstream HOST:PORT]…": _SYNOPSIS,
    "govkg dump [--format ttl|nt|nq|trig|jsonld|rdfxml] [-o FILE]": _SYNOPSIS,
    "govkg query FILE|- [--format table|json|xml|csv|tsv]": _SYNOPSIS,
    "govkg load --into URL": "needs an external store: tests/test_remote_store.py runs it",
    "govkg load --into UPDATE_URL [--graph-store GSP_URL]": "needs an external store: test_remote_store.py",
    "govkg load bench-1M.nt --store DIR": "a benchmark at 1M triples, a file not in the repository",
    "govkg link --target FILE|URL": _SYNOPSIS,
    "govkg validate": "a full SHACL run of the graph; tests/test_validate.py runs the same command",
    "govkg write-expected NAME": "rewrites a reviewed answer: test_write_expected_command_is_the_cli_command",
    "govkg write-expected": "the command's name; test_write_expected_command_is_the_cli_command",
    "govkg load": "the command's name in prose, checked against the CLI below",
    "govkg link": "the command's name in prose, checked against the CLI below",
    "govkg dump": "the command's name in prose, checked against the CLI below",
    "govkg query": "the command's name in prose, checked against the CLI below",
    "python -m benchmarks.generate --size 1M": "writes 144 MiB; test_benchmarks_smoke.py runs it small",
    "python -m benchmarks.startup --store DIR": "a benchmark at 1M triples; run by hand for README's figures",
    "python benchmarks/run.py": "the protocol: 11 min, idle machine; test_benchmarks_smoke runs it small",
    "python benchmarks/fork_pages.py": "a measurement at 1M triples; run by hand for README's figure",
    "npm ci && npm run build": "needs the npm registry, rewrites the bundles: test_assets.py checks them",
    "npm run build": "rewrites the bundles; tests/test_assets.py checks they match their sources",
    "pip install .": "installs here; tests/test_install.py installs the wheel in a venv",
    "python3 -m venv": "a fragment: the venv step of README's first commands (the readme-commands block)",
    "sudo apt-get install python3-venv": "a Debian package, as root: install-test-deps.sh installs it",
    "python benchmarks/search_index.py bench-1M.nt": "a measurement at 1M triples, run by hand",
    "python -m pytest tests/test_facts.py tests/test_standards.py tests/test_stated_or_marked.py": (
        "test files of this suite, which runs them"
    ),
    "pytest tests/test_competency_queries.py": "a test file of this suite, which runs it",
    "pytest tests/test_facts.py": "a test file of this suite, which runs it",
    "pyshacl -s": "a fragment naming the call that fails on the official shapes; tests/dcat_ap.py is the fix",
}


def _all_inline_commands() -> list[InlineCommand]:
    return [command for path in DOC_FILES for command in inline_commands(path)]


def test_every_inline_command_is_run_or_marked_illustrative() -> None:
    written = {command.text for command in _all_inline_commands()}
    unlisted = sorted(
        f"{c.path.relative_to(PROJECT_ROOT)}:{c.line}: {c.text}"
        for c in _all_inline_commands()
        if c.text not in INLINE_RUN and c.text not in INLINE_ILLUSTRATIVE
    )
    assert unlisted == [], "list each in INLINE_RUN (and run it) or in INLINE_ILLUSTRATIVE with why"
    assert not set(INLINE_RUN) & set(INLINE_ILLUSTRATIVE)
    assert sorted((set(INLINE_RUN) | set(INLINE_ILLUSTRATIVE)) - written) == []  # none the docs lost
    assert all(len(why) > 20 for why in INLINE_ILLUSTRATIVE.values())  # says why


def cli_problems(command: str) -> list[str]:
    """What in an inline ``govkg`` command (or synopsis) the CLI does not have: the command, an
    option, or one of the choices listed for an option (``--format a|b``).

    >>> cli_problems("govkg dump [--format ttl|nt|nq|trig|jsonld|rdfxml] [-o FILE]")
    []
    >>> cli_problems("govkg dump --format ttl|n3 --pretty")
    ['govkg dump --format: n3 is not a choice', 'govkg dump: no option --pretty']
    >>> cli_problems("govkg serv")
    ['no command govkg serv']
    """
    import click
    from govkg.cli import main

    words = [word for word in re.sub(r"[\[\]…]", " ", command).split() if word]
    subcommand = main.commands.get(words[1]) if isinstance(main, click.Group) else None
    if subcommand is None:
        return [f"no command govkg {words[1]}"]
    options = {name: param for param in subcommand.params for name in (*param.opts, *param.secondary_opts)}
    problems = []
    for position, word in enumerate(words[2:], start=2):
        following = words[position + 1] if position + 1 < len(words) else ""
        if not word.startswith("-") or word == "-":
            continue
        option = options.get(word.split("=")[0])
        if option is None:
            problems.append(f"govkg {words[1]}: no option {word}")
        elif isinstance(option.type, click.Choice) and "|" in following:
            problems += [
                f"govkg {words[1]} {word}: {choice} is not a choice"
                for choice in following.split("|")
                if choice not in option.type.choices
            ]
    return problems


def test_inline_govkg_commands_are_the_clis() -> None:
    """Every inline ``govkg`` command, run or not, names a real command, real options and real choices."""
    problems = [
        f"{c.path.relative_to(PROJECT_ROOT)}:{c.line}: {problem}"
        for c in _all_inline_commands()
        if c.text.startswith("govkg ")
        for problem in cli_problems(c.text)
    ]
    assert problems == []


def test_inline_illustrative_commands_name_real_files() -> None:
    """The modules, scripts, test files and npm scripts an illustrative command names exist."""
    import importlib.util
    import json

    scripts = json.loads((PROJECT_ROOT / "package.json").read_text(encoding="utf-8"))["scripts"]
    for command in INLINE_ILLUSTRATIVE:
        words = command.split()
        if words[:2] == ["python", "-m"]:
            assert (
                PROJECT_ROOT / (words[2].replace(".", "/") + ".py")
            ).is_file() or importlib.util.find_spec(words[2]), command
        paths = [word for word in words if "/" in word and word.endswith(".py")]
        assert all((PROJECT_ROOT / path).is_file() for path in paths), command
        for first, second, third in zip(words, words[1:], words[2:], strict=False):
            if (first, second) == ("npm", "run"):
                assert third in scripts, command


@pytest.mark.parametrize("command", sorted(INLINE_RUN))
def test_inline_commands_run(command: str, tmp_path: Path) -> None:
    """The command as written, its placeholders filled, from a scratch folder: exit 0, and the output
    the docs promise."""
    fill, expected = INLINE_RUN[command]
    (tmp_path / "data.nt").write_text(
        "<https://example.org/a> <https://example.org/p> <https://example.org/b> .\n"
        '<https://example.org/a> <https://example.org/q> "二" .\n'
        "<https://example.org/b> <https://example.org/p> <https://example.org/a> .\n",
        encoding="utf-8",
    )
    sample = ox.Store()
    sample.load(path=str(PROJECT_ROOT / "tests" / "data" / "linking" / "wikidata-sample.ttl"))
    with gzip.open(tmp_path / "dump.nt.gz", "wb") as dump:
        sample.dump(dump, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    runnable = command
    for placeholder, value in fill.items():
        runnable = re.sub(
            rf"(?<!\S){re.escape(placeholder)}(?!\S)", value.replace("PROJECT", str(PROJECT_ROOT)), runnable
        )
    assert runnable != command or not fill
    completed = _run(runnable, tmp_path)
    assert completed.returncode == 0, f"{runnable}:\n{completed.stdout}{completed.stderr}"
    assert expected in completed.stdout + completed.stderr, (completed.stdout + completed.stderr)[:2000]
    assert "Traceback" not in completed.stderr


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_settings_table_is_the_generated_one():
    assert settings_table_markdown() in _readme()


def test_every_setting_is_documented():
    readme = _readme()
    for setting in SETTINGS:
        assert f"`{setting.env_var}`" in readme
        assert f"`{setting.cli_flag}`" in readme


def _readme_commands() -> tuple[str, str]:
    """README's two opening commands: serve, and run the tests (comments stripped)."""
    serve_line, test_line = command_lines(doc_block("readme-commands"))
    return serve_line, test_line


def test_ci_runs_exactly_the_readme_test_command():
    serve_line, test_line = _readme_commands()
    assert "govkg serve" in serve_line
    commands = [
        line
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == [test_line]


def test_readme_commands_run_in_a_venv():
    """Debian's Python is externally managed: both commands work in a venv, and never call bare ``python``
    before one is active (Debian has ``python3`` only)."""
    for line in _readme_commands():
        steps = [step.strip() for step in line.split("&&")]
        activated = steps.index(". .venv/bin/activate")
        assert not any(step.startswith(("python ", "pip ")) for step in steps[:activated])
        assert any(step.startswith("python3 -m venv .venv") for step in steps[:activated]) or (
            steps[0] == "bash scripts/install-test-deps.sh"
            and "python3 -m venv" in (README.parent / "scripts" / "install-test-deps.sh").read_text()
        )


# --- the blocks, run -----------------------------------------------------------------------------

LOCAL = "http://127.0.0.1:5000/"


def _run(command: str, cwd: Path, server: LiveServer | None = None) -> subprocess.CompletedProcess:
    """One documented shell command, in bash, with this interpreter's ``python`` and ``govkg`` first
    on PATH and the documented server address replaced by the test server's."""
    if server is not None:
        command = command.replace(LOCAL, server.url)
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        ["bash", "-c", f'export PATH="{bin_dir}:$PATH"; set -eo pipefail; {command}'],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _project_prefixes() -> str:
    """Every ``@prefix`` line of the data files, once: what the README's Turtle fragments assume."""
    lines = {
        line.strip()
        for path in sorted((PROJECT_ROOT / "data").glob("*.ttl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("@prefix")
    }
    return "\n".join(sorted(lines)) + "\n"


def _remove_description(graph: rdflib.Graph, node: rdflib.term.Node) -> None:
    """Remove what ``graph`` says of ``node`` and of the blank nodes it leads to (not the statements
    about it that rdflib's ``cbd`` would take too: the editorial marks stay)."""
    for _, _, value in list(graph.triples((node, None, None))):
        if isinstance(value, rdflib.BNode):
            _remove_description(graph, value)
    graph.remove((node, None, None))


def test_readme_annotation_example_is_valid_data():
    """README's fact and annotation, in place of the graph's own, pass SHACL and the evidence check."""
    from govkg.graph.evidence import check_annotations
    from govkg.graph.knowledge_graph import ONTOLOGY_PATH, SHAPES_PATH, fact_files
    from govkg.graph.source_text import article_text

    example = rdflib.Graph().parse(data=_project_prefixes() + doc_block("readme-annotation"), format="turtle")
    ontology = rdflib.Graph().parse(ONTOLOGY_PATH, format="turtle")
    data = rdflib.Graph()
    data += ontology
    for path in fact_files():
        data.parse(path, format="turtle")
    for subject in set(example.subjects()) - {
        node for node in example.subjects() if isinstance(node, rdflib.BNode)
    }:
        assert (subject, None, None) in data, f"README's example describes {subject}, which the data does not"
        _remove_description(data, subject)
    data += example
    shapes = rdflib.Graph().parse(SHAPES_PATH, format="turtle")
    # The rest of the graph conforms (tests/test_facts.py): the example's own nodes are validated here.
    focus = sorted(node for node in example.subjects() if isinstance(node, rdflib.URIRef))
    conforms, _, report = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", focus_nodes=focus
    )
    assert conforms, report
    assert check_annotations(data, article_text()) == []


def test_readme_query_header_example_parses():
    from govkg.graph.stored_queries import parse_stored_query

    header = doc_block("readme-query-header")
    query = parse_stored_query("example", header + "ASK { ?_resource_iri ?p ?o }\n")
    assert query.summary and query.tags == ("firsts",)


def test_queries_readme_header_example_parses_and_answers():
    from govkg.graph.knowledge_graph import load_store
    from govkg.graph.stored_queries import answer_json, parse_stored_query

    query = parse_stored_query("example", doc_block("query-header-example"))
    assert query.tags == ("evidence", "provenance")
    assert answer_json(query, load_store())["results"]["bindings"]


def test_write_expected_command_is_the_cli_command():
    """The recipe's command exists as written (NAME is a placeholder): ``--help`` names its argument."""
    (command,) = command_lines(doc_block("write-expected"))
    words = shlex.split(command)
    assert words[:2] == ["govkg", "write-expected"] and words[2] == "NAME"
    completed = subprocess.run(
        [sys.executable, "-m", "govkg", "write-expected", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0 and "NAMES" in completed.stdout


def test_readme_persistent_store_commands_run(tmp_path: Path):
    """README's load-then-serve recipe, with small files of the names it uses."""
    load, serve = command_lines(doc_block("readme-persistent-store"))
    with gzip.open(tmp_path / "census.nt.gz", "wt", encoding="utf-8") as census:
        census.write('<https://example.org/a> <https://example.org/population> "Zhaoqing" .\n')
    (tmp_path / "budget.ttl").write_text("<https://example.org/b> <https://example.org/total> 2 .\n")
    loaded = _run(load, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    words = shlex.split(serve)
    assert words[:2] == ["govkg", "serve"]
    arguments = [str(tmp_path / word) if (tmp_path / word).exists() else word for word in words[2:]]
    # The store keeps the base IRI it was loaded with (the default): the server is asked to serve under it.
    server = start_server(tmp_path, *arguments, "--base-iri", DEFAULT_BASE_IRI)
    try:
        answer = requests.post(
            server.sparql_url,
            data={"query": "ASK { GRAPH <https://example.org/graph/budget> { ?s ?p 2 } }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert answer.json()["boolean"] is True
    finally:
        stop_server(server)


def test_readme_development_commands_run():
    """The lint and validation commands as written (the pytest lines are what CI and you run)."""
    for command in command_lines(doc_block("readme-development")):
        if command == "govkg validate":  # a full SHACL run: tests/test_validate.py runs this very command
            assert '["validate"]' in (PROJECT_ROOT / "tests" / "test_validate.py").read_text(encoding="utf-8")
            continue
        if command.startswith("python -m pytest"):
            paths = [word for word in shlex.split(command)[3:] if not word.startswith("-")]
            assert all((PROJECT_ROOT / path).is_file() for path in paths), command
            continue
        completed = _run(command, PROJECT_ROOT)
        assert completed.returncode == 0, f"{command}:\n{completed.stdout}{completed.stderr}"


def test_linked_data_examples_run_against_a_server(live_server: LiveServer, tmp_path: Path):
    for command in command_lines(doc_block("linked-data-examples")):
        completed = _run(command, tmp_path, live_server)
        assert completed.returncode == 0, f"{command}:\n{completed.stderr}"
        assert completed.stdout.strip() or list(tmp_path.iterdir()), command
        assert "404" not in completed.stdout[:200] and "Traceback" not in completed.stderr


def test_dcat_ap_recipe_runs_against_a_server(live_server: LiveServer, tmp_path: Path):
    fetch, check = command_lines(doc_block("dcat-ap-by-hand"))
    assert _run(fetch, tmp_path, live_server).returncode == 0
    completed = _run(check.replace("catalog.ttl", str(tmp_path / "catalog.ttl")), PROJECT_ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "conforms to DCAT-AP 3.0.1" in completed.stdout


# --- names and paths the docs give --------------------------------------------------------------

FILE_NAME = re.compile(r"govkg\.(css|js|ttl|nt|nq|trig|jsonld|rdf)(\.gz)?$")
REPO_PATH = re.compile(
    r"`((?:server|tests|data|ontology|queries|scripts|benchmarks|docs|frontend)/[\w./-]*)`"
)


def _resolve(dotted: str) -> object:
    """The object a dotted name like ``govkg.store.opening.STORE_OPENERS`` names, or AttributeError."""
    import importlib

    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_the_code_and_files_the_docs_name_exist(path: Path) -> None:
    """Recipes name real places: every `govkg.…` name imports, every repository path exists
    (``NAME`` and ``{…}`` are placeholders)."""
    text = path.read_text(encoding="utf-8")
    missing = []
    for dotted in sorted(set(re.findall(r"`(govkg(?:\.\w+)+)`", text))):
        if FILE_NAME.match(dotted):
            continue
        try:
            _resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    for repo_path in sorted(set(REPO_PATH.findall(text))):
        if "NAME" not in repo_path and not (PROJECT_ROOT / repo_path.rstrip("/")).exists():
            missing.append(repo_path)
    assert missing == []
