"""The runtime package's layout: no import cycles, nothing heavy at import, its Lua shipped as package data."""

from __future__ import annotations

import ast
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import clear_fast
from clear_fast.runtime.redis_script import ledger_script

PACKAGE = Path(clear_fast.__file__).resolve().parent
RUNTIME = PACKAGE / "runtime"
PYPROJECT = PACKAGE.parent / "pyproject.toml"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every clear_fast module ``path`` imports anywhere: at the top, in functions, under TYPE_CHECKING."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {name for name in found if name in known and name != here}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known) for name, path in paths.items()}


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of imports from ``start`` back to itself, if there is one (depth-first search)."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, chain = stack.pop()
        for target in graph[node]:
            if target == start:
                return chain + [start]
            if target not in seen:
                seen.add(target)
                stack.append((target, chain + [target]))
    return None


def test_no_runtime_module_is_part_of_an_import_cycle():
    graph = import_graph()
    # A package's __init__ re-exports its modules; importing a module through the package is not a cycle.
    for name in graph:
        graph[name] = {target for target in graph[name] if not name.startswith(target + ".")}
    runtime_modules = [name for name in graph if name.startswith("clear_fast.runtime")]
    assert len(runtime_modules) > 10
    cycles = {name: cycle_through(graph, name) for name in runtime_modules}
    assert {name: chain for name, chain in cycles.items() if chain} == {}


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle_through(graph, "a") == ["a", "b", "c", "a"]
    assert cycle_through(graph, "d") is None


def test_runtime_modules_import_no_asyncio_or_importlib_resources_at_import_time():
    heavy = {"asyncio", "importlib.resources"}
    for path in RUNTIME.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: functions import them when they run
            names = set()
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = {node.module or ""} | {f"{node.module}.{alias.name}" for alias in node.names}
            assert not names & heavy, f"{path.name} imports {names & heavy} at import time"


def test_the_lua_files_are_package_data_and_make_up_the_script():
    patterns = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]["clear_fast"]
    lua_files = sorted(RUNTIME.glob("*.lua"))
    assert lua_files
    for path in lua_files:
        relative = path.relative_to(PACKAGE).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), f"{relative} would not ship in a wheel"
    script = ledger_script()
    for path in lua_files:
        assert path.read_text(encoding="utf-8").strip() in script
