"""A deterministic generator of an open-government-shaped dataset, written as N-Triples.

The dataset is made of one shared header (provinces, theme and legal-type concept
schemes, service channels, one Data Cube data set per indicator) and then one block
per city: the city, its government bodies, reforms, public services, legislation and
yearly observations of a few indicators. Labels come in Simplified Chinese and English.

Every city block is drawn from its own random generator, seeded by ``(seed, city)``, so
:func:`city_block` rebuilds any city without writing the file: the query mix draws its
parameters that way. Output stops at exactly the requested number of triples (the last
city may be cut short; :class:`Manifest` says how many cities are complete).

Usage::

    python benchmarks/generate.py --size 1M --output /tmp/bench-1M.nt [--gzip] [--seed 42]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

GENERATOR_VERSION = 1
DEFAULT_SEED = 42

BENCH_BASE = "https://bench.govkg.invalid/id/"
GOV = "https://w3id.org/govkg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SCHEMA = "http://schema.org/"
ORG = "http://www.w3.org/ns/org#"
CPSV = "http://purl.org/vocab/cpsv#"
CV = "http://data.europa.eu/m8g/"
ELI = "http://data.europa.eu/eli/ontology#"
QB = "http://purl.org/linked-data/cube#"
SDMX_DIMENSION = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_MEASURE = "http://purl.org/linked-data/sdmx/2009/measure#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"

PREFIXES: dict[str, str] = {
    "bench": BENCH_BASE,
    "gov": GOV,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": RDFS,
    "xsd": XSD,
    "schema": SCHEMA,
    "org": ORG,
    "cpsv": CPSV,
    "cv": CV,
    "eli": ELI,
    "qb": QB,
    "sdmx-dimension": SDMX_DIMENSION,
    "sdmx-measure": SDMX_MEASURE,
    "skos": SKOS,
    "dct": DCT,
}

# Syllables for place names: the character and its pinyin.
NAME_SYLLABLES: tuple[tuple[str, str], ...] = tuple(
    (pair[0], pair[1:])
    for pair in (
        "肇Zhao 庆qing 江jiang 门men 佛fo 山shan 湛zhan 茂mao 名ming 惠hui 州zhou 汕shan 头tou 韶shao "
        "关guan 河he 源yuan 梅mei 清qing 远yuan 云yun 浮fu 阳yang 东dong 莞guan 中zhong 珠zhu 海hai "
        "潮chao 揭jie 宁ning 安an 平ping 兴xing 德de 高gao 新xin 丰feng 华hua 南nan 北bei 西xi 泉quan "
        "龙long 岩yan 莆pu 田tian 三san 明ming 漳zhang 吉ji 林lin 长chang 春chun 武wu 汉han 宜yi 昌chang "
        "襄xiang 荆jing 黄huang 石shi 孝xiao 感gan 鄂e 随sui 恩en 施shi 永yong 嘉jia 湖hu 绍shao 金jin 台tai"
    ).split()
)

PROVINCES: tuple[tuple[str, str], ...] = (
    ("广东省", "Guangdong"),
    ("广西壮族自治区", "Guangxi"),
    ("福建省", "Fujian"),
    ("浙江省", "Zhejiang"),
    ("江苏省", "Jiangsu"),
    ("山东省", "Shandong"),
    ("河北省", "Hebei"),
    ("河南省", "Henan"),
    ("湖北省", "Hubei"),
    ("湖南省", "Hunan"),
    ("江西省", "Jiangxi"),
    ("安徽省", "Anhui"),
    ("四川省", "Sichuan"),
    ("贵州省", "Guizhou"),
    ("云南省", "Yunnan"),
    ("陕西省", "Shaanxi"),
    ("山西省", "Shanxi"),
    ("甘肃省", "Gansu"),
    ("青海省", "Qinghai"),
    ("辽宁省", "Liaoning"),
    ("吉林省", "Jilin"),
    ("黑龙江省", "Heilongjiang"),
    ("海南省", "Hainan"),
    ("内蒙古自治区", "Inner Mongolia"),
    ("宁夏回族自治区", "Ningxia"),
    ("新疆维吾尔自治区", "Xinjiang"),
    ("西藏自治区", "Tibet"),
    ("北京市", "Beijing"),
    ("天津市", "Tianjin"),
    ("上海市", "Shanghai"),
    ("重庆市", "Chongqing"),
)

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("人民政府", "People's Government"),
    ("司法局", "Justice Bureau"),
    ("市场监督管理局", "Market Regulation Administration"),
    ("政务服务数据管理局", "Government Services and Data Administration"),
    ("公安局", "Public Security Bureau"),
    ("财政局", "Finance Bureau"),
    ("自然资源局", "Natural Resources Bureau"),
    ("生态环境局", "Ecology and Environment Bureau"),
    ("住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("交通运输局", "Transport Bureau"),
    ("教育局", "Education Bureau"),
    ("卫生健康局", "Health Commission"),
    ("人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("税务局", "Tax Bureau"),
    ("民政局", "Civil Affairs Bureau"),
    ("商务局", "Commerce Bureau"),
)

SERVICES: tuple[tuple[str, str], ...] = (
    ("企业开办", "Business Start-up Registration"),
    ("不动产登记", "Real Estate Registration"),
    ("社保卡申领", "Social Security Card Application"),
    ("营业执照变更", "Business Licence Amendment"),
    ("户籍迁移", "Household Registration Transfer"),
    ("出生登记", "Birth Registration"),
    ("婚姻登记", "Marriage Registration"),
    ("建设工程规划许可", "Construction Planning Permit"),
    ("食品经营许可", "Food Business Licence"),
    ("公积金提取", "Housing Fund Withdrawal"),
    ("医保报销", "Medical Insurance Reimbursement"),
    ("驾驶证换领", "Driving Licence Renewal"),
    ("税务登记", "Tax Registration"),
    ("发票申领", "Invoice Application"),
    ("养老金领取", "Pension Claim"),
    ("法律援助申请", "Legal Aid Application"),
    ("行政复议申请", "Administrative Reconsideration Application"),
    ("公证办理", "Notarisation"),
    ("环评审批", "Environmental Impact Approval"),
    ("排污许可", "Pollutant Discharge Permit"),
    ("道路运输许可", "Road Transport Permit"),
    ("教师资格认定", "Teacher Qualification Certificate"),
    ("居住证办理", "Residence Permit"),
    ("残疾人证办理", "Disability Certificate"),
    ("失业登记", "Unemployment Registration"),
    ("人才引进", "Talent Introduction"),
    ("消防验收", "Fire Safety Acceptance"),
    ("施工许可", "Construction Permit"),
    ("药品经营许可", "Drug Business Licence"),
    ("12345热线投诉", "12345 Hotline Complaint"),
)

REFORMS: tuple[tuple[str, str], ...] = (
    ("只跑一次", "One-Visit"),
    ("零跑动", "Zero-Trip"),
    ("一网通办", "One-Network Service"),
    ("证照分离", "Separating Permits from Licences"),
    ("放管服", "Streamline-Delegate-Optimise"),
    ("数字政府", "Digital Government"),
    ("告知承诺制", "Notification and Commitment"),
    ("综合行政执法", "Integrated Administrative Enforcement"),
    ("法治政府建设", "Rule-of-Law Government"),
    ("营商环境优化", "Business Environment"),
    ("行政复议体制", "Administrative Reconsideration"),
    ("重大行政决策合法性审查", "Legality Review of Major Decisions"),
    ("基层治理", "Grassroots Governance"),
    ("12345热线整合", "12345 Hotline Integration"),
    ("电子证照", "Electronic Licences"),
    ("容缺受理", "Tolerant Acceptance"),
)

THEMES: tuple[tuple[str, str], ...] = (
    ("政务服务", "government services"),
    ("法治建设", "rule of law"),
    ("营商环境", "business environment"),
    ("社会保障", "social security"),
    ("公共安全", "public safety"),
    ("生态环境", "environment"),
    ("城乡建设", "urban and rural construction"),
    ("交通运输", "transport"),
    ("教育", "education"),
    ("医疗卫生", "health"),
    ("税收", "taxation"),
    ("市场监管", "market regulation"),
    ("数字化", "digitalisation"),
    ("基层治理", "grassroots governance"),
    ("行政执法", "law enforcement"),
    ("行政复议", "administrative reconsideration"),
    ("历史文化保护", "heritage protection"),
    ("人才", "talent"),
    ("住房", "housing"),
    ("就业", "employment"),
    ("民政", "civil affairs"),
    ("财政", "public finance"),
    ("自然资源", "natural resources"),
    ("公共信用", "public credit"),
)

LEGAL_TYPES: tuple[tuple[str, str, str], ...] = (
    ("local-regulation", "地方性法规", "local regulation"),
    ("gov-rule", "地方政府规章", "local government rule"),
    ("normative-doc", "行政规范性文件", "administrative normative document"),
    ("decision", "决定", "decision"),
    ("measure", "办法", "measures"),
)

CHANNELS: tuple[tuple[str, str], ...] = (
    ("粤省事小程序", "Yue Sheng Shi mini program"),
    ("12345热线", "12345 hotline"),
    ("政务服务大厅", "service hall"),
    ("政务服务网", "online service portal"),
    ("自助终端", "self-service kiosk"),
    ("移动客户端", "mobile app"),
    ("邮寄", "post"),
    ("微信公众号", "WeChat official account"),
)


@dataclass(frozen=True)
class Indicator:
    """One indicator: a Data Cube data set whose observations share a unit and value type."""

    slug: str
    label_zh: str
    label_en: str
    decimal: bool
    low: float
    high: float


INDICATORS: tuple[Indicator, ...] = (
    Indicator("service-items", "政务服务事项数", "government service items", False, 200, 3000),
    Indicator("one-visit-items", "只跑一次事项数", "one-visit items", False, 50, 1500),
    Indicator("zero-trip-items", "零跑动事项数", "zero-trip items", False, 50, 2500),
    Indicator("startup-days", "企业开办天数", "business start-up days", True, 0.5, 15),
    Indicator("major-decisions", "重大行政决策数", "major administrative decisions", False, 10, 800),
    Indicator("legality-review-rate", "合法性审查率", "legality review rate", True, 60, 100),
    Indicator(
        "reconsideration-cases", "行政复议案件数", "administrative reconsideration cases", False, 20, 3000
    ),
    Indicator("litigation-loss-rate", "行政诉讼败诉率", "administrative litigation loss rate", True, 0, 25),
    Indicator("hotline-tickets", "12345热线工单数", "12345 hotline tickets", False, 1000, 500000),
    Indicator("satisfaction", "群众满意度", "public satisfaction score", True, 60, 100),
    Indicator("online-rate", "网上可办率", "share of services available online", True, 30, 100),
    Indicator("new-businesses", "新登记市场主体数", "newly registered businesses", False, 500, 90000),
    Indicator("gdp-per-capita", "人均地区生产总值", "GDP per capita (yuan)", True, 20000, 180000),
    Indicator("population", "常住人口", "resident population", False, 200000, 12000000),
    Indicator("enforcement-cases", "行政执法案件数", "administrative enforcement cases", False, 100, 40000),
    Indicator("legal-aid-cases", "法律援助案件数", "legal aid cases", False, 50, 8000),
    Indicator("mediation-rate", "调解成功率", "mediation success rate", True, 50, 100),
    Indicator("e-licences", "电子证照数", "electronic licences issued", False, 1000, 2000000),
    Indicator("approval-days", "工程建设审批天数", "construction approval days", True, 10, 200),
    Indicator("public-credit", "公共信用评分", "public credit score", True, 40, 100),
    Indicator("green-space", "人均公园绿地面积", "park area per resident (m2)", True, 5, 25),
    Indicator("school-places", "义务教育学位数", "compulsory-education school places", False, 10000, 900000),
    Indicator("hospital-beds", "医疗机构床位数", "hospital beds", False, 1000, 90000),
    Indicator(
        "fiscal-revenue", "一般公共预算收入", "general public budget revenue (10k yuan)", True, 1e5, 5e7
    ),
)

DESCRIPTION_WORDS: tuple[str, ...] = (
    "streamlined approval online service window integrated hotline digital platform licence review "
    "legality enforcement mediation reconsideration transparency efficiency citizens enterprises "
    "registration permit certificate one-visit zero-trip paperless grassroots pilot evaluation"
).split()

FIRST_YEAR = 2008
LAST_YEAR = 2024


# ---------------------------------------------------------------------------------------------------
# The model: what one city holds, rebuilt on demand from (seed, city).


@dataclass
class Body:
    iri: str
    label_zh: str
    label_en: str
    parent: str | None
    established: int | None


@dataclass
class Reform:
    iri: str
    label_zh: str
    label_en: str
    theme: int
    lead_body: str
    start_year: int
    budget: str | None  # decimal lexical form
    description: str


@dataclass
class Service:
    iri: str
    identifier: str
    label_zh: str
    label_en: str | None
    authority: str
    theme: int
    channels: tuple[int, ...]
    processing_days: int | None


@dataclass
class Legislation:
    iri: str
    label_zh: str
    label_en: str
    legal_type: int
    passed_by: str
    date: str
    theme: int


@dataclass
class Observation:
    iri: str
    indicator: int
    year: int
    value: str  # lexical form: an integer or a decimal


@dataclass
class CityBlock:
    """One city and everything under it."""

    index: int
    iri: str
    province: int
    code: str
    name_zh: str
    name_en: str
    population: int
    bodies: list[Body] = field(default_factory=list)
    reforms: list[Reform] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    legislation: list[Legislation] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)


def province_iri(index: int) -> str:
    return f"{BENCH_BASE}province/{index}"


def theme_iri(index: int) -> str:
    return f"{BENCH_BASE}concept/theme/{index}"


def legal_type_iri(index: int) -> str:
    return f"{BENCH_BASE}concept/legal-type/{LEGAL_TYPES[index][0]}"


def channel_iri(index: int) -> str:
    return f"{BENCH_BASE}channel/{index}"


def dataset_iri(index: int) -> str:
    """The Data Cube data set of one indicator."""
    return f"{BENCH_BASE}dataset/{INDICATORS[index].slug}"


def city_iri(index: int) -> str:
    return f"{BENCH_BASE}city/{index}"


def city_rng(seed: int, city: int) -> random.Random:
    """The random generator of one city block: a string seed hashes the same in every run."""
    return random.Random(f"govkg-bench:{seed}:city:{city}")


def city_block(seed: int, city: int) -> CityBlock:
    """Rebuild city ``city`` of the dataset generated with ``seed``.

    >>> city_block(42, 3) == city_block(42, 3)
    True
    >>> city_block(42, 3).iri
    'https://bench.govkg.invalid/id/city/3'
    """
    rng = city_rng(seed, city)
    syllables = rng.sample(NAME_SYLLABLES, 2)
    name_zh = syllables[0][0] + syllables[1][0]
    name_en = syllables[0][1] + syllables[1][1]
    province = rng.randrange(len(PROVINCES))
    block = CityBlock(
        index=city,
        iri=city_iri(city),
        province=province,
        code=f"{province + 11:02d}{city:04d}",
        name_zh=name_zh,
        name_en=name_en,
        population=rng.randrange(200_000, 12_000_000),
    )
    n_bodies = rng.randint(4, 10)
    departments = [0, *rng.sample(range(1, len(DEPARTMENTS)), n_bodies - 1)]
    government = f"{BENCH_BASE}body/{city}-0"
    for number, department in enumerate(departments):
        dept_zh, dept_en = DEPARTMENTS[department]
        block.bodies.append(
            Body(
                iri=f"{BENCH_BASE}body/{city}-{number}",
                label_zh=f"{name_zh}市{dept_zh}",
                label_en=f"{name_en} {dept_en}",
                parent=None if number == 0 else government,
                established=rng.randint(1949, 2020) if rng.random() < 0.6 else None,
            )
        )
    for number in range(rng.randint(2, 8)):
        reform_zh, reform_en = REFORMS[rng.randrange(len(REFORMS))]
        start = rng.randint(FIRST_YEAR, LAST_YEAR)
        words = " ".join(rng.choice(DESCRIPTION_WORDS) for _ in range(rng.randint(6, 14)))
        block.reforms.append(
            Reform(
                iri=f"{BENCH_BASE}reform/{city}-{number}",
                label_zh=f"{name_zh}市{reform_zh}改革（{start}）",
                label_en=f"{reform_en} reform in {name_en} ({start})",
                theme=rng.randrange(len(THEMES)),
                lead_body=rng.choice(block.bodies).iri,
                start_year=start,
                budget=f"{rng.uniform(10, 50_000):.2f}" if rng.random() < 0.75 else None,
                description=f"{name_en}: {words}.",
            )
        )
    for number in range(rng.randint(5, 15)):
        service_zh, service_en = SERVICES[rng.randrange(len(SERVICES))]
        block.services.append(
            Service(
                iri=f"{BENCH_BASE}service/{city}-{number}",
                identifier=f"svc-{city}-{number}",
                label_zh=f"{name_zh}市{service_zh}",
                label_en=f"{service_en} ({name_en})" if rng.random() < 0.85 else None,
                authority=rng.choice(block.bodies).iri,
                theme=rng.randrange(len(THEMES)),
                channels=tuple(sorted(rng.sample(range(len(CHANNELS)), rng.randint(1, 3)))),
                processing_days=rng.randint(0, 30) if rng.random() < 0.8 else None,
            )
        )
    for number in range(rng.randint(1, 5)):
        legal_type = rng.randrange(len(LEGAL_TYPES))
        year = rng.randint(FIRST_YEAR, LAST_YEAR)
        theme = rng.randrange(len(THEMES))
        type_zh, type_en = LEGAL_TYPES[legal_type][1:]
        theme_zh, theme_en = THEMES[theme]
        block.legislation.append(
            Legislation(
                iri=f"{BENCH_BASE}eli/cn-{block.code}/{LEGAL_TYPES[legal_type][0]}/{year}/{number + 1}",
                label_zh=f"{name_zh}市{theme_zh}{type_zh}（{year}年第{number + 1}号）",
                label_en=f"{name_en} {type_en} on {theme_en} ({year}, no. {number + 1})",
                legal_type=legal_type,
                passed_by=rng.choice(block.bodies[:2]).iri,
                date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                theme=theme,
            )
        )
    first_year = rng.randint(FIRST_YEAR, 2015)
    years = range(first_year, min(LAST_YEAR, first_year + rng.randint(5, 9)) + 1)
    for indicator in sorted(rng.sample(range(len(INDICATORS)), rng.randint(3, 6))):
        spec = INDICATORS[indicator]
        level = rng.uniform(spec.low, spec.high)
        for year in years:
            value = min(spec.high, max(spec.low, level * rng.uniform(0.85, 1.2)))
            block.observations.append(
                Observation(
                    iri=f"{BENCH_BASE}obs/{city}/{spec.slug}/{year}",
                    indicator=indicator,
                    year=year,
                    value=f"{value:.2f}" if spec.decimal else str(round(value)),
                )
            )
    return block


# ---------------------------------------------------------------------------------------------------
# N-Triples output.


def _escape(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return text


def iri(value: str) -> str:
    return f"<{value}>"


def lang(text: str, tag: str) -> str:
    return f'"{_escape(text)}"@{tag}'


def typed(lexical: str, datatype: str) -> str:
    return f'"{_escape(lexical)}"^^<{XSD}{datatype}>'


def plain(text: str) -> str:
    return f'"{_escape(text)}"'


Triple = tuple[str, str, str]


def header_triples() -> Iterator[Triple]:
    """The shared part: provinces, concept schemes, channels, indicators' data sets."""
    label, pref_label, a = iri(RDFS + "label"), iri(SKOS + "prefLabel"), iri(RDF_TYPE)
    theme_scheme = iri(f"{BENCH_BASE}scheme/theme")
    yield theme_scheme, a, iri(SKOS + "ConceptScheme")
    yield theme_scheme, label, lang("主题", "zh")
    yield theme_scheme, label, lang("Themes", "en")
    for number, (zh, en) in enumerate(THEMES):
        subject = iri(theme_iri(number))
        yield subject, a, iri(SKOS + "Concept")
        yield subject, iri(SKOS + "inScheme"), theme_scheme
        yield subject, pref_label, lang(zh, "zh")
        yield subject, pref_label, lang(en, "en")
    legal_scheme = iri(f"{BENCH_BASE}scheme/legal-type")
    yield legal_scheme, a, iri(SKOS + "ConceptScheme")
    for number, (_slug, zh, en) in enumerate(LEGAL_TYPES):
        subject = iri(legal_type_iri(number))
        yield subject, a, iri(SKOS + "Concept")
        yield subject, iri(SKOS + "inScheme"), legal_scheme
        yield subject, pref_label, lang(zh, "zh")
        yield subject, pref_label, lang(en, "en")
    for number, (zh, en) in enumerate(PROVINCES):
        subject = iri(province_iri(number))
        yield subject, a, iri(SCHEMA + "AdministrativeArea")
        yield subject, a, iri(GOV + "Province")
        yield subject, label, lang(zh, "zh")
        yield subject, label, lang(en, "en")
        yield subject, iri(SKOS + "notation"), plain(f"{number + 11:02d}0000")
    for number, (zh, en) in enumerate(CHANNELS):
        subject = iri(channel_iri(number))
        yield subject, a, iri(CV + "Channel")
        yield subject, label, lang(zh, "zh")
        yield subject, label, lang(en, "en")
    dsd = iri(f"{BENCH_BASE}dsd/indicator")
    yield dsd, a, iri(QB + "DataStructureDefinition")
    for component, kind in (
        (SDMX_DIMENSION + "refArea", "dimension"),
        (SDMX_DIMENSION + "refPeriod", "dimension"),
        (SDMX_MEASURE + "obsValue", "measure"),
    ):
        node = iri(f"{BENCH_BASE}dsd/indicator/{component.rsplit('#', 1)[1]}")
        yield dsd, iri(QB + "component"), node
        yield node, iri(QB + kind), iri(component)
    for number, spec in enumerate(INDICATORS):
        subject = iri(dataset_iri(number))
        yield subject, a, iri(QB + "DataSet")
        yield subject, iri(QB + "structure"), dsd
        yield subject, label, lang(spec.label_zh, "zh")
        yield subject, label, lang(spec.label_en, "en")
        yield subject, iri(GOV + "valueType"), iri(XSD + ("decimal" if spec.decimal else "integer"))


def city_triples(block: CityBlock) -> Iterator[Triple]:
    """The triples of one city block, in a fixed order."""
    a, label = iri(RDF_TYPE), iri(RDFS + "label")
    city = iri(block.iri)
    yield city, a, iri(SCHEMA + "AdministrativeArea")
    yield city, a, iri(GOV + "City")
    yield city, label, lang(block.name_zh + "市", "zh")
    yield city, label, lang(block.name_en + " City", "en")
    yield city, iri(SKOS + "notation"), plain(block.code)
    yield city, iri(SCHEMA + "containedInPlace"), iri(province_iri(block.province))
    yield city, iri(GOV + "population"), typed(str(block.population), "integer")
    for body in block.bodies:
        subject = iri(body.iri)
        yield subject, a, iri(ORG + "Organization")
        yield subject, a, iri(CV + "PublicOrganisation")
        yield subject, label, lang(body.label_zh, "zh")
        yield subject, label, lang(body.label_en, "en")
        yield subject, iri(DCT + "spatial"), city
        if body.parent:
            yield subject, iri(ORG + "subOrganizationOf"), iri(body.parent)
        if body.established is not None:
            yield subject, iri(GOV + "established"), typed(str(body.established), "gYear")
    for reform in block.reforms:
        subject = iri(reform.iri)
        yield subject, a, iri(GOV + "Reform")
        yield subject, label, lang(reform.label_zh, "zh")
        yield subject, label, lang(reform.label_en, "en")
        yield subject, iri(DCT + "subject"), iri(theme_iri(reform.theme))
        yield subject, iri(GOV + "leadBody"), iri(reform.lead_body)
        yield subject, iri(DCT + "spatial"), city
        yield subject, iri(GOV + "startYear"), typed(str(reform.start_year), "gYear")
        if reform.budget is not None:
            yield subject, iri(GOV + "budget"), typed(reform.budget, "decimal")
        yield subject, iri(SCHEMA + "description"), lang(reform.description, "en")
    for service in block.services:
        subject = iri(service.iri)
        yield subject, a, iri(CPSV + "PublicService")
        yield subject, a, iri(SCHEMA + "GovernmentService")
        yield subject, iri(DCT + "identifier"), plain(service.identifier)
        yield subject, label, lang(service.label_zh, "zh")
        if service.label_en is not None:
            yield subject, label, lang(service.label_en, "en")
        yield subject, iri(CV + "hasCompetentAuthority"), iri(service.authority)
        yield subject, iri(SCHEMA + "areaServed"), city
        yield subject, iri(DCT + "subject"), iri(theme_iri(service.theme))
        for channel in service.channels:
            yield subject, iri(CV + "hasChannel"), iri(channel_iri(channel))
        if service.processing_days is not None:
            yield subject, iri(GOV + "processingDays"), typed(str(service.processing_days), "integer")
    for act in block.legislation:
        subject = iri(act.iri)
        yield subject, a, iri(ELI + "LegalResource")
        yield subject, a, iri(SCHEMA + "Legislation")
        yield subject, label, lang(act.label_zh, "zh")
        yield subject, label, lang(act.label_en, "en")
        yield subject, iri(ELI + "type_document"), iri(legal_type_iri(act.legal_type))
        yield subject, iri(ELI + "passed_by"), iri(act.passed_by)
        yield subject, iri(ELI + "date_document"), typed(act.date, "date")
        yield subject, iri(ELI + "jurisdiction"), city
        yield subject, iri(ELI + "is_about"), iri(theme_iri(act.theme))
    for obs in block.observations:
        subject = iri(obs.iri)
        yield subject, a, iri(QB + "Observation")
        yield subject, iri(QB + "dataSet"), iri(dataset_iri(obs.indicator))
        yield subject, iri(SDMX_DIMENSION + "refArea"), city
        yield subject, iri(SDMX_DIMENSION + "refPeriod"), typed(str(obs.year), "gYear")
        datatype = "decimal" if INDICATORS[obs.indicator].decimal else "integer"
        yield subject, iri(SDMX_MEASURE + "obsValue"), typed(obs.value, datatype)


@dataclass
class Manifest:
    """What was generated: read back by the query mix and by ``run.py`` to reuse a file."""

    generator_version: int
    seed: int
    triples: int
    complete_cities: int
    sha256: str

    @staticmethod
    def path_for(data_path: Path) -> Path:
        return data_path.with_name(data_path.name + ".manifest.json")

    def write(self, data_path: Path) -> None:
        self.path_for(data_path).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, data_path: Path) -> Manifest | None:
        path = cls.path_for(data_path)
        if not path.is_file() or not data_path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def write_ntriples(out: IO[bytes], triples: int, seed: int = DEFAULT_SEED) -> Manifest:
    """Write exactly ``triples`` triples to the binary stream ``out``; memory stays bounded.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_ntriples(buffer, 500).triples, buffer.getvalue().count(b"\\n")
    (500, 500)
    """
    digest = hashlib.sha256()
    written = 0
    complete_cities = 0

    def emit(batch: list[Triple]) -> bool:
        nonlocal written
        room = triples - written
        if len(batch) > room:
            batch = batch[:room]
        if batch:
            data = "".join(f"{s} {p} {o} .\n" for s, p, o in batch).encode("utf-8")
            out.write(data)
            digest.update(data)
            written += len(batch)
        return written < triples

    if emit(list(header_triples())):
        # A city block has a few hundred triples; a bound on the city count keeps the loop finite.
        for city in range(triples):
            batch = list(city_triples(city_block(seed, city)))
            fits = written + len(batch) <= triples
            more = emit(batch)
            if fits:
                complete_cities += 1
            if not more:
                break
    return Manifest(GENERATOR_VERSION, seed, written, complete_cities, digest.hexdigest())


def parse_size(text: str) -> int:
    """A triple count such as ``10k``, ``1M``, ``2.5M`` or ``2000``.

    >>> parse_size("10k"), parse_size("1M"), parse_size("2000")
    (10000, 1000000, 2000)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*", text)
    if not match:
        raise ValueError(f"not a size: {text!r} (try 10k, 100k, 1M, 10M)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def generate_file(path: Path, triples: int, seed: int = DEFAULT_SEED) -> Manifest:
    """Write the dataset to ``path`` (gzip-compressed when it ends in ``.gz``) and its manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if path.name.endswith(".gz"):
        # mtime=0 keeps the compressed bytes the same from run to run.
        with open(partial, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as out:
            manifest = write_ntriples(out, triples, seed)
    else:
        with open(partial, "wb", buffering=1 << 20) as out:
            manifest = write_ntriples(out, triples, seed)
    partial.replace(path)
    manifest.write(path)
    return manifest


def ensure_dataset(path: Path, triples: int, seed: int = DEFAULT_SEED) -> Manifest:
    """Reuse ``path`` when its manifest matches (version, seed, size); generate it otherwise."""
    manifest = Manifest.read(path)
    if (
        manifest is not None
        and manifest.generator_version == GENERATOR_VERSION
        and manifest.seed == seed
        and manifest.triples == triples
    ):
        return manifest
    return generate_file(path, triples, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k", help="number of triples: 10k, 100k, 1M, 10M, ...")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="file to write (default: stdout); .gz compresses")
    parser.add_argument("--gzip", action="store_true", help="compress (adds .gz to --output if missing)")
    args = parser.parse_args(argv)
    triples = parse_size(args.size)
    if args.output is None:
        out = sys.stdout.buffer
        if args.gzip:
            with gzip.GzipFile("", "wb", fileobj=out, mtime=0) as zipped:
                manifest = write_ntriples(zipped, triples, args.seed)
        else:
            manifest = write_ntriples(out, triples, args.seed)
        print(json.dumps(asdict(manifest)), file=sys.stderr)
        return 0
    output = args.output
    if args.gzip and not output.name.endswith(".gz"):
        output = output.with_name(output.name + ".gz")
    manifest = generate_file(output, triples, args.seed)
    print(json.dumps(asdict(manifest)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
