"""The site's two languages: one catalogue with the same words in both, and a name for every term shown."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from govkg.rdf.serialize import PREFIXES
from govkg.web.i18n import MESSAGES, PAGE_LANGUAGES, format_number
from govkg.web.term_labels import known_terms, term_label

RDFS_LABEL = ox.NamedNode(PREFIXES["rdfs"] + "label")
SKOS_PREF_LABEL = ox.NamedNode(PREFIXES["skos"] + "prefLabel")
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")


def test_both_languages_have_the_same_words_and_placeholders():
    english, chinese = MESSAGES["en"], MESSAGES["zh"]
    assert set(english) == set(chinese)
    for key in english:
        assert set(re.findall(r"\{(\w+)\}", english[key])) == set(re.findall(r"\{(\w+)\}", chinese[key])), key
    # A Chinese word is Chinese: every entry but the names of formats and standards has a CJK character.
    untranslated = [
        key for key, text in chinese.items() if text == english[key] and not re.search(r"[^\x00-\x7f]", text)
    ]
    assert untranslated == ["graph_formats"]


@pytest.mark.parametrize(
    ("value", "language", "shown"),
    [
        (220000, "en", "220,000"),
        (220000, "zh", "22万"),
        (660, "zh", "660"),
        (1695, "en", "1,695"),
        (3e8, "zh", "3亿"),
    ],
)
def test_numbers_are_written_as_each_language_writes_them(value, language, shown):
    assert format_number(value, language) == shown


def test_every_predicate_and_class_of_the_article_has_a_name_in_both_languages(app):
    """A resource page shows each predicate and type by its name: from the graph, or else from the table."""
    with app.app_context():
        from govkg.web.store import loaded_graph

        loaded = loaded_graph()
    store = loaded.store
    graphs = [loaded.graph_iri(slug) for slug in ("ontology", "facts", "links")]
    terms = set()
    for graph in graphs:
        for quad in store.quads_for_pattern(None, None, None, graph):
            terms.add(quad.predicate)
            if quad.predicate == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
                terms.add(quad.object)

    def named(term: ox.NamedNode, language: str) -> bool:
        if term_label(term.value, language):
            return True
        return any(
            isinstance(quad.object, ox.Literal) and (quad.object.language or "").startswith(language)
            for predicate in (RDFS_LABEL, SKOS_PREF_LABEL)
            for quad in store.quads_for_pattern(term, predicate, None, None)
        )

    unnamed = sorted(term.value for term in terms for language in PAGE_LANGUAGES if not named(term, language))
    assert unnamed == []
    assert len(known_terms()) > 150
