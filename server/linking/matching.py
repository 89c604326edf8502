"""Scoring pairs of resources and assigning links, one to one per predicate.

**Score.** The evidence is added up; each piece adds a reason shown in the CSV:

=====================  =========  ================================================
label similarity       × 0.65     1.0 same normalised label; 0.95 same name without
                                  its administrative suffix; 0.8 the same name with
                                  different suffixes (市 / 县); otherwise 0.9 × the
                                  ``difflib`` ratio of the names
both scripts agree     + 0.15     a Chinese and a Latin label both match (≥ 0.95)
types                  + 0.25     the same family (see
                                  :data:`govkg.linking.vocabulary.CLASS_FAMILIES`)
                       + 0.15     a broader family (``schema:Place`` ~ a city)
                       + 0.15     a city as an administrative area ~ as a settlement
                       − 0.6      incompatible families (a city ~ a railway station)
                       − 0.1      no recognised type, for anything but a concept
division code          + 0.3      equal GB/T 2260 codes; − 0.5 when both have codes
                                  and none is equal
GeoNames ID            + 0.3      equal to an ID we hold by ``owl:sameAs``/
                                  ``skos:exactMatch``; + 0.15 to one we hold by
                                  ``skos:closeMatch``; − 0.5 when it differs from one
                                  we hold as identity
already linked         + 0.3      we already link to this very IRI
coordinates            + 0.15     within 10 km; − 0.6 more than 100 km apart
                                  (not for countries, whose points are arbitrary)
=====================  =========  ================================================

The score reported is the sum clipped to [0, 1], rounded to three places; pairs are
ranked by the unclipped sum. At the default threshold of 0.8 an exact label is not
enough: it needs a matching type (0.65 + 0.25), or Chinese and Latin labels that both
match and no type against it; one piece of contrary evidence (another type, another
code, 100 km apart) keeps a pair out.

**Assign.** Pairs are taken best first. A pair at or above the threshold becomes a
link when neither of its resources already has a link with that predicate; the
predicate follows the types (:func:`link_predicate`). A pair that loses to a better
one, a pair whose types are only related (a newspaper ~ its publisher), and a pair
between the near-miss floor and the threshold go to the near-miss CSV.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from govkg.linking.entities import Entity, Label
from govkg.linking.identifiers import distance_km
from govkg.linking.labels import is_chinese, name_similarity
from govkg.linking.vocabulary import (
    FAMILY_PARENTS,
    FAMILY_RELATIONS,
    OWL_SAME_AS,
    SKOS_CLOSE_MATCH,
    SKOS_EXACT_MATCH,
)

DEFAULT_THRESHOLD = 0.8
DEFAULT_NEAR_MISS_FLOOR = 0.5

# -- scoring weights -----------------------------------------------------------------------------

LABEL_WEIGHT = 0.65
BOTH_SCRIPTS_BONUS = 0.15
TYPE_SAME = 0.25
TYPE_BROADER = 0.15
TYPE_INCOMPATIBLE = -0.6
TYPE_UNKNOWN = -0.1
CODE_MATCH = 0.3
CODE_CONFLICT = -0.5
GEONAMES_MATCH = 0.3
GEONAMES_CLOSE_MATCH = 0.15
GEONAMES_CONFLICT = -0.5
ALREADY_LINKED = 0.3
NEAR_KM = 10.0
FAR_KM = 100.0
NEAR_BONUS = 0.15
FAR_PENALTY = -0.6


# -- scoring -------------------------------------------------------------------------------------


class TypeVerdict(NamedTuple):
    """How the types of a pair compare."""

    kind: str  # same, broader, close, related, unknown, incompatible
    weight: float
    reason: str

    @property
    def linkable(self) -> bool:
        """Whether a pair with these types may be linked at all."""
        return self.kind in ("same", "broader", "close", "unknown")


def compare_types(ours: frozenset[str], theirs: frozenset[str]) -> TypeVerdict:
    """Compare two sets of type families; the best pair decides.

    An unrecognised type costs a little, except for our concepts: other datasets seldom
    type their concepts in a way we could recognise.

    >>> compare_types(frozenset({"admin-area"}), frozenset({"admin-area", "populated-place"})).kind
    'same'
    >>> compare_types(frozenset({"admin-area"}), frozenset({"facility"}))
    TypeVerdict(kind='incompatible', weight=-0.6, reason='types incompatible (admin-area / facility)')
    >>> [compare_types(frozenset({family}), frozenset()).weight for family in ("concept", "person")]
    [0.0, -0.1]
    """
    if not ours or not theirs:
        weight = 0.0 if "concept" in ours else TYPE_UNKNOWN
        return TypeVerdict("unknown", weight, "type not recognised")
    best: TypeVerdict | None = None
    for our_family in sorted(ours):
        for their_family in sorted(theirs):
            verdict = _compare_families(our_family, their_family)
            if best is None or verdict.weight > best.weight:
                best = verdict
    assert best is not None
    return best


def _compare_families(ours: str, theirs: str) -> TypeVerdict:
    if ours == theirs:
        return TypeVerdict("same", TYPE_SAME, f"same type ({ours})")
    if FAMILY_PARENTS.get(ours) == theirs or FAMILY_PARENTS.get(theirs) == ours:
        return TypeVerdict("broader", TYPE_BROADER, f"compatible types ({ours} / {theirs})")
    relation = FAMILY_RELATIONS.get(frozenset({ours, theirs}))
    if relation:
        kind = "close" if relation.linkable else "related"
        return TypeVerdict(kind, relation.weight, f"related types: {relation.why} ({ours} / {theirs})")
    return TypeVerdict("incompatible", TYPE_INCOMPATIBLE, f"types incompatible ({ours} / {theirs})")


@dataclass(frozen=True)
class ScoredPair:
    """A pair of resources, its score and the reasons for it."""

    ours: Entity
    theirs: Entity
    raw_score: float
    label_similarity: float
    our_label: Label | None
    their_label: Label | None
    types: TypeVerdict
    negative_evidence: bool
    reasons: tuple[str, ...]

    @property
    def score(self) -> float:
        """The score clipped to [0, 1], rounded to three places."""
        return round(min(1.0, max(0.0, self.raw_score)), 3)


def score_pair(ours: Entity, theirs: Entity) -> ScoredPair:
    """Score one pair of resources (the table in the module's docstring).

    >>> from govkg.rdf.namespaces import SCHEMA, WD
    >>> zhaoqing = Entity("https://w3id.org/govkg/id/place/zhaoqing", [Label("肇庆市", "zh"),
    ...     Label("Zhaoqing", "en")], {SCHEMA + "AdministrativeArea"}, codes={"441200"})
    >>> item = Entity(WD + "Q1", [Label("肇慶市", "zh-hant"), Label("Zhaoqing", "en")], {WD + "Q748149"},
    ...     codes={"441200"})
    >>> pair = score_pair(zhaoqing, item)
    >>> pair.score, pair.reasons
    (1.0, ('same label: 肇庆市@zh ~ 肇慶市@zh-hant', 'Chinese and Latin labels both match', \
'same type (admin-area)', 'same division code 441200'))
    >>> station = Entity(WD + "Q2", [Label("肇庆", "zh")], {WD + "Q55488"})
    >>> score_pair(zhaoqing, station).score, score_pair(zhaoqing, station).types.kind
    (0.018, 'incompatible')
    """
    reasons: list[str] = []
    score = 0.0
    negative = False

    similarity, our_label, their_label, why = 0.0, None, None, ""
    best_by_script: dict[bool, float] = {}
    for our in ours.labels:
        for their in theirs.labels:
            chinese = is_chinese(our.text)
            if chinese != is_chinese(their.text):
                continue
            value, reason = name_similarity(our.text, their.text)
            best_by_script[chinese] = max(best_by_script.get(chinese, 0.0), value)
            if value > similarity:
                similarity, our_label, their_label, why = value, our, their, reason
    if our_label is not None:
        score += LABEL_WEIGHT * similarity
        reasons.append(f"{why}: {our_label} ~ {their_label}")
    else:
        reasons.append("no labels in a common script")
    if len(best_by_script) == 2 and min(best_by_script.values()) >= 0.95:
        score += BOTH_SCRIPTS_BONUS
        reasons.append("Chinese and Latin labels both match")

    types = compare_types(ours.families, theirs.families)
    score += types.weight
    reasons.append(types.reason)
    negative |= types.kind == "incompatible"

    if ours.codes and theirs.codes:
        shared = sorted(ours.codes & theirs.codes)
        if shared:
            score += CODE_MATCH
            reasons.append(f"same division code {', '.join(shared)}")
        else:
            score += CODE_CONFLICT
            negative = True
            reasons.append(
                f"division codes differ ({', '.join(sorted(ours.codes))} / {', '.join(sorted(theirs.codes))})"
            )

    already = theirs.iri in ours.identity_links | ours.close_links
    if already:
        score += ALREADY_LINKED
        reasons.append("already linked")
    elif theirs.geonames_ids:
        if ours.geonames_ids & theirs.geonames_ids:
            score += GEONAMES_MATCH
            reasons.append(f"same GeoNames ID {', '.join(sorted(ours.geonames_ids & theirs.geonames_ids))}")
        elif ours.close_geonames_ids & theirs.geonames_ids:
            score += GEONAMES_CLOSE_MATCH
            shared = ", ".join(sorted(ours.close_geonames_ids & theirs.geonames_ids))
            reasons.append(f"GeoNames ID {shared} is a close match of ours")
        elif ours.geonames_ids:
            score += GEONAMES_CONFLICT
            negative = True
            reasons.append("GeoNames IDs differ")

    if ours.points and theirs.points and "country" not in ours.families | theirs.families:
        distance = min(distance_km(a, b) for a in ours.points for b in theirs.points)
        if distance <= NEAR_KM:
            score += NEAR_BONUS
            reasons.append(f"{distance:.1f} km apart")
        elif distance > FAR_KM:
            score += FAR_PENALTY
            negative = True
            reasons.append(f"{distance:.0f} km apart")
        else:
            reasons.append(f"{distance:.0f} km apart (no evidence either way)")

    return ScoredPair(
        ours, theirs, round(score, 4), similarity, our_label, their_label, types, negative, tuple(reasons)
    )


def link_predicate(pair: ScoredPair) -> str:
    """The predicate of a link, chosen by type.

    ``owl:sameAs`` for the same thing (places, organisations, people, works, software of
    the same or a broader family); ``skos:closeMatch`` for closely related things (a
    prefecture-level city and its seat as a settlement) and for resources whose type is
    not recognised; for concepts ``skos:exactMatch`` when a label matches exactly and no
    evidence speaks against it, else ``skos:closeMatch``.
    """
    if "concept" in pair.ours.roots:
        exact = pair.label_similarity >= 0.95 and not pair.negative_evidence
        return SKOS_EXACT_MATCH if exact else SKOS_CLOSE_MATCH
    if pair.types.kind in ("same", "broader"):
        return OWL_SAME_AS
    return SKOS_CLOSE_MATCH


# -- discovery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A proposed link."""

    pair: ScoredPair
    predicate: str


@dataclass(frozen=True)
class NearMiss:
    """A pair for a person to review, and why it was not linked."""

    pair: ScoredPair
    verdict: str


class Blocker:
    """Our resources indexed by blocking key, for streaming the other dataset's past them."""

    def __init__(self, ours: Sequence[Entity]) -> None:
        self.ours = list(ours)
        self.index: dict[str, list[int]] = defaultdict(list)
        for position, entity in enumerate(self.ours):
            for key in entity.keys:
                self.index[key].append(position)

    def candidates(self, theirs: Entity) -> list[Entity]:
        """Our resources that share a key with ``theirs``."""
        positions = {position for key in theirs.keys for position in self.index.get(key, ())}
        return [self.ours[position] for position in sorted(positions)]


def discover(
    ours: Sequence[Entity],
    theirs: Iterable[Entity],
    threshold: float = DEFAULT_THRESHOLD,
    near_miss_floor: float = DEFAULT_NEAR_MISS_FLOOR,
) -> tuple[list[Link], list[NearMiss], int]:
    """Score every candidate pair and assign links one to one per predicate.

    Returns the links, the near misses (best first) and the number of pairs scored.
    """
    blocker = Blocker(ours)
    scored: list[ScoredPair] = []
    compared = 0
    our_iris = {entity.iri for entity in ours}
    for entity in theirs:
        if entity.iri in our_iris:
            continue
        for candidate in blocker.candidates(entity):
            compared += 1
            pair = score_pair(candidate, entity)
            if pair.score >= near_miss_floor:
                scored.append(pair)
    scored.sort(key=lambda pair: (-pair.raw_score, pair.ours.iri, pair.theirs.iri))
    links: list[Link] = []
    near_misses: list[NearMiss] = []
    # (IRI, predicate) -> the IRI it is already linked to, on each side.
    linked_ours: dict[tuple[str, str], str] = {}
    linked_theirs: dict[tuple[str, str], str] = {}
    for pair in scored:
        predicate = link_predicate(pair)
        ours_key, theirs_key = (pair.ours.iri, predicate), (pair.theirs.iri, predicate)
        if pair.score < threshold:
            near_misses.append(NearMiss(pair, "below threshold"))
        elif not pair.types.linkable:
            near_misses.append(NearMiss(pair, "types only related"))
        elif ours_key in linked_ours or theirs_key in linked_theirs:
            winner = linked_ours.get(ours_key) or linked_theirs[theirs_key]
            near_misses.append(NearMiss(pair, f"runner-up to {winner}"))
        else:
            links.append(Link(pair, predicate))
            linked_ours[ours_key], linked_theirs[theirs_key] = pair.theirs.iri, pair.ours.iri
    return links, near_misses, compared
