"""Full-text search over the graph's labels, descriptions and evidence quotes (SQLite FTS5).

The index is one SQLite file per dataset version, built when the graph is opened
(:func:`open_search_index`) from the literals of a few predicates only — labels
(:data:`LABEL_PREDICATES`), descriptions (:data:`DESCRIPTION_PREDICATES`) and the quotes of
Web Annotations (``oa:exact``, indexed under the facts the annotation supports) — never
from every triple, so a million-triple ``--data`` adds about a second to the start.

One FTS5 row per resource, with a column per kind of text (``entry``), finds the resources that
hold every word of a search, wherever each word is. They are ranked by the sum, over the kinds, of
each kind's weight times its own ``bm25`` (one contentless FTS5 table per kind): a resource whose
label holds the words comes above one whose description or quote does, and a long quote does not
push a resource's matching label down (FTS5's ``bm25`` weighs a match by the length of the whole
row, so in ``entry`` it would: a dataset that many quotes support fell below shorter rows). English is
tokenized by words (``unicode61`` with the Porter stemmer: *opening* finds *opens*);
Chinese, which has no spaces, is indexed as overlapping character bigrams
(:func:`index_terms`) — a query of two or more characters is the phrase of its bigrams
(so 零跑 and 零跑动 both match), a single character a prefix query. A bigram index finds
every substring, unlike FTS5's ``trigram`` tokenizer, which cannot match the two-character
words Chinese is full of (零跑, 法治).

The file is written once, before the web server forks its workers, then opened read-only
by each thread that searches (SQLite connections must not cross a ``fork``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from govkg.rdf.namespaces import DCT as DCTERMS
from govkg.rdf.namespaces import OA, RDFS, SCHEMA, SKOS

#: The predicates whose literals are a resource's names, best first.
LABEL_PREDICATES: tuple[str, ...] = (
    SKOS + "prefLabel",
    RDFS + "label",
    DCTERMS + "title",
    SCHEMA + "name",
    SKOS + "altLabel",
)
#: The predicates whose literals describe a resource.
DESCRIPTION_PREDICATES: tuple[str, ...] = (
    DCTERMS + "description",
    SKOS + "definition",
    RDFS + "comment",
    SCHEMA + "description",
    SKOS + "editorialNote",
)
#: The kinds of indexed text, in the order of the index's columns, with their ``bm25`` weights.
KINDS: tuple[tuple[str, float], ...] = (("label", 10.0), ("description", 3.0), ("quote", 2.0))

INDEX_FILE = "search.sqlite"
_FORMAT = 2  # the file's layout; a file of another layout is rebuilt
_TOKENIZER = "tokenize = 'porter unicode61 remove_diacritics 2'"

#: The character ranges indexed as bigrams: CJK ideographs, kana, hangul.
CJK_CHARACTERS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{CJK_CHARACTERS}]+")
_QUERY_TOKEN = re.compile(f"[{CJK_CHARACTERS}]+|[^\\W_{CJK_CHARACTERS}]+")


def index_terms(text: str) -> str:
    """``text`` as the index stores it: each run of CJK characters as its overlapping bigrams
    (and its last character, so a one-character query finds every character), other words as they are.

    >>> index_terms("已办理事项中1695项实现“零跑动”")
    '已办 办理 理事 事项 项中 中 1695 项实 实现 现 “ 零跑 跑动 动 ”'
    >>> index_terms("Business opening")
    'Business opening'
    """

    def bigrams(match: re.Match[str]) -> str:
        run = match.group()
        return " " + " ".join([run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]) + " "

    return " ".join(_CJK_RUN.sub(bigrams, text).split())


def query_terms(query: str) -> list[str]:
    """The FTS5 expressions of the words of a search box's text: a CJK run becomes the phrase
    of its bigrams (one character: a prefix query), any other word a quoted token.

    >>> query_terms("零跑动 肇 1695项")
    ['"零跑 跑动"', '"肇"*', '"1695"', '"项"*']
    >>> query_terms('enterprise "opening" AND x-y')
    ['"enterprise"', '"opening"', '"AND"', '"x"', '"y"']
    """
    terms = []
    for token in _QUERY_TOKEN.findall(query):
        if _CJK_RUN.fullmatch(token):
            if len(token) == 1:
                terms.append(f'"{token}"*')
            else:
                terms.append('"' + " ".join(token[i : i + 2] for i in range(len(token) - 1)) + '"')
        else:
            terms.append(f'"{token}"')
    return terms


@dataclass
class Literal:
    """One indexed literal: what kind of text it is, its language tag and its text."""

    kind: str
    lang: str
    text: str


@dataclass
class Hit:
    """One resource that matches a search, with its indexed literals (for labels and snippets)."""

    iri: str
    score: float
    matched_all: bool
    literals: list[Literal] = field(default_factory=list)


class SearchIndex:
    """A built index file, searched through one read-only connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        """The resources matching ``query``, best first: those with every word, then those with
        some (each group ranked by ``bm25``, labels weighing most); empty for an empty query."""
        terms = query_terms(query)
        if not terms:
            return []
        any_word = " OR ".join(terms)
        # Each kind's weighted bm25 of the words it holds (bm25 is negative: lower is better).
        scores = " UNION ALL ".join(
            f"SELECT rowid, {weight} * bm25({kind}_text) AS score FROM {kind}_text "
            f"WHERE {kind}_text MATCH :any"
            for kind, weight in KINDS
        )
        sql = (
            f"WITH scored AS (SELECT rowid, SUM(score) AS score FROM ({scores}) GROUP BY rowid) "
            "SELECT entry.rowid, entry.iri, scored.score FROM scored "
            "JOIN entry ON entry.rowid = scored.rowid "
            "WHERE entry MATCH :match ORDER BY scored.score LIMIT :limit"
        )
        connection = self._connection()
        hits: dict[int, Hit] = {}
        expressions = [(" AND ".join(terms), True)]
        if len(terms) > 1:
            expressions.append((any_word, False))
        for expression, matched_all in expressions:
            found = connection.execute(sql, {"any": any_word, "match": expression, "limit": limit})
            for rowid, iri, score in found:
                if rowid not in hits and len(hits) < limit:
                    hits[rowid] = Hit(iri, score, matched_all)
        if hits:
            marks = ",".join("?" * len(hits))
            rows = connection.execute(
                f"SELECT entry, kind, lang, text FROM literal WHERE entry IN ({marks}) ORDER BY position",
                list(hits),
            )
            for rowid, kind, lang, text in rows:
                hits[rowid].literals.append(Literal(kind, lang, text))
        return list(hits.values())


def _literal_quads(store: ox.Store, predicates: Iterable[str]) -> Iterator[tuple[ox.NamedNode, ox.Literal]]:
    for predicate in predicates:
        for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
            if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
                yield quad.subject, quad.object


def _quotes(store: ox.Store) -> Iterator[tuple[ox.NamedNode, ox.Literal]]:
    """``(fact, quote)`` for every ``oa:exact`` of an annotation's selector, for each of its
    bodies (and the annotation itself, when it has an IRI)."""
    has_selector, has_target, has_body = (
        ox.NamedNode(OA + name) for name in ("hasSelector", "hasTarget", "hasBody")
    )
    for quad in store.quads_for_pattern(None, ox.NamedNode(OA + "exact"), None, None):
        if not isinstance(quad.object, ox.Literal):
            continue
        for target in store.quads_for_pattern(None, has_selector, quad.subject, None):
            for annotation in store.quads_for_pattern(None, has_target, target.subject, None):
                facts = [annotation.subject] + [
                    body.object for body in store.quads_for_pattern(annotation.subject, has_body, None, None)
                ]
                for fact in dict.fromkeys(facts):
                    if isinstance(fact, ox.NamedNode):
                        yield fact, quad.object


def build_search_index(store: ox.Store, path: Path) -> SearchIndex:
    """Write the index of ``store``'s labels, descriptions and quotes to ``path`` (atomically)."""
    texts: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    sources = (
        ("label", _literal_quads(store, LABEL_PREDICATES)),
        ("description", _literal_quads(store, DESCRIPTION_PREDICATES)),
        ("quote", _quotes(store)),
    )
    for kind, pairs in sources:
        for subject, literal in pairs:
            entry = (kind, literal.language or "", literal.value)
            listed = texts[subject.value]
            if entry not in listed:
                listed.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        columns = ", ".join(kind for kind, _ in KINDS)
        connection.executescript(
            f"""
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA user_version = {_FORMAT};
            CREATE VIRTUAL TABLE entry USING fts5(iri UNINDEXED, {columns}, {_TOKENIZER});
            CREATE TABLE literal (entry INTEGER, position INTEGER, kind TEXT, lang TEXT, text TEXT);
            """
        )
        for kind, _ in KINDS:  # the index alone (contentless): only for each kind's ranking
            connection.execute(f"CREATE VIRTUAL TABLE {kind}_text USING fts5(body, content='', {_TOKENIZER})")

        def entries() -> Iterator[tuple[int, str, str, str, str]]:
            for rowid, (iri, listed) in enumerate(texts.items(), start=1):
                by_kind = {
                    kind: "\n".join(index_terms(text) for k, _, text in listed if k == kind)
                    for kind, _ in KINDS
                }
                yield rowid, iri, *(by_kind[kind] for kind, _ in KINDS)

        rows = list(entries())
        connection.executemany(f"INSERT INTO entry (rowid, iri, {columns}) VALUES (?, ?, ?, ?, ?)", rows)
        for column, (kind, _) in enumerate(KINDS, start=2):
            connection.executemany(
                f"INSERT INTO {kind}_text (rowid, body) VALUES (?, ?)",
                ((row[0], row[column]) for row in rows if row[column]),
            )
        connection.executemany(
            "INSERT INTO literal VALUES (?, ?, ?, ?, ?)",
            (
                (rowid, position, kind, lang, text)
                for rowid, listed in enumerate(texts.values(), start=1)
                for position, (kind, lang, text) in enumerate(listed)
            ),
        )
        connection.execute("CREATE INDEX literal_entry ON literal (entry)")
        for table in ("entry", *(f"{kind}_text" for kind, _ in KINDS)):
            connection.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
        connection.commit()
    finally:
        connection.close()
    os.replace(partial, path)
    return SearchIndex(path)


def open_search_index(store: ox.Store, folder: Path) -> SearchIndex:
    """The index kept in ``folder`` (one folder per dataset version), built first if it is not there."""
    path = folder / INDEX_FILE
    if path.exists():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                if connection.execute("PRAGMA user_version").fetchone()[0] == _FORMAT:
                    return SearchIndex(path)
        except sqlite3.DatabaseError:
            pass  # a damaged file is built again
    return build_search_index(store, path)
