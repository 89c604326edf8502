"""The README's "Limits" section: every limit setting is in it, and a client sees what it says."""

from __future__ import annotations

import re
import time

import requests
from govkg.settings import SETTINGS

from tests.conftest import PROJECT_ROOT

TIMEOUT = 30


def _limits_section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Limits\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Limits' section"
    return match.group(1)


def test_every_limit_setting_is_in_the_limits_section():
    # A limit is a setting with a number that bounds something: time, size, rows, processes, memory.
    limits = [
        setting.name
        for setting in SETTINGS
        if isinstance(setting.default, int | float)
        and not isinstance(setting.default, bool)
        and setting.name != "port"
    ]
    assert {"query_timeout", "max_result_rows", "max_query_bytes", "client_timeout"} <= set(limits)
    section = _limits_section()
    missing = [name for name in limits if f"`{name}`" not in section]
    assert not missing, f"limit settings missing from README.md's Limits section: {missing}"


def test_the_limits_section_says_what_the_server_says(live_server):
    section = _limits_section()
    url = live_server.sparql_url
    body = requests.post(url, data={"query": "ASK {}" + " " * 300_000}, timeout=TIMEOUT)
    assert body.status_code == 413
    assert body.text.strip() in section
    query = requests.post(url, data={"query": "ASK {}" + " " * 70_000}, timeout=TIMEOUT)
    assert query.status_code == 413
    assert query.text.strip() == "The query is 70006 bytes long; at most 65536 are accepted."
    line = requests.get(url, params={"query": "ASK {}" + " " * 9000}, timeout=TIMEOUT)
    assert line.status_code == 414 and "Request Line is too large" in line.text
    headers = requests.get(live_server.url + "healthz", headers={"X-Big": "x" * 9000}, timeout=TIMEOUT)
    assert headers.status_code == 431
    path = requests.get(live_server.url + "id/" + "a" * 1100, timeout=TIMEOUT)
    assert path.status_code == 400
    assert path.text.strip() == "Not a resource IRI: the path is longer than 1024 characters."
    assert path.text.strip() in section.replace("`", "")
    ok = requests.get(url, params={"query": "ASK {}"}, timeout=TIMEOUT)
    assert ok.headers["X-Govkg-Max-Rows"] == "10000" and ok.headers["X-Govkg-Truncated"] == "false"


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_a_client_may_ask_for_a_shorter_time_limit_never_a_longer_one(live_server):
    started = time.monotonic()
    short = requests.get(live_server.sparql_url, params={"query": RUNAWAY, "timeout": "1"}, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert short.status_code == 503
    assert "longer than the 1 s limit" in short.text
    assert 1 <= elapsed < 4
    for value in ("abc", "-1", "nan"):
        refused = requests.get(
            live_server.sparql_url, params={"query": "ASK {}", "timeout": value}, timeout=TIMEOUT
        )
        assert refused.status_code == 400 and "timeout must be a number of seconds" in refused.text
    for value in ("0", "3600", ""):  # the server's own limit
        answered = requests.get(
            live_server.sparql_url, params={"query": "ASK {}", "timeout": value}, timeout=TIMEOUT
        )
        assert answered.status_code == 200
