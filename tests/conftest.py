"""Shared fixtures: the app in-process, and the real server as a subprocess over HTTP."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from benchmarks import loadgen
from benchmarks.processes import free_ports, start_listening, stop_process_group
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The W3C SPARQL test files the tests read, vendored (see tests/w3c/README.md; DCAT-AP: tests/dcat-ap/).
W3C_SUITE_DIR = PROJECT_ROOT / "tests" / "w3c" / "sparql"


def eventually(condition: Callable[[], bool], within: float = 10, interval: float = 0.02) -> bool:
    """Poll ``condition`` every ``interval`` s: ``True`` as soon as it holds, ``False`` after
    ``within`` s (a wait on what a fixed sleep would only have hoped for)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 200."""
    return lambda: requests.get(url, timeout=2).status_code == 200


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a server that must not start:
    one that should, :func:`start_server` or ``benchmarks.processes.start_listening`` starts)."""
    return free_ports(1)[0]


@dataclass
class LiveServer:
    """A ``govkg serve`` subprocess listening on 127.0.0.1."""

    process: subprocess.Popen
    url: str  # with a trailing slash, e.g. http://127.0.0.1:5123/
    log_path: Path

    @property
    def sparql_url(self) -> str:
        return self.url + "sparql"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def child_pids(pid: int) -> set[int]:
    """The PIDs of ``pid``'s direct children, read from /proc (a server's web workers)."""
    return set(loadgen.child_pids(pid))


def web_worker_pids(pid: int) -> set[int]:
    """The web workers of the server whose master is ``pid``: its children but the query forker."""
    return {child for child in child_pids(pid) if _comm(child) != "govkg-forker"}


def wait_for_web_workers(server: LiveServer, count: int, within: float = 20) -> set[int]:
    """The server's web workers once there are ``count`` (/readyz may be answered by the first
    before the others have booted on a loaded machine)."""
    deadline = time.monotonic() + within
    while len(web_worker_pids(server.process.pid)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return web_worker_pids(server.process.pid)


def query_process_pids(server: LiveServer) -> set[int]:
    """The query processes of a server: the children of its query process forker."""
    forkers = set(child_pids(server.process.pid)) - web_worker_pids(server.process.pid)
    return set().union(*(child_pids(forker) for forker in forkers))


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def start_server(
    tmp_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    command_name: str = "serve",
) -> LiveServer:
    """Start ``govkg serve`` (or ``command_name``) on a free port with extra CLI ``args``; wait until
    /readyz answers from it (see :func:`start_listening`: a port lost to another process is retried)."""
    if "--workers" not in args and "GOVKG_WORKERS" not in (env or {}):
        # One web worker unless a test asks: tests observe the worker process (its PID, its CPU,
        # its result cache), and the default (auto) would give the small article store two.
        args = ("--workers", "1", *args)

    def url(ports: tuple[int, ...]) -> str:
        return f"http://127.0.0.1:{ports[0]}/"

    def log_path(ports: tuple[int, ...]) -> Path:
        return tmp_dir / f"server-{ports[0]}.log"

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        command = [sys.executable, "-m", "govkg", command_name, "--port", str(ports[0])]
        with log_path(ports).open("wb") as log_file:
            return subprocess.Popen(
                [*command, "--base-iri", url(ports), *args],
                cwd=PROJECT_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    process, ports = start_listening(
        launch,
        lambda ports: http_ok(url(ports) + "readyz")(),
        timeout=timeout,
        log=lambda ports: log_path(ports).read_text(encoding="utf-8", errors="replace"),
        name=f"govkg {command_name}",
    )
    return LiveServer(process, url(ports), log_path(ports))


def run_govkg(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the ``govkg`` command line as a user does, in a subprocess from the checkout; output as text."""
    command = [sys.executable, "-m", "govkg", *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)


def load_store(store: Path, *files: Path, timeout: float = 300) -> None:
    """Fill the persistent store folder ``store`` with ``govkg load`` (the test fails with its stderr)."""
    loaded = run_govkg("load", "--store", str(store), *map(str, files), timeout=timeout)
    assert loaded.returncode == 0, loaded.stderr


def stop_server(server: LiveServer) -> None:
    """Stop the server's whole process group by its PID (SIGTERM, then SIGKILL)."""
    stop_process_group(server.process, grace=15)


# --- running beside the other pytest-xdist worker ---------------------------------------------------
#
# pyproject's addopts run the suite in two pytest-xdist workers (`-n 2`), each test module on one
# worker (`--dist loadscope`, so a module's servers start once). A test marked ``solo`` asserts
# wall-clock or CPU figures (a latency bound, a Lighthouse Performance score, a flood's answer
# times) that the other worker's load would skew: it runs while the other worker waits. Every
# other test holds a shared lock for its whole run (setup, call, teardown); a solo test holds it
# shared for its setup and teardown (a server started or stopped skews no figure) and exclusive for
# its call, so the other worker waits only while the figures are taken. A solo test waiting at the
# gate lets no new test start, so it is not starved.


@contextmanager
def _turn(directory: Path, exclusive: bool) -> Iterator[None]:
    """Hold the workers' lock: shared, or ``exclusive`` of every other test."""
    with (directory / "gate.lock").open("a") as gate, (directory / "tests.lock").open("a") as tests:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(tests, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(tests, fcntl.LOCK_UN)


LOCKS = "PYTEST_GOVKG_LOCKS"  # the folder of the workers' lock files, made by the controller


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "solo: asserts timings; runs while no other test runs (see tests/conftest.py)"
    )
    if not hasattr(config, "workerinput") and LOCKS not in os.environ:  # the controller, or no xdist
        os.environ[LOCKS] = tempfile.mkdtemp(prefix="govkg-tests-")  # inherited by the workers


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and LOCKS in os.environ:
        shutil.rmtree(os.environ.pop(LOCKS), ignore_errors=True)


#: The modules that take longest (a serial run's ``--durations``), about longest first, dealt out to
#: the workers first so that neither is left with a long one at the end while the other idles; then
#: the rest in file order; the modules whose every test is solo last, when the other worker has
#: little left to hold up. A solo test waits for the other worker's test in progress, so the modules
#: that run beside Lighthouse's one long test (the second, and the fourth: xdist gives a worker its
#: next module while the last two tests of one are pending) have no solo test.
FIRST_MODULES = (
    "test_lighthouse",
    "test_reliability_fuzz",
    "test_security",
    "test_remote_store",
    "test_web_pages",
    "test_reliability_faults",
    "test_sparql_safety",
    "test_search",
    "test_install",
    "test_persistent_store",
    "test_sharing",
    "test_query_results",
    "test_charts",
    "test_metadata",
    "test_cli",
    "test_docs",
    "test_validate",
    "test_facts",
    "test_article_map",
    "test_assets",
    "test_benchmarks_smoke",
    "test_result_cache",
    "test_query_page",
    "test_backend_contract",
    "test_dumps",
    "test_published_as_written",
)
LAST_MODULES = ("test_public_profile",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the modules as above (pyproject's ``--no-loadscope-reorder`` makes xdist keep it)."""

    def rank(item: pytest.Item) -> int:
        module = item.path.stem
        if module in FIRST_MODULES:
            return FIRST_MODULES.index(module)
        if module in LAST_MODULES:
            return len(FIRST_MODULES) + 1 + LAST_MODULES.index(module)
        return len(FIRST_MODULES)

    items.sort(key=rank)  # stable: the tests of a module keep their order


def _beside_another_worker(item: pytest.Item) -> bool:
    """Whether ``item`` runs in a pytest-xdist worker (not: ``-n 0``, nothing runs beside it)."""
    return hasattr(item.config, "workerinput")


def _solo(item: pytest.Item) -> bool:
    return item.get_closest_marker("solo") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not _beside_another_worker(item) or _solo(item):  # a solo test takes its turns phase by phase
        return (yield)
    with _turn(Path(os.environ[LOCKS]), exclusive=False):
        return (yield)


def _solo_phase(item: pytest.Item, exclusive: bool) -> Iterator[None]:
    """One phase of a solo test beside another worker, under its turn (nothing for other tests)."""
    if not _beside_another_worker(item) or not _solo(item):
        return (yield)
    with _turn(Path(os.environ[LOCKS]), exclusive=exclusive):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _solo_phase(item, exclusive=False))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _solo_phase(item, exclusive=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    return (yield from _solo_phase(item, exclusive=False))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server with default settings, shared by the tests that only read."""
    server = start_server(tmp_path_factory.mktemp("live-server"))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def app():  # noqa: ANN201
    """The Flask app in-process (for fast checks that need no real HTTP)."""
    from govkg import create_app

    return create_app({"base_iri": "http://127.0.0.1:5000/"})


@pytest.fixture()
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture()
def runner():  # noqa: ANN201
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), one per test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
