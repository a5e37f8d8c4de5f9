"""The integration uses only clear_fast's public API: no private module, no name outside an ``__all__``.

Public means ``clear_fast`` itself or one of its subpackages (``clear_fast.runtime``,
``clear_fast.calls``, ...), and a name listed in that package's ``__all__``. Every
import in the integration's sources is checked, function-level ones included, and
so are attribute reads such as ``clear_fast._kernel`` and module names in strings.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import clear_fast
import langchain_clear_fast
import pytest

SOURCES = sorted(Path(langchain_clear_fast.__file__).parent.rglob("*.py"))
PRIVATE_IN_TEXT = re.compile(r"\bclear_fast(\.\w+)*\._\w*")


def public_packages() -> set[str]:
    """``clear_fast`` and its subpackages whose names do not start with an underscore."""
    root = Path(clear_fast.__file__).parent
    found = {"clear_fast"}
    for init in root.glob("*/__init__.py"):
        if not init.parent.name.startswith("_"):
            found.add(f"clear_fast.{init.parent.name}")
    return found


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Each use of clear_fast in ``source`` that is not its public API, as ``line: what``."""
    packages = public_packages()
    problems = []
    module_names: set[str] = set()  # local names bound to clear_fast packages
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "clear_fast":
                    if alias.name not in packages:
                        problems.append(f"{node.lineno}: import {alias.name}")
                    module_names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "clear_fast" and not node.level:
            if node.module not in packages:
                problems.append(f"{node.lineno}: from {node.module} import ...")
                continue
            exported = set(getattr(importlib.import_module(node.module), "__all__", ()))
            for alias in node.names:
                if alias.name not in exported and f"{node.module}.{alias.name}" not in packages:
                    problems.append(f"{node.lineno}: {alias.name} is not in {node.module}.__all__")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and PRIVATE_IN_TEXT.search(node.value):
            problems.append(f"{node.lineno}: names {PRIVATE_IN_TEXT.search(node.value).group(0)}")
    for node in ast.walk(ast.parse(source, filename)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and isinstance(node.value, ast.Name)
            and node.value.id in module_names
        ):
            problems.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return problems


def test_the_scan_sees_the_sources():
    names = {path.name for path in SOURCES}
    assert {"__init__.py", "budgeted.py", "runnable.py", "simulated_chat_model.py", "demo_chain.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_the_integration_imports_only_public_names(path):
    assert private_uses(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from clear_fast._checks import as_float_array",
        "from clear_fast.runtime.ledger_api import LedgerAPI",
        "import clear_fast.calls.providers",
        "def f():\n    from clear_fast.workloads.simulated_model import SimulatedReasoner",
        "from clear_fast import _kernel",
        "from clear_fast.runtime import LedgerSnapshotMissing",
        "import clear_fast as cf\ncf._solver.lambert_w",
        "import importlib\nimportlib.import_module('clear_fast._reference')",
    ],
)
def test_the_scan_catches_each_kind_of_private_use(source):
    assert private_uses(source) != []


def test_the_scan_accepts_public_imports():
    source = (
        "import clear_fast as cf\nfrom clear_fast import SurgeCurves, allocate\n"
        "from clear_fast.runtime import LedgerAPI\nfrom clear_fast.calls import request_fields\ncf.allocate"
    )
    assert private_uses(source) == []
