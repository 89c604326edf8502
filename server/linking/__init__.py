"""Link discovery: propose links from the graph's places, organisations and concepts to another dataset.

``govkg link`` (:mod:`govkg.linking.linker`) reads another dataset, either an RDF dump
(any format of the registry, gzipped or not) or a SPARQL endpoint, and compares its
resources with ours. The links it is sure of are written as a Turtle linkset; the pairs
a person should look at, as a CSV of near misses (:mod:`govkg.linking.writing`).
Nothing is written into ``data/links/``, whose links are curated by hand: the output is
a proposal to review.

The steps, and the module of each:

1. **Describe** (:mod:`~govkg.linking.entities`, :mod:`~govkg.linking.vocabulary`).
   Each resource becomes an ``Entity``: labels (``rdfs:label``,
   ``skos:prefLabel``/``altLabel``, ``schema:name``, ``foaf:name``, ``gn:name``,
   ``gn:alternateName``), types (``rdf:type``, Wikidata ``P31``, GeoNames feature class
   and code), GB/T 2260 division codes (``skos:notation``, ``dcterms:identifier``,
   Wikidata ``P442``), GeoNames IDs (``P1566``, ``sws.geonames.org`` IRIs), coordinates
   (``geo:lat``/``geo:long``, ``schema:latitude``/``longitude`` directly or through
   ``schema:geo``, Wikidata ``P625`` WKT) and the links we already have
   (:mod:`~govkg.linking.identifiers` reads the codes, IDs and points).
2. **Block** (:mod:`~govkg.linking.labels`, :mod:`~govkg.linking.sources`). Our
   resources (a few dozen) are indexed by keys of their normalised labels (the name
   without its administrative suffix, plus its character bigrams or words) and by their
   codes, GeoNames IDs and linked IRIs. Each resource of the other dataset is looked up
   in this index and scored only against ours that share a key, so the work grows with
   the size of the other dataset, not with the product of the two. A dump is read once,
   keeping only the describing predicates; a SPARQL endpoint is asked only for the
   resources that may match, page by page.
3. **Score** and 4. **Assign** (:mod:`~govkg.linking.matching`, whose docstring has the
   table of weights): the evidence of each pair is added up, and pairs are taken best
   first, one link per resource and predicate; the rest above the near-miss floor are
   near misses.
"""
