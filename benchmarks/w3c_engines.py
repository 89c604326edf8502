"""W3C SPARQL conformance of the engines in-process: pyoxigraph and rdflib, pass counts and failures.

Runs the approved query-evaluation and query-syntax tests of the W3C suites in
``tests/w3c/sparql`` (SPARQL 1.1 by default, SPARQL 1.0 with ``--version all``)
through the harness of ``tests/w3c/manifest.py`` and prints Markdown: a table of
pass counts, then, per engine, the tests it fails with the first line of why.

    python -m benchmarks.w3c_engines                    # SPARQL 1.1, strict term comparison
    python -m benchmarks.w3c_engines --version all      # SPARQL 1.1 and 1.0
    python -m benchmarks.w3c_engines --numbers-by-value # equal numbers of one datatype match

The figures are recorded in benchmarks/README.md ("Conformance").
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.w3c import manifest as w3c

ENGINES = {"pyoxigraph": w3c.OxigraphExecutor, "rdflib": w3c.RdflibExecutor}


def _versions(choice: str) -> list[str]:
    return ["sparql11", "sparql10"] if choice == "all" else [choice]


def _cell(outcomes: list[w3c.Outcome]) -> str:
    return f"{w3c.count_passed(outcomes)} / {len(outcomes)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", choices=["sparql11", "sparql10", "all"], default="sparql11")
    parser.add_argument("--engine", choices=list(ENGINES), action="append", help="default: all engines")
    parser.add_argument(
        "--numbers-by-value",
        action="store_true",
        help="numeric literals of one datatype with equal values match (w3c/rdf-tests#58)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("rdflib").setLevel(logging.ERROR)  # rdflib logs every odd IRI of the suite

    engines = args.engine or list(ENGINES)
    results: dict[tuple[str, str, str], list[w3c.Outcome]] = {}
    seconds: dict[str, float] = {}
    for engine in engines:
        executor = ENGINES[engine]()
        started = time.perf_counter()
        for version in _versions(args.version):
            for kind, tests in (
                ("evaluation", w3c.approved_evaluation_tests(version)),
                ("syntax", w3c.approved_syntax_tests(version)),
            ):
                results[engine, version, kind] = w3c.run_tests(
                    tests, executor, numeric_by_value=args.numbers_by_value
                )
        seconds[engine] = time.perf_counter() - started

    mode = "numbers by value" if args.numbers_by_value else "strict term equality"
    print(f"Approved W3C SPARQL query tests, in-process, {mode}:\n")
    columns = [(version, kind) for version in _versions(args.version) for kind in ("evaluation", "syntax")]
    print("| engine | " + " | ".join(f"{version} {kind}" for version, kind in columns) + " | seconds |")
    print("|---" * (len(columns) + 2) + "|")
    for engine in engines:
        cells = [_cell(results[engine, version, kind]) for version, kind in columns]
        print(f"| {engine} | " + " | ".join(cells) + f" | {seconds[engine]:.1f} |")

    for engine in engines:
        failed = [outcome for key, outcomes in results.items() if key[0] == engine for outcome in outcomes]
        failed = w3c.failures(failed)
        print(f"\n{engine} fails {len(failed)}:\n")
        if failed:
            print("| test | why |\n|---|---|")
            for outcome in failed:
                why = w3c.first_line(outcome.message, 130).replace("|", "\\|")
                print(f"| `{outcome.test.id}` | {why} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
