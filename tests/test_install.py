"""govkg as users install it: a wheel built from the checkout, installed in a fresh venv, run from elsewhere.

The wheel must hold the import package ``govkg`` with the article data, the ontology and the
stored queries, and no top-level ``server``; the installed commands must find their data
without the checkout (they run in an empty folder), and ``govkg dump`` must not load Flask.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from benchmarks.processes import start_listening, stop_process_group
from tests.conftest import PROJECT_ROOT, http_ok


def clean_source_tree(target: Path) -> Path:
    """A copy of the checkout as a fresh clone has it: the tracked files, no build/ or node_modules/.

    Building in the checkout itself would leave setuptools' build/ there, and a stale build/lib
    from an earlier build would go into the next wheel.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel`` builds from the sources (setuptools from PyPI, in pip's isolated build)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = clean_source_tree(tmp_path_factory.mktemp("source"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(folder)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = folder.glob("govkg-*.whl")
    return built


def dependency_folders() -> list[str]:
    """The site-packages folders this interpreter imports the dependencies from.

    The test may run from a system Python, from a venv with the system's packages, or from a plain
    venv where ``pip install -e '.[test]'`` put them: a ``--system-site-packages`` venv made from
    inside a venv sees the base Python's folder only, so the folders are named explicitly.

    >>> all(Path(folder).name in ("site-packages", "dist-packages") for folder in dependency_folders())
    True
    """
    return [
        entry
        for entry in sys.path
        if Path(entry).name in ("site-packages", "dist-packages") and Path(entry).is_dir()
    ]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a new venv with the wheel installed and this interpreter's dependencies.

    The dependencies come in through a ``.pth`` file that lists the folders as plain paths: the
    ``.pth`` files inside them are not run, so an editable install of govkg there stays invisible
    and ``import govkg`` finds the wheel.
    """
    venv = tmp_path_factory.mktemp("venv")
    # Without a pip of its own (ensurepip takes seconds): this interpreter's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site_packages) / "zz-test-dependencies.pth").write_text(
        "".join(folder + "\n" for folder in dependency_folders()), encoding="utf-8"
    )
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    return venv / "bin"


def run_elsewhere(
    bin_dir: Path, folder: Path, *command: str, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run an installed command in ``folder`` (not the checkout), with a clean module path."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(bin_dir / command[0]), *command[1:]],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_wheel_holds_govkg_with_its_data_and_no_server(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("govkg-")}
    assert top_level == {"govkg"}
    for shipped in (
        "govkg/ontology/govkg.ttl",
        "govkg/ontology/shapes.ttl",
        "govkg/data/00-article.ttl",
        "govkg/data/dataset.toml",
        "govkg/data/links/wikidata.ttl",
        "govkg/data/sources/xijiang-daily-zhaoqing-rule-of-law.raw.txt",
        "govkg/queries/six-firsts.rq",
        "govkg/queries/expected/six-firsts.srj",
        "govkg/web/templates/resource.html",
        "govkg/web/static/govkg.css",
    ):
        assert shipped in names
    # The licence travels with the code (pyproject's license-files): a wheel without it cannot be
    # redistributed under MIT's terms.
    (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    assert "MIT License" in zipfile.ZipFile(wheel).read(licence).decode("utf-8")


def test_installed_commands_work_from_any_folder(installed: Path, tmp_path: Path) -> None:
    where = run_elsewhere(installed, tmp_path, "python", "-c", "import govkg; print(govkg.__file__)")
    assert "site-packages" in where.stdout and str(PROJECT_ROOT) not in where.stdout
    validated = run_elsewhere(installed, tmp_path, "govkg", "validate")
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.startswith("valid:")
    answer = run_elsewhere(installed, tmp_path, "govkg", "query", "-", stdin="ASK { ?s ?p ?o }")
    assert (answer.returncode, answer.stdout) == (0, "yes\n"), answer.stderr
    dumped = run_elsewhere(
        installed, tmp_path, "python", "-X", "importtime", "-m", "govkg", "dump", "-o", "g.ttl"
    )
    assert dumped.returncode == 0, dumped.stderr
    assert (tmp_path / "g.ttl").stat().st_size > 100_000
    imported = {
        line.split("|")[-1].strip().split(".")[0] for line in dumped.stderr.splitlines() if "|" in line
    }
    assert "rdflib" in imported or "pyoxigraph" in imported  # the import log was read
    assert not imported & {"flask", "werkzeug", "jinja2", "gunicorn"}


def test_installed_server_serves_a_resource(installed: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    def launch(ports: tuple[int, ...]) -> subprocess.Popen:
        url = f"http://127.0.0.1:{ports[0]}/"
        return subprocess.Popen(
            [str(installed / "govkg"), "serve", "--port", str(ports[0]), "--base-iri", url, "--workers", "1"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    process, (port,) = start_listening(
        launch, lambda ports: http_ok(f"http://127.0.0.1:{ports[0]}/readyz")(), name="the installed server"
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        page = requests.get(url + "id/place/zhaoqing", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "肇庆" in page.text
        turtle = requests.get(url + "id/place/zhaoqing", headers={"Accept": "text/turtle"}, timeout=10)
        assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    finally:
        stop_process_group(process, grace=15)
