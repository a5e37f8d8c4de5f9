"""No import cycles inside clear_fast, counting every import a module can run.

The graph is built from the source, not by importing it: each module's imports at
module level, inside functions and under ``if TYPE_CHECKING:`` all count, relative and
absolute. ``from pkg import name`` points at the submodule ``pkg.name`` when there is
one, else at ``pkg`` itself; importing ``a.b.c`` also runs the ``__init__`` of every
package on the way that the importer is not already inside.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import clear_fast

PACKAGE_DIR = Path(clear_fast.__file__).parent
ROOT = "clear_fast"


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every Python and Cython module of the package."""
    modules = {}
    for path in sorted([*PACKAGE_DIR.rglob("*.py"), *PACKAGE_DIR.rglob("*.pyx")]):
        parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([ROOT, *parts])] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    """The package a relative import in ``module`` starts from."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _cython_imports(text: str) -> str:
    """The import statements of Cython source as Python, a cimport counted as an import."""
    statements, lines = [], iter(text.splitlines())
    for line in lines:
        if not re.match(r"\s*(from\s+\S+\s+c?import\s|c?import\s)", line):
            continue
        statement = line.strip()
        while statement.count("(") > statement.count(")"):  # a parenthesised list over several lines
            statement += " " + next(lines, ")").strip()
        statements.append(re.sub(r"\bcimport\b", "import", statement))
    return "\n".join(statements)


def _import_module_call(node: ast.AST) -> ast.Import | ast.ImportFrom | None:
    """``importlib.import_module("name")`` with a literal name, as the import statement it amounts to."""
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
        return None
    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    name = node.args[0].value
    if called != "import_module" or not isinstance(name, str):
        return None
    stripped = name.lstrip(".")
    level = len(name) - len(stripped)
    if level == 0:
        return ast.Import(names=[ast.alias(name=name)])
    return ast.ImportFrom(module=stripped or None, names=[ast.alias(name="*")], level=level)


def import_statements(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import in a module, at any depth (functions, ``if TYPE_CHECKING:``, literal ``import_module``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".pyx":
        text = _cython_imports(text)
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif (call := _import_module_call(node)) is not None:
            found.append(call)
    return found


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the package that ``module`` can import, anywhere in its source."""
    package = _package_of(module, path)
    targets: set[str] = set()
    for node in import_statements(path):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in known else base)
    edges = set()
    own = set(_ancestors(module))
    for target in targets:
        if target not in known:
            continue  # outside the package (numpy, the standard library, ...)
        edges.add(target)
        # importing a.b.c runs a/__init__ and a/b/__init__ first, unless already inside them
        edges.update(parent for parent in _ancestors(target) if parent not in own and parent in known)
    edges.discard(module)
    return edges


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: imported_modules(module, path, known) for module, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or around a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def shortest_cycle(graph: dict[str, set[str]], start: str, group: set[str]) -> list[str]:
    """A shortest import loop from ``start`` back to itself, staying inside ``group``."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in a cycle group but no loop returns to it")


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest loop through each module caught in a cycle, each loop once, from its smallest name."""
    cycles: list[list[str]] = []
    for group in strongly_connected(graph):
        for member in group:
            loop = shortest_cycle(graph, member, set(group))[:-1]
            turn = loop.index(min(loop))
            loop = loop[turn:] + loop[:turn]
            if loop + loop[:1] not in cycles:
                cycles.append(loop + loop[:1])
    return cycles


def describe(cycle: list[str]) -> str:
    return " -> ".join(name.removeprefix(f"{ROOT}.") for name in cycle)


def test_the_package_has_no_import_cycles() -> None:
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles inside clear_fast:\n" + "\n".join(describe(c) for c in cycles)


# -- the checker itself, on small graphs and sources whose answer is known ----------------------


def test_a_loop_through_three_modules_is_reported_with_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]


def test_every_loop_of_a_tangled_group_is_reported() -> None:
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "a"], ["c", "d", "c"]]
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}
    assert import_cycles(graph) == [["a", "b", "a"], ["a", "c", "a"]]


def test_a_graph_without_loops_has_no_cycles() -> None:
    graph = {"a": {"b", "c"}, "b": {"c"}, "c": set()}
    assert import_cycles(graph) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .pricing import utility", {"clear_fast.pricing"}),
        ("def f():\n    from . import pricing", {"clear_fast.pricing"}),
        ("import clear_fast.fit.result", {"clear_fast.fit", "clear_fast.fit.result"}),
        ("from .fit import load_profile", {"clear_fast.fit"}),
        ("from . import fit", {"clear_fast.fit"}),
        ("from .fit.result import FitResult", {"clear_fast.fit", "clear_fast.fit.result"}),
        ("if TYPE_CHECKING:\n    from .curves import SurgeCurves", {"clear_fast.curves"}),
        ("import numpy as np\nfrom math import inf", set()),
    ],
)
def test_imports_resolve_to_the_modules_they_run(tmp_path: Path, source: str, expected: set[str]) -> None:
    path = tmp_path / "allocate.py"
    path.write_text(source)
    known = {"clear_fast", "clear_fast.pricing", "clear_fast.curves", "clear_fast.fit", "clear_fast.fit.result"}
    assert imported_modules("clear_fast.allocate", path, known) == expected


@pytest.mark.parametrize(
    ("file_name", "module", "source", "known", "expected"),
    [
        pytest.param(
            "result.py",
            "clear_fast.fit.result",
            "from . import _normal\nfrom .. import curves\nfrom ..runtime import Ledger\n",
            {"clear_fast", "clear_fast.curves", "clear_fast.fit", "clear_fast.fit._normal", "clear_fast.runtime"},
            {"clear_fast.fit._normal", "clear_fast.curves", "clear_fast.runtime"},
            id="relative imports start from the subpackage",
        ),
        pytest.param(
            "_solver.pyx",
            "clear_fast._solver",
            "from libc.math cimport exp\ncimport numpy as cnp\nfrom clear_fast._lambert cimport w0\n"
            "from clear_fast._curve cimport (\n    surge,\n    cumulative,\n)\n"
            "cdef double f(double x):\n    return exp(x)\nfrom . import curves\n",
            {"clear_fast", "clear_fast._lambert", "clear_fast._curve", "clear_fast.curves"},
            {"clear_fast._lambert", "clear_fast._curve", "clear_fast.curves"},
            id="a Cython module's imports and cimports",
        ),
        pytest.param(
            "__init__.py",
            "clear_fast",
            "import importlib\ndef __getattr__(name):\n"
            "    demo = importlib.import_module('.experiments.demo', __name__)\n"
            "    return importlib.import_module('clear_fast.curves')\n",
            {"clear_fast", "clear_fast.curves", "clear_fast.experiments", "clear_fast.experiments.demo"},
            {"clear_fast.curves", "clear_fast.experiments", "clear_fast.experiments.demo"},
            id="literal import_module calls",
        ),
    ],
)
def test_imports_of_packages_cython_and_import_module(
    tmp_path: Path, file_name: str, module: str, source: str, known: set[str], expected: set[str]
) -> None:
    path = tmp_path / file_name
    path.write_text(source)
    assert imported_modules(module, path, known) == expected


def test_the_package_graph_sees_every_module() -> None:
    graph = import_graph()
    assert "clear_fast.curves" in graph and "clear_fast.fit.result" in graph
    assert "clear_fast.pricing" in graph["clear_fast.allocate"]
