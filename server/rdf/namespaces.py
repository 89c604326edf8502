"""The RDF vocabularies the project uses, each namespace IRI written once.

``PREFIXES`` (prefix: namespace) is what Turtle and TriG output and the query page declare;
the constants below name the same IRIs for code that builds terms (``RDFS + "label"``),
plus the vocabularies only link discovery and the metadata use. The project's own
namespaces depend on the base IRI: :func:`govkg.rdf.serialize.project_prefixes`.

>>> RDFS + "label", PREFIXES["dcterms"] == DCT
('http://www.w3.org/2000/01/rdf-schema#label', True)
"""

from __future__ import annotations

#: Prefixes written into Turtle/TriG output and declared on the query page.
PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "http://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "qb": "http://purl.org/linked-data/cube#",
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
    "sdmx-attribute": "http://purl.org/linked-data/sdmx/2009/attribute#",
    "time": "http://www.w3.org/2006/time#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
SKOS = PREFIXES["skos"]
DCT = PREFIXES["dcterms"]
FOAF = PREFIXES["foaf"]
SCHEMA = PREFIXES["schema"]
ORG = PREFIXES["org"]
CPSV = PREFIXES["cpsv"]
CV = PREFIXES["cv"]
ELI = PREFIXES["eli"]
PROV = PREFIXES["prov"]
OA = PREFIXES["oa"]
QB = PREFIXES["qb"]
TIME = PREFIXES["time"]
DCAT = PREFIXES["dcat"]
VOID = PREFIXES["void"]
SD = PREFIXES["sd"]
VCARD = PREFIXES["vcard"]

# Used in link discovery and in the dataset metadata; not declared in output.
SPDX = "http://spdx.org/rdf/terms#"
GEOSPARQL = "http://www.opengis.net/ont/geosparql#"
GN = "http://www.geonames.org/ontology#"
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
DBO = "http://dbpedia.org/ontology/"
