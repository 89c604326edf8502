"""Validate a DCAT-AP catalogue with the official DCAT-AP 3.0.1 shapes (vendored in tests/dcat-ap/).

    python -m tests.dcat_ap catalog.ttl      # exit status 0 conforms, 1 violations (listed)

Both shape files reference five property shapes that neither defines (SEMICeu/DCAT-AP#448,
open); SHACL engines refuse such a shapes graph (``pyshacl -s`` stops with "not a
well-formed SHACL PropertyShape"), so those dangling references are dropped. Every
constraint that is defined is kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyshacl
import rdflib
from rdflib import RDF, Namespace

DCAT_AP_DIR = Path(__file__).resolve().parent / "dcat-ap"
SHAPE_FILES = ("dcat-ap-3.0.1-SHACL.ttl", "dcat-ap-3.0.1-ranges.ttl")
SH = Namespace("http://www.w3.org/ns/shacl#")


def dcat_ap_shapes() -> rdflib.Graph:
    """The official DCAT-AP 3.0.1 shapes, constraints and class ranges, less the dangling references."""
    shapes = rdflib.Graph()
    for name in SHAPE_FILES:
        shapes.parse(DCAT_AP_DIR / name, format="turtle")
    for node_shape, property_shape in list(shapes.subject_objects(SH.property)):
        if shapes.value(property_shape, SH.path) is None:
            shapes.remove((node_shape, SH.property, property_shape))
    return shapes


def violations(data: rdflib.Graph, shapes: rdflib.Graph) -> list[str]:
    """Each violation as ``focus path: message``, sorted (warnings are not violations)."""
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    return sorted(
        f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
        f"{report.value(result, SH.resultMessage)}"
        for result in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(result, SH.resultSeverity) == SH.Violation
    )


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m tests.dcat_ap CATALOGUE_FILE (any RDF format rdflib reads)", file=sys.stderr)
        return 2
    found = violations(rdflib.Graph().parse(arguments[0]), dcat_ap_shapes())
    for violation in found:
        print(violation)
    print(f"{len(found)} violation(s)" if found else "conforms to DCAT-AP 3.0.1")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
