"""What the pages show of the RDF Data Cube: a dataset's series, ready to draw, and each
observation's key value.

Read through the store's ``quads_for_pattern`` only (no SPARQL), so it works the same on
every backend, and it knows nothing of Flask: links are made by the ``href`` function
the caller passes. An observation is anything with a ``qb:dataSet`` (the data also types
assessment results so); its value is the object of a property typed
``qb:MeasureProperty``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
from govkg.rdf.namespaces import OA, QB

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
QB_DATASET = ox.NamedNode(QB + "dataSet")
QB_OBSERVATION = ox.NamedNode(QB + "Observation")
QB_DATASET_CLASS = ox.NamedNode(QB + "DataSet")
QB_MEASURE_PROPERTY = ox.NamedNode(QB + "MeasureProperty")
QB_DIMENSION_PROPERTY = ox.NamedNode(QB + "DimensionProperty")
UNIT_MEASURE = ox.NamedNode("http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure")
REF_PERIOD = ox.NamedNode("http://purl.org/linked-data/sdmx/2009/dimension#refPeriod")
NUMERIC_DATATYPES = frozenset(
    "http://www.w3.org/2001/XMLSchema#" + name
    for name in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "nonNegativeInteger",
        "positiveInteger",
    )
)

Label = Callable[[ox.NamedNode], str]
Href = Callable[[str], str | None]


@dataclass
class Point:
    """One observation of a series."""

    iri: str
    category: str
    value: float | int | None
    value_text: str  # the value as the page shows it (a label for a non-numeric measure)
    label: str
    unit: str | None
    href: str | None


@dataclass
class Series:
    """A dataset's observations, in the order the article states them."""

    iri: str
    title: str
    measure: str
    points: list[Point] = field(default_factory=list)

    @property
    def size(self) -> str:
        """The chart's size class (its box is reserved by CSS before it is drawn): by drawn points.

        >>> Series("x", "t", "m", [Point("p", "c", 1, "1", "l", None, None)] * 12).size
        'many'
        """
        drawn = sum(1 for point in self.points if point.value is not None)
        return "few" if drawn <= 8 else "many" if drawn <= 16 else "lots"

    @property
    def numeric(self) -> bool:
        """Whether there is something to draw: at least one numeric value."""
        return any(point.value is not None for point in self.points)

    def by_unit(self) -> list[list[Point]]:
        """The drawn points grouped by unit, in order of first appearance: one chart each, since
        one axis cannot hold days and percentages.

        >>> p = lambda unit: Point("i", "c", 1, "1", "l", unit, None)
        >>> [[q.unit for q in part] for part in Series("x", "t", "m", [p("day"), p("%"), p("day")]).by_unit()]
        [['day', 'day'], ['%']]
        """
        parts: dict[str | None, list[Point]] = {}
        for point in self.points:
            if point.value is not None:
                parts.setdefault(point.unit, []).append(point)
        return list(parts.values())

    def chart_data(self, current: str | None = None) -> dict:
        """The JSON the chart script draws (``current`` marks one observation)."""
        return {
            "title": self.title,
            "measure": self.measure,
            "points": [
                {
                    "category": point.category,
                    "value": point.value,
                    "label": point.label,
                    "unit": point.unit or "",
                    "href": point.href,
                    "current": point.iri == current,
                }
                for point in self.points
                if point.value is not None
            ],
        }


def numeric_value(literal: ox.Literal) -> int | float | None:
    """The number a typed literal holds, or ``None``.

    >>> numeric_value(ox.Literal("660", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    660
    >>> numeric_value(ox.Literal("excellent")) is None
    True
    """
    if literal.datatype.value not in NUMERIC_DATATYPES:
        return None
    try:
        number = float(literal.value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _objects(store, subject, predicate: ox.NamedNode) -> list:  # noqa: ANN001
    return [quad.object for quad in store.quads_for_pattern(subject, predicate, None, None)]


def _is_a(store, node, cls: ox.NamedNode) -> bool:  # noqa: ANN001
    return next(iter(store.quads_for_pattern(node, RDF_TYPE, cls, None)), None) is not None


def measure_of(store, observation: ox.NamedNode) -> tuple[ox.NamedNode, ox.Literal | ox.NamedNode] | None:  # noqa: ANN001
    """The observation's measure property and value (the first, by IRI, if there are several)."""
    for quad in sorted(
        store.quads_for_pattern(observation, None, None, None), key=lambda q: q.predicate.value
    ):
        if _is_a(store, quad.predicate, QB_MEASURE_PROPERTY):
            return quad.predicate, quad.object
    return None


def evidence_position(store, node: ox.NamedNode) -> int | None:  # noqa: ANN001
    """Where the article first states ``node``: the smallest ``oa:start`` of its annotations."""
    starts = []
    for annotation in store.quads_for_pattern(None, ox.NamedNode(OA + "hasBody"), node, None):
        for target in _objects(store, annotation.subject, ox.NamedNode(OA + "hasTarget")):
            for selector in _objects(store, target, ox.NamedNode(OA + "hasSelector")):
                for start in _objects(store, selector, ox.NamedNode(OA + "start")):
                    if isinstance(start, ox.Literal) and start.value.isdigit():
                        starts.append(int(start.value))
    return min(starts, default=None)


def observations_of(store, dataset: ox.NamedNode) -> list[ox.NamedNode]:  # noqa: ANN001
    """The observations of ``dataset``, in the order the article states them."""
    members = {
        quad.subject
        for quad in store.quads_for_pattern(None, QB_DATASET, dataset, None)
        if isinstance(quad.subject, ox.NamedNode)
    }
    positions = {member: evidence_position(store, member) for member in members}
    return sorted(members, key=lambda m: (positions[m] if positions[m] is not None else 1 << 30, m.value))


def dataset_series(store, dataset: ox.NamedNode, label: Label, href: Href) -> Series:  # noqa: ANN001
    """The series of ``dataset``: each observation's value, unit and category.

    The category names what sets an observation apart: the values of the dimensions that
    differ across the dataset (a year, an indicator, a step), else its own label.
    """
    observations = observations_of(store, dataset)
    dimension_values: dict[ox.NamedNode, dict[ox.NamedNode, object]] = {}
    for observation in observations:
        for quad in store.quads_for_pattern(observation, None, None, None):
            if _is_a(store, quad.predicate, QB_DIMENSION_PROPERTY):
                dimension_values.setdefault(quad.predicate, {})[observation] = quad.object
    varying = [
        dimension
        for dimension, values in sorted(dimension_values.items(), key=lambda item: item[0].value)
        if len(set(values.values())) > 1 or len(values) < len(observations)
    ]
    measures: list[str] = []
    points = []
    for observation in observations:
        found = measure_of(store, observation)
        if found is None:
            continue
        measure, value = found
        if label(measure) not in measures:
            measures.append(label(measure))
        parts = []
        for dimension in varying:
            dimension_value = dimension_values[dimension].get(observation)
            if isinstance(dimension_value, ox.NamedNode):
                parts.append(label(dimension_value))
            elif isinstance(dimension_value, ox.Literal):
                parts.append(f"{label(dimension)} {dimension_value.value}")
        units = [
            unit for unit in _objects(store, observation, UNIT_MEASURE) if isinstance(unit, ox.NamedNode)
        ]
        number = numeric_value(value) if isinstance(value, ox.Literal) else None
        value_text = value.value if isinstance(value, ox.Literal) else label(value)
        points.append(
            Point(
                iri=observation.value,
                category=" · ".join(parts) or label(observation),
                value=number,
                value_text=value_text,
                label=label(observation),
                unit=label(units[0]) if units else None,
                href=href(observation.value),
            )
        )
    return Series(dataset.value, label(dataset), " / ".join(measures), points)


def datasets(store) -> list[ox.NamedNode]:  # noqa: ANN001
    """Every ``qb:DataSet``, by IRI."""
    return sorted(
        (
            q.subject
            for q in store.quads_for_pattern(None, RDF_TYPE, QB_DATASET_CLASS, None)
            if isinstance(q.subject, ox.NamedNode)
        ),
        key=lambda node: node.value,
    )


def dataset_of(store, observation: ox.NamedNode) -> ox.NamedNode | None:  # noqa: ANN001
    """The dataset an observation belongs to, if any."""
    found = [node for node in _objects(store, observation, QB_DATASET) if isinstance(node, ox.NamedNode)]
    return min(found, key=lambda node: node.value, default=None)
