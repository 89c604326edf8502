"""The package's dependency rules, read from the source: every import, module-level or in a function.

* Layers depend one way (bottom to top): the core modules (settings, errors, malloc,
  package_data), ``rdf``, ``sparql``, ``graph``, ``store``, ``linking``, ``web``, then the
  entry points (the package itself, ``cli``, ``__main__``). A module imports only from its own
  layer or the layers below, so no two subpackages import each other.
* Only ``web`` (and the entry points, which start it) imports Flask, Werkzeug, Jinja or gunicorn.
* No module imports another module's private name (``from govkg.x import _name``).
* No modules import each other round a cycle, inside a package or across (imports inside
  functions count: a late import must not hide a cycle).
"""

from __future__ import annotations

import ast
import re
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


def layer_problems(module: str, path: Path) -> list[str]:
    """What in ``path`` (the source of ``module``) breaks the layer, web-framework and private-name rules."""
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
    return problems


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which of ``modules`` each imports: every import, at module level, in a function or for typing.

    ``from govkg.store import loaded`` and ``from govkg.store.loaded import X`` both name
    ``govkg.store.loaded``; an import of a package names its ``__init__``.
    """
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        for _, imported, names in imports(path):
            for target in (imported, *(f"{imported}.{name}" for name in names)):
                if target in modules and target != module:
                    graph[module].add(target)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other round a cycle (strongly connected, more than one).

    >>> import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    [['a', 'b', 'c']]
    >>> import_cycles({"a": {"b"}, "b": set()})
    []
    """
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in stack:
                lowest[module] = min(lowest[module], index[target])
        if lowest[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_imports_follow_the_layers(path: Path) -> None:
    problems = layer_problems(module_name(path), path)
    assert not problems, f"{module_name(path)}:\n" + "\n".join(problems)


def test_no_module_imports_round_a_cycle() -> None:
    """Inside a package or across, counting the imports inside functions: a late import hides no cycle."""
    graph = import_graph({module_name(path): path for path in SOURCES})
    assert import_cycles(graph) == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself: a store module importing Flask and the web layer, inside a function, is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from govkg.web.store import loaded_graph\n    import flask\n")
    assert [(line, name) for line, name, _ in imports(sample)] == [(2, "govkg.web.store"), (3, "flask")]
    assert layer_problems("govkg.store.sample", sample) == [
        "line 2: govkg.web.store is in a layer above store",
        "line 3: flask (a web framework) outside govkg.web",
    ]


def test_the_cycle_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("from govkg.store.second import thing\n")
    second.write_text("def late():\n    from govkg.store import first\n")
    graph = import_graph({"govkg.store.first": first, "govkg.store.second": second})
    assert import_cycles(graph) == [["govkg.store.first", "govkg.store.second"]]


def test_namespaces_are_defined_once() -> None:
    """A vocabulary's namespace IRI is written in govkg.rdf.namespaces only; modules import it from there."""
    from govkg.rdf import namespaces

    known = {value for name, value in vars(namespaces).items() if name.isupper() and isinstance(value, str)}
    known |= set(namespaces.PREFIXES.values())
    redefined = [
        f"{module_name(path)}: {line.strip()}"
        for path in SOURCES
        if path.name != "namespaces.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if (assigned := re.match(r'^[A-Z_]+ = "([^"]+)"$', line)) and assigned.group(1) in known
    ]
    assert redefined == []
