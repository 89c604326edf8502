"""Every setting of govkg, declared once: name, type, default and help text.

The CLI's options, the ``GOVKG_*`` environment variables, the application factory
and the README's settings table are all generated from :data:`SETTINGS`, and a
test checks that the README lists every one of them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "GOVKG_"


def _parse_list(value: str | Iterable[str]) -> tuple[str, ...]:
    """Split a comma- or whitespace-separated list.

    >>> _parse_list("https://a.example/sparql, https://b.example/sparql")
    ('https://a.example/sparql', 'https://b.example/sparql')
    >>> _parse_list("")
    ()
    """
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return tuple(item for item in value if item)


def split_data_entry(entry: str) -> tuple[str | None, str]:
    """Split a ``data`` entry, ``FILE`` or ``GRAPH_IRI=FILE``, into the graph IRI (or None) and the file.

    The split is at the last ``=``, and only when what precedes it is an absolute IRI,
    so file names may contain ``=`` and graph IRIs may have query strings.

    >>> split_data_entry("https://example.org/graph/census=extra/census.ttl")
    ('https://example.org/graph/census', 'extra/census.ttl')
    >>> split_data_entry("extra/a=b.nt.gz")
    (None, 'extra/a=b.nt.gz')
    """
    graph_iri, separator, path = entry.rpartition("=")
    if separator and re.match(r"[A-Za-z][A-Za-z0-9+.-]*:\S", graph_iri):
        return graph_iri, path
    return None, entry


def _parse_data_files(value: str | Iterable[str]) -> tuple[str, ...]:
    """A list of ``FILE`` or ``GRAPH_IRI=FILE`` entries, space or comma separated.

    >>> _parse_data_files("extra/census.ttl, urn:x:g=extra/links.nt")
    ('extra/census.ttl', 'urn:x:g=extra/links.nt')
    """
    entries = _parse_list(value)
    for entry in entries:
        if not split_data_entry(entry)[1]:
            raise ValueError(f"no file in data entry {entry!r}")
    return entries


def _parse_base_iri(value: str) -> str:
    """Base IRIs always end with a slash, so ``base + "id/..."`` is well formed.

    >>> _parse_base_iri("http://127.0.0.1:5000")
    'http://127.0.0.1:5000/'
    >>> _parse_base_iri("http://x y/")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: base IRI must be an http(s) IRI with a host and no space, ... got 'http://x y/'
    """
    value = value.strip()
    if (
        not value.startswith(("http://", "https://"))
        or not urlsplit(value).netloc
        or any(char in _NOT_IN_IRIS or ord(char) < 0x21 for char in value)
    ):
        raise ValueError(
            "base IRI must be an http(s) IRI with a host and no space, quote or <>{}|\\^` in it, "
            f"got {value!r}"
        )
    return value if value.endswith("/") else value + "/"


#: Characters RFC 3987 keeps out of an IRI (with the controls and the space, checked apart).
_NOT_IN_IRIS = frozenset('<>"{}|\\^`')


def _number(value: str | float, kind: type[int] | type[float]) -> Any:  # noqa: ANN401
    """``value`` as an int or a float, or a ValueError that says what was expected.

    >>> _number("8", int), _number("2.5", float)
    (8, 2.5)
    >>> _number("abc", int)
    Traceback (most recent call last):
    ValueError: expected a whole number, got 'abc'
    """
    try:
        return kind(value)
    except (TypeError, ValueError):
        expected = "a whole number" if kind is int else "a number"
        raise ValueError(f"expected {expected}, got {value!r}") from None


def _parse_positive_float(value: str | float) -> float:
    number = _number(value, float)
    if number <= 0:
        raise ValueError(f"must be greater than 0, got {value!r}")
    return number


def _parse_positive_int(value: str | int) -> int:
    number = _number(value, int)
    if number <= 0:
        raise ValueError(f"must be greater than 0, got {value!r}")
    return number


def _parse_non_negative_int(value: str | int) -> int:
    number = _number(value, int)
    if number < 0:
        raise ValueError(f"must be 0 or more, got {value!r}")
    return number


def _parse_port(value: str | int) -> int:
    number = _number(value, int)
    if not 0 <= number <= 65535:
        raise ValueError(f"port must be in 0..65535, got {value!r}")
    return number


def _parse_workers(value: str | int) -> str | int:
    """``auto`` (chosen from the store at start-up) or a positive number of web workers.

    >>> _parse_workers("AUTO"), _parse_workers("2")
    ('auto', 2)
    """
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _parse_positive_int(value)


REMOTE_STORE_PREFIX = "sparql:"


def _parse_proxies(value: str | Iterable[str]) -> tuple[str, ...]:
    """IP addresses or networks (CIDR) of reverse proxies, space or comma separated.

    >>> _parse_proxies("127.0.0.1, 10.0.0.0/8 ::1")
    ('127.0.0.1', '10.0.0.0/8', '::1')
    >>> _parse_proxies("proxy.example")
    Traceback (most recent call last):
    ValueError: not an IP address or network: 'proxy.example'
    """
    proxies = _parse_list(value)
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or network: {proxy!r}") from None
    return proxies


def _parse_store(value: str) -> str:
    """A store: empty (in memory), a folder, or ``sparql:`` and an http(s) query URL.

    >>> _parse_store("sparql:http://127.0.0.1:7878/query"), _parse_store(" var/store ")
    ('sparql:http://127.0.0.1:7878/query', 'var/store')
    """
    value = str(value).strip()
    if value.startswith(REMOTE_STORE_PREFIX):
        _parse_optional_url(value[len(REMOTE_STORE_PREFIX) :])
    return value


def _parse_optional_url(value: str) -> str:
    """An http(s) URL, or empty.

    >>> _parse_optional_url("")
    ''
    """
    value = str(value).strip()
    if value and not re.match(r"https?://[^\s/]+", value):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: its name (``snake_case``), how to parse it, its default and its help."""

    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        """The environment variable that sets it, e.g. ``GOVKG_QUERY_TIMEOUT``."""
        return ENV_PREFIX + self.name.upper()

    @property
    def cli_flag(self) -> str:
        """The command-line flag that sets it, e.g. ``--query-timeout``."""
        return "--" + self.name.replace("_", "-")


DEFAULT_BASE_IRI = "https://w3id.org/govkg/"

SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Interface the server listens on."),
    Setting("port", _parse_port, 5000, "TCP port the server listens on."),
    Setting(
        "base_iri",
        _parse_base_iri,
        DEFAULT_BASE_IRI,
        "Base IRI of every resource; the data's https://w3id.org/govkg/ IRIs are rewritten to it.",
    ),
    Setting(
        "query_timeout",
        _parse_positive_float,
        10.0,
        "Seconds a SPARQL query may run before it is stopped and answered with 503.",
    ),
    Setting(
        "max_result_rows",
        _parse_positive_int,
        10000,
        "Most rows (or triples) one query returns; a cut is signalled by the X-Govkg-Truncated header.",
    ),
    Setting(
        "max_query_bytes",
        _parse_positive_int,
        65536,
        "Largest query text, in bytes, that is accepted; a longer one is answered with 413.",
    ),
    Setting(
        "query_memory_limit",
        _parse_positive_int,
        1024 * 1024 * 1024,
        "Bytes of memory one query may add to its query process (RLIMIT_AS over the process's idle "
        "size); past it the OS ends that process alone and the query is answered 503.",
    ),
    Setting(
        "client_timeout",
        _parse_positive_float,
        30.0,
        "Seconds a client may stall, sending its request or reading the answer, before its connection "
        "is dropped (nginx's send_timeout in serve-public; socket time-outs in govkg serve).",
    ),
    Setting(
        "request_timeout",
        _parse_positive_float,
        10.0,
        "`govkg serve-public`, `proxy-config`: seconds nginx waits for a request's line and headers, "
        "and between two reads of its body; then the connection is closed, before any instance saw it.",
    ),
    Setting(
        "result_cache_bytes",
        _parse_non_negative_int,
        16 * 1024 * 1024,
        "Bytes of recent query answers each web worker keeps, keyed by dataset version; 0: no cache.",
    ),
    Setting(
        "service_allowlist",
        _parse_list,
        (),
        "SPARQL endpoints a query may call with SERVICE (space or comma separated); empty: none.",
    ),
    Setting(
        "trusted_proxies",
        _parse_proxies,
        (),
        "IP addresses or networks of the reverse proxies in front of the server (space or comma "
        "separated): only a connection from one of them may set SCRIPT_NAME or the X-Forwarded-* "
        "headers. Empty: no one may; every client's are ignored.",
    ),
    Setting(
        "data",
        _parse_data_files,
        (),
        "Extra RDF files to serve beside the article graph, each in its own named graph. "
        "Entries are FILE or GRAPH_IRI=FILE, space or comma separated; "
        "a FILE alone goes to {base}graph/data/{file-stem}. A file of quads (TriG, N-Quads) goes whole "
        "into that graph, its own graph names dropped; the article's graphs (ontology, facts, links, "
        "metadata) cannot be named.",
    ),
    Setting(
        "store",
        _parse_store,
        "",
        "Where the data lives: empty for in memory (the article graph and the data files, parsed at "
        "every start); a folder for a persistent on-disk store filled by `govkg load`; or "
        "sparql:QUERY_URL to front an existing SPARQL 1.1 store (credentials from GOVKG_STORE_USER "
        "and GOVKG_STORE_PASSWORD).",
    ),
    Setting(
        "disk_data_bytes",
        _parse_non_negative_int,
        0,
        "With no store: data files of more than this many bytes in all are loaded into a temporary "
        "on-disk store (removed at exit) and served from it, so the query processes share its pages "
        "through the kernel's page cache instead of each copying what it reads (1M triples: PSS about "
        "a third, CPU per query about 4x, start-up longer). 0: always in memory.",
    ),
    Setting(
        "update_url",
        _parse_optional_url,
        "",
        "With a sparql: store, its SPARQL Update endpoint: the article graphs are pushed there at "
        "start-up when the store's copy is out of date. Empty: the store is only read.",
    ),
    Setting(
        "workers",
        _parse_workers,
        "auto",
        "Gunicorn web worker processes, each with query_workers + query_queue + 2 request threads "
        "and its own query processes. auto: 2 for an in-memory store of at most 500,000 quads (the "
        "request path's Python runs on two cores), else 1.",
    ),
    Setting(
        "query_workers",
        _parse_positive_int,
        2,
        "Query processes of each web worker: the queries it evaluates at once, each in a process the "
        "OS stops at the time and memory limits (forked from the loaded store, never loading it "
        "again). 2 use both cores of a 2-core machine even with one web worker.",
    ),
    Setting(
        "query_queue",
        _parse_non_negative_int,
        4,
        "Queries that may wait for a query process in each web worker (for at most their time limit); "
        "one more is answered 503 with Retry-After at once.",
    ),
    Setting(
        "instances",
        _parse_positive_int,
        2,
        "`govkg serve-public`: govkg servers behind nginx, each forked from the one loaded store; "
        "when one dies nginx sends its requests to the others while it is forked again.",
    ),
    Setting(
        "client_connections",
        _parse_positive_int,
        32,
        "`govkg serve-public`, `proxy-config`: requests one client address may have in progress at "
        "once at nginx (sending, waiting or reading); more get 503 with Retry-After. /healthz is exempt.",
    ),
    Setting(
        "client_rate",
        _parse_positive_int,
        100,
        "`govkg serve-public`, `proxy-config`: requests per second one client address may make, "
        "with bursts of twice that; more get 503 with Retry-After. /healthz is exempt.",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Resolve every setting: the default, then ``GOVKG_*`` variables, then ``overrides``.

    Unknown override names raise ``KeyError``; bad values raise ``ValueError`` naming
    the setting.

    >>> load_settings({"port": "8080"}, environ={"GOVKG_QUERY_TIMEOUT": "2.5"})["port"]
    8080
    >>> load_settings(environ={"GOVKG_QUERY_TIMEOUT": "2.5"})["query_timeout"]
    2.5
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(SETTINGS_BY_NAME)
    if unknown:
        raise KeyError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    resolved: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            raw, source = overrides[setting.name], setting.name
        elif setting.env_var in environ:
            raw, source = environ[setting.env_var], setting.env_var
        else:
            resolved[setting.name] = setting.default
            continue
        try:
            resolved[setting.name] = setting.parse(raw)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: {error}") from error
    return resolved


def settings_table_markdown() -> str:
    """The README's table of settings, generated from :data:`SETTINGS`."""
    rows = ["| setting | CLI flag | environment variable | default | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        default = setting.default
        if isinstance(default, tuple | str):
            default = (" ".join(default) if isinstance(default, tuple) else default) or "(empty)"
        rows.append(
            f"| `{setting.name}` | `{setting.cli_flag}` | `{setting.env_var}` | `{default}` "
            f"| {setting.help} |"
        )
    return "\n".join(rows)
