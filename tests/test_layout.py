"""The package's dependency rules, read from the source: every import, module-level or in a function.

* Layers depend one way (bottom to top): the core modules (settings, errors, malloc,
  package_data), ``rdf``, ``sparql``, ``graph``, ``store``, ``linking``, ``web``, then the
  entry points (the package itself, ``cli``, ``__main__``). A module imports only from its own
  layer or the layers below, so no two subpackages import each other.
* Only ``web`` (and the entry points, which start it) imports Flask, Werkzeug, Jinja or gunicorn.
* No module imports another module's private name (``from govkg.x import _name``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "server"
LAYERS = ["core", "rdf", "sparql", "graph", "store", "linking", "web", "entry"]
CORE = {"settings", "errors", "malloc", "package_data"}
ENTRY = {"__init__", "cli", "__main__"}
WEB_FRAMEWORKS = {"flask", "werkzeug", "jinja2", "gunicorn", "markupsafe"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    return ".".join(("govkg", *parts)).removesuffix(".__init__")


def layer_of(module: str) -> str:
    """The layer of a ``govkg`` module name.

    >>> layer_of("govkg.sparql.lexer"), layer_of("govkg.settings"), layer_of("govkg")
    ('sparql', 'core', 'entry')
    """
    parts = module.split(".")
    if len(parts) == 1:
        return "entry"
    if parts[1] in CORE:
        return "core"
    if parts[1] in ENTRY:
        return "entry"
    return parts[1]


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) of every import statement in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not path.is_relative_to(PACKAGE_DIR):
        package = "govkg"
    elif path.name == "__init__.py":
        package = module_name(path)
    else:
        package = module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base, [alias.name for alias in node.names]))
    return found


SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def test_every_module_is_in_a_layer() -> None:
    assert {layer_of(module_name(path)) for path in SOURCES} <= set(LAYERS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_imports_follow_the_layers(path: Path) -> None:
    module = module_name(path)
    layer = LAYERS.index(layer_of(module))
    problems = []
    for line, imported, names in imports(path):
        top = imported.split(".")[0]
        if top in WEB_FRAMEWORKS and layer_of(module) not in ("web", "entry"):
            problems.append(f"line {line}: {imported} (a web framework) outside govkg.web")
        if top != "govkg":
            continue
        targets = [imported] + [f"{imported}.{name}" for name in names if imported == "govkg"]
        for target in targets:
            if LAYERS.index(layer_of(target)) > layer:
                problems.append(f"line {line}: {target} is in a layer above {layer_of(module)}")
        private = [name for name in names if name.startswith("_") and not name.startswith("__")]
        if private and imported != module:
            problems.append(f"line {line}: private {', '.join(private)} of {imported}")
    assert not problems, f"{module}:\n" + "\n".join(problems)


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: a store module importing Flask and the web layer is caught."""
    assert layer_of("govkg.store.loaded") == "store"
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from govkg.web.store import loaded_graph\n    import flask\n")
    assert [(line, name) for line, name, _ in imports(sample)] == [(2, "govkg.web.store"), (3, "flask")]
