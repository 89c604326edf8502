"""The ``>>>`` examples in the package's docstrings, run against the package as it is imported (``govkg.…``).

pytest's own ``--doctest-modules`` would import ``server/x.py`` by its path, as ``server.x``: a
second copy of each module under a name users never see, whose exceptions print differently.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import govkg
import pytest

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(govkg.__path__, "govkg.")
    if not name.endswith("__main__") and name.split(".")[1] not in ("data", "ontology", "queries")
)


def test_every_module_is_found_and_its_examples_too() -> None:
    """The examples are found, not silently skipped (counted here, run once each below)."""
    assert {"govkg.sparql.executor", "govkg.web.app", "govkg.store.backends"} <= set(MODULES)
    finder = doctest.DocTestFinder()
    found = sum(
        len(test.examples) for name in MODULES for test in finder.find(importlib.import_module(name), name)
    )
    assert found > 200  # 254 when written


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False, report=False)
    if result.failed:
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        failures: list[str] = []
        for test in doctest.DocTestFinder().find(module, name):
            runner.run(test, out=failures.append)
        pytest.fail("".join(failures))
