"""``govkg link``: one run of link discovery, from our graph and a target to the links and near misses.

:func:`run_link_discovery` loads our graph, describes our resources and the target's
(:mod:`govkg.linking.sources`), scores and assigns (:mod:`govkg.linking.matching`) and
returns a :class:`LinkRun`, which :mod:`govkg.linking.writing` writes out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from govkg.graph.knowledge_graph import DataFileError, graph_parts, load_store
from govkg.linking.entities import Entity
from govkg.linking.matching import DEFAULT_NEAR_MISS_FLOOR, DEFAULT_THRESHOLD, Link, NearMiss, discover
from govkg.linking.sources import (
    DEFAULT_MAX_PAGES,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    EndpointClient,
    LinkingError,
    dump_entities,
    endpoint_entities,
    is_endpoint,
    our_entities,
)
from govkg.rdf.namespaces import WD
from govkg.settings import DEFAULT_BASE_IRI

#: Namespaces of well-known datasets: the slug of the dataset and its label.
KNOWN_DATASETS: tuple[tuple[str, str, str], ...] = (
    (WD, "wikidata", "Wikidata"),
    ("https://sws.geonames.org/", "geonames", "GeoNames"),
    ("http://sws.geonames.org/", "geonames", "GeoNames"),
    ("http://dbpedia.org/resource/", "dbpedia", "DBpedia"),
)


@dataclass
class LinkRun:
    """One run of link discovery: its parameters, its results and when it ran."""

    target: str
    target_name: str
    type_filter: str | None
    threshold: float
    near_miss_floor: float
    started: datetime
    ended: datetime
    links: list[Link]
    near_misses: list[NearMiss]
    our_count: int
    their_count: int
    compared: int
    requests: int = 0
    truncated: bool = False

    @cached_property
    def target_dataset(self) -> tuple[str, str, str | None]:
        """The slug and label of the target dataset and its URI space, if it is a known one."""
        iris = [link.pair.theirs.iri for link in self.links] + [
            miss.pair.theirs.iri for miss in self.near_misses
        ]
        for namespace, slug, label in KNOWN_DATASETS:
            if iris and all(iri.startswith(namespace) for iri in iris):
                return slug, label, namespace
        name = self.target_name
        if not is_endpoint(self.target):
            name = re.sub(r"(\.gz)?$", "", name)
            name = name.rsplit(".", 1)[0] if "." in name else name
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "target"
        return slug, self.target_name, None


def run_link_discovery(
    target: str,
    type_filter: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    near_miss_floor: float = DEFAULT_NEAR_MISS_FLOOR,
    data_dir: Path | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LinkRun:
    """Link our resources (the graph of ``data_dir``, by default ``data/``) to the ``target`` dataset.

    ``target`` is a SPARQL endpoint URL or the path of an RDF dump. Raises
    :class:`LinkingError` for anything that stops the run.
    """
    if not 0 <= near_miss_floor <= threshold <= 1:
        raise LinkingError("need 0 <= near-miss floor <= threshold <= 1")
    started = now().replace(microsecond=0)
    parts = graph_parts() if data_dir is None else graph_parts(data_dir=data_dir)
    try:
        store = load_store(DEFAULT_BASE_IRI, parts)
    except DataFileError as error:
        raise LinkingError(str(error)) from None
    ours = our_entities(store, DEFAULT_BASE_IRI, type_filter)
    if not ours:
        raise LinkingError("no resources of ours to link (check --type)")
    client = None
    if is_endpoint(target):
        client = EndpointClient(target, page_size, max_pages, timeout)
        theirs: list[Entity] = endpoint_entities(client, ours)
        target_name = target
    else:
        theirs = list(dump_entities(Path(target)))
        target_name = Path(target).name
    links, near_misses, compared = discover(ours, theirs, threshold, near_miss_floor)
    return LinkRun(
        target=target,
        target_name=target_name,
        type_filter=type_filter,
        threshold=threshold,
        near_miss_floor=near_miss_floor,
        started=started,
        ended=now().replace(microsecond=0),
        links=links,
        near_misses=near_misses,
        our_count=len(ours),
        their_count=len(theirs),
        compared=compared,
        requests=client.log.requests if client else 0,
        truncated=client.log.truncated if client else False,
    )
