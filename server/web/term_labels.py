"""Labels in English and Chinese for the standard-vocabulary terms the data uses.

The ``gov:`` ontology labels its own terms in the graph; the standard vocabularies
(RDF Data Cube, SDMX, PROV-O, Web Annotation, schema.org, DCAT, ...) are not loaded,
so their terms would show as prefixed names (``sdmx-dimension:refArea``). This table
gives each term the data uses a reader's name in both page languages. A label found
in the graph wins over this table. ``tests/test_i18n.py`` checks that every
predicate and class of the article's graphs has a label in both languages.

>>> term_label("http://purl.org/linked-data/sdmx/2009/dimension#refArea", "zh")
'参考地区'
>>> term_label("http://example.org/unknown", "en") is None
True
"""

from __future__ import annotations

from functools import cache

from govkg.rdf.serialize import PREFIXES

#: Namespaces the table uses that the project's prefix list does not declare.
_EXTRA_PREFIXES = {
    "dctype": "http://purl.org/dc/dcmitype/",
    "spdx": "http://spdx.org/rdf/terms#",
    "vann": "http://purl.org/vocab/vann/",
}

# term | English | 中文 — one term a line.
_TABLE = """
rdf:type | type | 类型
rdf:first | first item | 首项
rdf:rest | rest of list | 其余项
rdfs:label | label | 名称
rdfs:comment | comment | 说明
rdfs:domain | domain | 定义域
rdfs:range | range | 值域
rdfs:isDefinedBy | defined by | 定义于
rdfs:seeAlso | see also | 另见
rdfs:subClassOf | subclass of | 上位类
rdfs:subPropertyOf | subproperty of | 上位属性
rdfs:Datatype | datatype | 数据类型
rdfs:Resource | resource | 资源
owl:Class | class | 类
owl:DatatypeProperty | datatype property | 数据属性
owl:ObjectProperty | object property | 对象属性
owl:Ontology | ontology | 本体
owl:onDatatype | on datatype | 基于数据类型
owl:sameAs | same as | 等同于
owl:versionInfo | version | 版本
owl:withRestrictions | with restrictions | 约束条件
xsd:pattern | pattern | 模式
skos:Concept | concept | 概念
skos:ConceptScheme | concept scheme | 概念体系
skos:altLabel | alternative label | 别名
skos:closeMatch | close match | 近似匹配
skos:definition | definition | 定义
skos:hasTopConcept | top concept | 顶层概念
skos:inScheme | in scheme | 所属概念体系
skos:notation | notation | 代码
skos:prefLabel | preferred label | 首选名称
skos:scopeNote | scope note | 范围注释
skos:topConceptOf | top concept of | 顶层概念所属
dcterms:accessRights | access rights | 访问权限
dcterms:conformsTo | conforms to | 符合标准
dcterms:creator | creator | 创建者
dcterms:description | description | 描述
dcterms:format | format | 格式
dcterms:hasFormat | has format | 其他格式
dcterms:hasPart | has part | 包含
dcterms:identifier | identifier | 标识符
dcterms:isFormatOf | format of | 格式来源
dcterms:isPartOf | part of | 隶属于
dcterms:issued | issued | 发布日期
dcterms:language | language | 语言
dcterms:license | licence | 许可协议
dcterms:modified | modified | 修改时间
dcterms:provenance | provenance | 来源说明
dcterms:publisher | publisher | 发布者
dcterms:relation | related to | 相关
dcterms:source | source | 来源
dcterms:spatial | place | 空间范围
dcterms:temporal | period | 时间范围
dcterms:title | title | 标题
dcterms:type | type | 类型
dcterms:LicenseDocument | licence | 许可协议
dcterms:LinguisticSystem | language | 语言
dcterms:Location | location | 地点
dcterms:MediaType | media type | 媒体类型
dcterms:MediaTypeOrExtent | media type or extent | 媒体类型或范围
dcterms:ProvenanceStatement | provenance statement | 来源说明
dcterms:RightsStatement | rights statement | 权利声明
dcterms:Standard | standard | 标准
dctype:Text | text | 文本
foaf:Agent | agent | 行为主体
foaf:Document | document | 文档
foaf:homepage | home page | 主页
foaf:name | name | 名称
foaf:primaryTopic | primary topic | 主题
schema:AdministrativeArea | administrative area | 行政区
schema:Country | country | 国家
schema:NewsArticle | news article | 新闻报道
schema:NewsMediaOrganization | news organisation | 新闻媒体
schema:Person | person | 人物
schema:Quotation | quotation | 引语
schema:SoftwareApplication | software application | 应用软件
schema:about | about | 关于
schema:author | author | 作者
schema:containedInPlace | within | 所属地区
schema:contributor | contributor | 参与者
schema:inLanguage | language | 语言
schema:jobTitle | job title | 职务
schema:name | name | 名称
schema:publisher | publisher | 发布者
schema:text | text | 文本
schema:worksFor | works for | 任职于
org:Organization | organisation | 组织
cpsv:PublicService | public service | 公共服务
cpsv:Rule | rule | 规则
cpsv:follows | follows rule | 依据规则
cv:BusinessEvent | business event | 企业事项
cv:PublicOrganisation | public organisation | 公共机构
cv:hasChannel | channel | 办理渠道
cv:hasCompetentAuthority | competent authority | 主管机关
cv:isGroupedBy | grouped by | 归属事项
eli:LegalExpression | legal expression | 法规文本
eli:LegalResource | legal resource | 法规
eli:ResourceType | legal resource type | 法规类型
eli:is_about | about | 关于
eli:is_realized_by | realised by | 文本版本
eli:language | language | 语言
eli:realizes | realises | 对应法规
eli:title | title | 标题
eli:type_document | document type | 文件类型
prov:Agent | agent | 行为主体
prov:Entity | entity | 实体
prov:wasAssociatedWith | associated with | 关联主体
prov:wasAttributedTo | attributed to | 归属于
prov:wasDerivedFrom | derived from | 出处
oa:Annotation | annotation | 标注
oa:SpecificResource | specific resource | 特定资源
oa:TextPositionSelector | text position selector | 文本位置选择器
oa:TextQuoteSelector | text quote selector | 文本引文选择器
oa:end | end | 结束位置
oa:exact | exact quote | 原文引文
oa:hasBody | body | 标注内容
oa:hasSelector | selector | 选择器
oa:hasSource | source | 来源
oa:hasTarget | target | 标注对象
oa:motivatedBy | motivation | 标注目的
oa:prefix | text before | 前文
oa:start | start | 起始位置
qb:AttributeProperty | attribute property | 属性组件
qb:DataSet | statistical dataset | 统计数据集
qb:DataStructureDefinition | data structure definition | 数据结构定义
qb:DimensionProperty | dimension property | 维度
qb:MeasureProperty | measure property | 度量
qb:Observation | observation | 观测值
qb:attribute | attribute | 属性组件
qb:component | component | 组件
qb:dataSet | dataset | 所属数据集
qb:dimension | dimension | 维度
qb:measure | measure | 度量
qb:structure | structure | 数据结构
sdmx-attribute:unitMeasure | unit | 计量单位
sdmx-dimension:refArea | reference area | 参考地区
sdmx-dimension:refPeriod | reference period | 参考时期
time:DurationDescription | duration | 时长
time:Instant | instant | 时间点
time:Interval | interval | 时间段
time:hasBeginning | beginning | 开始
time:hasDurationDescription | duration | 时长
time:inXSDgYear | year | 年份
time:years | years | 年数
dcat:Catalog | catalogue | 数据目录
dcat:CatalogRecord | catalogue record | 目录记录
dcat:DataService | data service | 数据服务
dcat:Dataset | dataset | 数据集
dcat:Distribution | distribution | 分发
dcat:Resource | catalogued resource | 目录资源
dcat:accessURL | access URL | 访问地址
dcat:compressFormat | compression format | 压缩格式
dcat:contactPoint | contact point | 联系方式
dcat:dataset | dataset | 数据集
dcat:distribution | distribution | 分发
dcat:downloadURL | download URL | 下载地址
dcat:endpointDescription | endpoint description | 端点描述
dcat:endpointURL | endpoint URL | 端点地址
dcat:keyword | keyword | 关键词
dcat:landingPage | landing page | 落地页
dcat:mediaType | media type | 媒体类型
dcat:record | record | 记录
dcat:servesDataset | serves dataset | 提供数据集
dcat:service | service | 服务
dcat:theme | theme | 主题
dcat:themeTaxonomy | theme taxonomy | 主题分类
dcat:version | version | 版本
void:Dataset | dataset | 数据集
void:DatasetDescription | dataset description | 数据集描述
void:Linkset | linkset | 链接集
void:dataDump | data dump | 数据下载
void:exampleResource | example resource | 示例资源
void:feature | feature | 特性
void:linkPredicate | link predicate | 链接属性
void:objectsTarget | objects target | 宾语数据集
void:rootResource | root resource | 根资源
void:sparqlEndpoint | SPARQL endpoint | SPARQL 端点
void:subjectsTarget | subjects target | 主语数据集
void:subset | subset | 子集
void:triples | triples | 三元组数
void:uriSpace | URI space | URI 空间
vcard:Kind | contact | 联系人
vcard:Organization | organisation | 组织
vcard:fn | name | 名称
vcard:hasURL | URL | 网址
spdx:ChecksumAlgorithm | checksum algorithm | 校验算法
vann:preferredNamespacePrefix | preferred prefix | 推荐前缀
vann:preferredNamespaceUri | namespace | 命名空间
"""


@cache
def _labels() -> dict[str, tuple[str, str]]:
    namespaces = {**PREFIXES, **_EXTRA_PREFIXES}
    table: dict[str, tuple[str, str]] = {}
    for line in _TABLE.strip().splitlines():
        name, english, chinese = (part.strip() for part in line.split("|"))
        prefix, local = name.split(":", 1)
        table[namespaces[prefix] + local] = (english, chinese)
    return table


def term_label(iri: str, language: str) -> str | None:
    """The table's label of ``iri`` in ``language`` (``en`` or ``zh``), or ``None``."""
    labels = _labels().get(iri)
    if labels is None:
        return None
    return labels[1] if language == "zh" else labels[0]


def known_terms() -> frozenset[str]:
    """Every IRI the table labels."""
    return frozenset(_labels())
