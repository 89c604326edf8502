"""The query mix: templates in the style of the Berlin SPARQL Benchmark's explore mix.

Each template names its parameters as ``{{name}}``; :func:`build_mix` draws ten parameter
sets per template from the generated data (through :func:`generate.city_block`, so the
file is never read), so that no result cache can answer one instance from another.
Every instance is anchored on IRIs under the bench base, so extra data loaded beside it
(such as the article graph) never changes its result.

The project's competency questions (``queries/*.rq``) are added unchanged by
:func:`competency_questions`; they are meant for the article graph.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import generate as g

PARAMETER_SETS = 10

PROLOGUE = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in g.PREFIXES.items())

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class QueryInstance:
    """One query text ready to send."""

    name: str
    form: str  # select, ask, construct or describe
    text: str
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Template:
    """A query template and how to draw one parameter set for it."""

    name: str
    form: str
    purpose: str
    text: str
    draw: Callable[[random.Random, DataModel, int], dict[str, str]]

    def instantiate(self, parameters: dict[str, str]) -> QueryInstance:
        """Fill every ``{{name}}``; a missing or unused parameter is an error.

        >>> TEMPLATES[0].instantiate({"service": "https://bench.govkg.invalid/id/service/0-0"}).text.splitlines()[-1]
        'SELECT ?p ?o WHERE { <https://bench.govkg.invalid/id/service/0-0> ?p ?o }'

        """
        used = set(_PLACEHOLDER.findall(self.text))
        if used != set(parameters):
            raise KeyError(f"{self.name}: template needs {sorted(used)}, got {sorted(parameters)}")
        body = _PLACEHOLDER.sub(lambda match: parameters[match.group(1)], self.text)
        return QueryInstance(self.name, self.form, PROLOGUE + body, tuple(sorted(parameters.items())))


class DataModel:
    """The generated data as the parameter draws see it: complete cities, rebuilt on demand."""

    def __init__(self, seed: int, complete_cities: int) -> None:
        if complete_cities < 1:
            raise ValueError("the dataset has no complete city; generate a larger one")
        self.seed = seed
        self.complete_cities = complete_cities
        self._cache: dict[int, g.CityBlock] = {}

    def city(self, rng: random.Random) -> g.CityBlock:
        index = rng.randrange(self.complete_cities)
        if index not in self._cache:
            self._cache[index] = g.city_block(self.seed, index)
        return self._cache[index]


def _iri(value: str) -> str:
    return f"<{value}>"


def _number(lexical: str, factor: float) -> str:
    """A numeric literal (a plain SPARQL decimal) near ``lexical`` times ``factor``."""
    return f"{float(lexical) * factor:.2f}"


def _draw_point(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    return {"service": rng.choice(data.city(rng).services).iri}


def _draw_join_numeric(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    city = data.city(rng)
    obs = rng.choice(city.observations)
    return {
        "province": _iri(g.province_iri(city.province)),
        "dataset": _iri(g.dataset_iri(obs.indicator)),
        "threshold": _number(obs.value, 0.9),
    }


def _draw_city(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    return {"city": _iri(data.city(rng).iri)}


def _draw_order_limit(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    for _attempt in range(100):
        city = data.city(rng)
        funded = [reform for reform in city.reforms if reform.budget is not None]
        if funded:
            return {"theme": _iri(g.theme_iri(rng.choice(funded).theme))}
    return {"theme": _iri(g.theme_iri(rng.randrange(len(g.THEMES))))}


def _draw_group_by(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    obs = rng.choice(data.city(rng).observations)
    return {"dataset": _iri(g.dataset_iri(obs.indicator)), "year": f'"{obs.year}"^^xsd:gYear'}


def _draw_lang_filter(rng: random.Random, data: DataModel, index: int) -> dict[str, str]:
    service = rng.choice(data.city(rng).services)
    return {"theme": _iri(g.theme_iri(service.theme)), "lang": '"zh"' if index % 2 == 0 else '"en"'}


_SERVICE_WORDS = sorted(
    {word.lower() for _zh, en in g.SERVICES for word in re.findall(r"[A-Za-z][A-Za-z-]{5,}", en)}
)


def _draw_text_contains(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    for _attempt in range(100):
        city = data.city(rng)
        labels = [service.label_en for service in city.services if service.label_en]
        if labels:
            words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]{5,}", rng.choice(labels))]
            words = [word for word in words if word in _SERVICE_WORDS]
            if words:
                return {"province": _iri(g.province_iri(city.province)), "word": f'"{rng.choice(words)}"'}
    return {"province": _iri(g.province_iri(0)), "word": '"registration"'}


def _draw_text_regex(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    city = data.city(rng)
    label_zh = rng.choice(city.reforms).label_zh
    reform_zh = next(zh for zh, _en in g.REFORMS if zh in label_zh)
    other_zh = rng.choice(g.REFORMS)[0]
    return {"province": _iri(g.province_iri(city.province)), "pattern": f'"({reform_zh}|{other_zh})改革"'}


def _draw_describe(rng: random.Random, data: DataModel, _index: int) -> dict[str, str]:
    return {"reform": _iri(rng.choice(data.city(rng).reforms).iri)}


def _draw_ask(rng: random.Random, data: DataModel, index: int) -> dict[str, str]:
    city = data.city(rng)
    obs = rng.choice(city.observations)
    highest = max(float(o.value) for o in city.observations if o.indicator == obs.indicator)
    # Half the instances ask for a value above the city's highest: false, decided only after a scan.
    threshold = highest * (1.1 if index % 2 else 0.5)
    return {
        "city": _iri(city.iri),
        "dataset": _iri(g.dataset_iri(obs.indicator)),
        "threshold": f"{threshold:.2f}",
    }


TEMPLATES: tuple[Template, ...] = (
    Template(
        "point_lookup",
        "select",
        "every property of one public service (point lookup)",
        "SELECT ?p ?o WHERE { <{{service}}> ?p ?o }\n",
        _draw_point,
    ),
    Template(
        "join_numeric",
        "select",
        "observations of one indicator in one province's cities above a value (join + numeric filter)",
        """SELECT ?city ?year ?value WHERE {
  ?city schema:containedInPlace {{province}} .
  ?obs qb:dataSet {{dataset}} ;
       sdmx-dimension:refArea ?city ;
       sdmx-dimension:refPeriod ?year ;
       sdmx-measure:obsValue ?value .
  FILTER(?value > {{threshold}})
}
""",
        _draw_join_numeric,
    ),
    Template(
        "optional",
        "select",
        "a city's services with their optional English label and processing days (OPTIONAL)",
        """SELECT ?service ?zh ?en ?days WHERE {
  ?service schema:areaServed {{city}} ;
           rdfs:label ?zh .
  FILTER(LANG(?zh) = "zh")
  OPTIONAL { ?service gov:processingDays ?days }
  OPTIONAL { ?service rdfs:label ?en . FILTER(LANG(?en) = "en") }
}
""",
        _draw_city,
    ),
    Template(
        "order_limit",
        "select",
        "the ten best-funded reforms on one theme (ORDER BY + LIMIT)",
        """SELECT ?reform ?label ?budget WHERE {
  ?reform a gov:Reform ;
          dct:subject {{theme}} ;
          gov:budget ?budget ;
          rdfs:label ?label .
  FILTER(LANG(?label) = "en")
}
ORDER BY DESC(?budget) ?reform
LIMIT 10
""",
        _draw_order_limit,
    ),
    Template(
        "group_by",
        "select",
        "count, mean and maximum of one indicator in one year per province (GROUP BY aggregate)",
        """SELECT ?province (COUNT(?obs) AS ?cities) (AVG(?value) AS ?mean) (MAX(?value) AS ?highest) WHERE {
  ?obs qb:dataSet {{dataset}} ;
       sdmx-dimension:refPeriod {{year}} ;
       sdmx-dimension:refArea ?city ;
       sdmx-measure:obsValue ?value .
  ?city schema:containedInPlace ?province .
}
GROUP BY ?province
ORDER BY ?province
""",
        _draw_group_by,
    ),
    Template(
        "lang_filter",
        "select",
        "labels in one language of the services on one theme (language filter)",
        """SELECT ?service ?label WHERE {
  ?service dct:subject {{theme}} ;
           a cpsv:PublicService ;
           rdfs:label ?label .
  FILTER(LANGMATCHES(LANG(?label), {{lang}}))
}
""",
        _draw_lang_filter,
    ),
    Template(
        "text_contains",
        "select",
        "services in one province whose English label contains a word (CONTAINS)",
        """SELECT ?service ?label WHERE {
  ?city schema:containedInPlace {{province}} .
  ?service schema:areaServed ?city ;
           rdfs:label ?label .
  FILTER(LANG(?label) = "en" && CONTAINS(LCASE(STR(?label)), {{word}}))
}
""",
        _draw_text_contains,
    ),
    Template(
        "text_regex",
        "select",
        "reforms in one province whose Chinese label matches a pattern (REGEX)",
        """SELECT ?reform ?label WHERE {
  ?city schema:containedInPlace {{province}} .
  ?reform dct:spatial ?city ;
          a gov:Reform ;
          rdfs:label ?label .
  FILTER(LANG(?label) = "zh" && REGEX(STR(?label), {{pattern}}))
}
""",
        _draw_text_regex,
    ),
    Template(
        "construct",
        "construct",
        "a city's reforms as schema:Project (CONSTRUCT)",
        """CONSTRUCT {
  ?reform a schema:Project ;
          schema:name ?label ;
          schema:funder ?body ;
          schema:startDate ?year .
} WHERE {
  ?reform dct:spatial {{city}} ;
          a gov:Reform ;
          rdfs:label ?label ;
          gov:leadBody ?body ;
          gov:startYear ?year .
}
""",
        _draw_city,
    ),
    Template(
        "describe",
        "describe",
        "one reform (DESCRIBE)",
        "DESCRIBE {{reform}}\n",
        _draw_describe,
    ),
    Template(
        "ask",
        "ask",
        "does a city have a value of an indicator above a threshold (ASK)",
        """ASK {
  ?obs qb:dataSet {{dataset}} ;
       sdmx-dimension:refArea {{city}} ;
       sdmx-measure:obsValue ?value .
  FILTER(?value > {{threshold}})
}
""",
        _draw_ask,
    ),
)

TEMPLATES_BY_NAME = {template.name: template for template in TEMPLATES}

# The query the "repeated" scenario sends again and again: one fixed, moderately costly instance.
REPEATED_QUERY = "group_by"


def build_mix(seed: int, complete_cities: int, sets: int = PARAMETER_SETS) -> dict[str, list[QueryInstance]]:
    """Ten (``sets``) instances of every template, drawn from the data of ``seed``.

    >>> mix = build_mix(42, 20)
    >>> [len(instances) for instances in mix.values()] == [PARAMETER_SETS] * len(TEMPLATES)
    True
    >>> build_mix(42, 20)["ask"] == mix["ask"]
    True
    """
    data = DataModel(seed, complete_cities)
    mix: dict[str, list[QueryInstance]] = {}
    for template in TEMPLATES:
        rng = random.Random(f"govkg-bench:{seed}:query:{template.name}")
        instances: list[QueryInstance] = []
        seen: set[str] = set()
        # Draw until ``sets`` distinct instances, or give up after a bounded number of draws.
        for index in range(sets * 20):
            instance = template.instantiate(template.draw(rng, data, index))
            if instance.text not in seen:
                seen.add(instance.text)
                instances.append(instance)
            if len(instances) == sets:
                break
        mix[template.name] = instances
    return mix


def query_form(text: str) -> str:
    """The form of a SPARQL query: select, ask, construct or describe.

    >>> query_form("PREFIX a: <x:> # c\\nconstruct { ?s ?p ?o } WHERE { ?s ?p ?o }")
    'construct'
    """
    stripped = re.sub(r"#[^\n]*", "", text)
    stripped = re.sub(r"(?is)(PREFIX\s+\S*:\s*<[^>]*>|BASE\s*<[^>]*>)", "", stripped)
    match = re.search(r"(?i)\b(select|ask|construct|describe)\b", stripped)
    return match.group(1).lower() if match else "select"


# The keyword, not a variable (?service), a prefixed name (gov:service) or an IRI's path.
_SERVICE = re.compile(r"(?i)(?<![\w?$:/#.-])SERVICE\s*(<|\?|\$|SILENT\b|[\w-]*:)")


def calls_service(text: str) -> bool:
    """Whether a query federates (``SERVICE``): the benchmark never sends such a query anywhere.

    >>> calls_service("SELECT * { SERVICE <https://example.org/sparql> { ?s ?p ?o } }")
    True
    >>> calls_service("SELECT * { ?s <urn:x:service> ?o } # a SERVICE in a comment")
    False
    >>> calls_service("SELECT ?service ?service_zh { ?service gov:service ?x }")
    False
    """
    return bool(_SERVICE.search(re.sub(r"#[^\n]*", "", text)))


def competency_questions(queries_dir: Path) -> list[QueryInstance]:
    """The project's ``queries/*.rq``, in file-name order (none if the folder has none).

    Federated ones (``SERVICE``) are left out: a peer would send them off this machine.
    """
    if not queries_dir.is_dir():
        return []
    instances = []
    for path in sorted(queries_dir.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if not calls_service(text):
            instances.append(QueryInstance(f"cq:{path.stem}", query_form(text), text))
    return instances
