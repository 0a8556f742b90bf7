"""The package's layout: no import circle (function-level imports included), imports inside
functions only in the command line, modules of one size, ``mutualgnn.mutual`` free of DGL, and
``import mutualgnn`` / ``mutualgnn.cli`` free of anything heavy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mutualgnn"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_package(name: str, modules: dict) -> bool:
    return modules[name].name == "__init__.py"


def import_graph(modules: dict | None = None) -> dict:
    """module -> the package modules it imports anywhere in its source (function bodies too).
    Importing ``a.b.c`` also runs the packages ``a.b`` and ``a`` (their ``__init__``), so those
    count as imported, except the importer's own enclosing packages (already running)."""
    modules = modules or _modules()
    graph = {}
    for name, path in modules.items():
        package = name if _is_package(name, modules) else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                targets.add(origin)
                targets.update(
                    f"{origin}.{alias.name}"
                    for alias in node.names
                    if f"{origin}.{alias.name}" in modules
                )
        edges = set()
        for target in targets:
            if not target.startswith("mutualgnn"):
                continue
            parts = target.split(".")
            for end in range(1, len(parts) + 1):  # the target and the packages above it
                prefix = ".".join(parts[:end])
                if (
                    prefix in modules
                    and not (name + ".").startswith(prefix + ".")
                    and prefix != name
                ):
                    edges.add(prefix)
        graph[name] = edges
    return graph


def find_cycle(graph: dict) -> list | None:
    """One import circle as a list of modules (first repeated at the end), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_circle_finder_finds_a_function_level_circle(tmp_path):
    root = tmp_path / "mutualgnn"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from .b import g\n")
    (root / "b.py").write_text("def g():\n    from . import a\n")
    modules = {_module_name_in(p, tmp_path): p for p in root.rglob("*.py")}
    cycle = find_cycle(import_graph(modules))
    assert cycle is not None and set(cycle) == {"mutualgnn.a", "mutualgnn.b"}


def _module_name_in(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_is_over_450_lines():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > 450
    }
    assert not long, f"modules over 450 lines: {long}"


@pytest.mark.parametrize(
    "module",
    [
        "mutualgnn.mutual",
        "mutualgnn.config",
        "mutualgnn.metrics",
        "mutualgnn.validation",
        "mutualgnn.files",
        "mutualgnn.provenance",
        "mutualgnn.progress",
        "mutualgnn.student_result",
        "mutualgnn._dgl_prepare",
    ],
)
def test_the_ground_and_mutual_import_no_dgl(module):
    code = (
        f"import sys, {module}; bad = [m for m in sys.modules if m == 'dgl' "
        f"or m.startswith('dgl.')]; assert not bad, bad[:3]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_public_api_resolves():
    import mutualgnn

    for name in mutualgnn.__all__:
        assert getattr(mutualgnn, name) is not None
    with pytest.raises(AttributeError):
        mutualgnn.no_such_name  # noqa: B018


#: the only modules that import the package inside functions, the command line's: each command
#: imports the API it calls when it runs, so that ``mutualgnn --help`` answers at once (docs/cli.md)
LAZY = {
    "mutualgnn.cli.common",
    "mutualgnn.cli.train",
    "mutualgnn.cli.analyses",
    "mutualgnn.cli.results",
}


def test_only_the_command_line_imports_the_package_inside_functions():
    found = {}
    for name, path in _modules().items():
        for function in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.ImportFrom)
                    and (node.level or (node.module or "").startswith("mutualgnn"))
                ) or (
                    isinstance(node, ast.Import)
                    and any(a.name.startswith("mutualgnn") for a in node.names)
                ):
                    found.setdefault(name, []).append(node.lineno)
    assert set(found) <= LAZY, {k: v for k, v in found.items() if k not in LAZY}


HEAVY = ("torch", "dgl", "pandas", "numpy", "scipy", "sklearn", "matplotlib", "ogb", "yaml")


@pytest.mark.parametrize("module", ["mutualgnn", "mutualgnn.cli", "mutualgnn.__main__"])
def test_the_package_and_its_command_line_import_nothing_heavy(module):
    code = (
        f"import sys, {module}; bad = sorted({{m.split('.')[0] for m in sys.modules}} "
        f"& set({HEAVY!r})); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def private_imports(modules: dict | None = None) -> list:
    """``(module, name, line)`` of every private name (``_x``) one package module imports from
    another: a private name belongs to its module. A private module (``_dgl_prepare``) is
    itself a name its package may import."""
    modules = modules or _modules()
    found = []
    for name, path in modules.items():
        package = name if _is_package(name, modules) else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if not origin.startswith("mutualgnn"):
                continue
            for alias in node.names:
                if (
                    alias.name.startswith("_")
                    and not alias.name.startswith("__")
                    and f"{origin}.{alias.name}" not in modules
                ):
                    found.append((name, alias.name, node.lineno))
    return found


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []


def test_the_private_import_finder_finds_one(tmp_path):
    root = tmp_path / "mutualgnn"
    root.mkdir()
    (root / "__init__.py").write_text("from . import _compat\n")  # a private module: allowed
    (root / "_compat.py").write_text("")
    (root / "a.py").write_text("def _helper():\n    pass\n")
    (root / "b.py").write_text("from .a import _helper\n")
    modules = {_module_name_in(p, tmp_path): p for p in root.rglob("*.py")}
    assert private_imports(modules) == [("mutualgnn.b", "_helper", 1)]


def test_no_function_is_over_80_lines():
    """A function reads in one screen (its docstring included)."""
    long = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long[f"{name}.{node.name}"] = lines
    assert not long, f"functions over 80 lines: {long}"
