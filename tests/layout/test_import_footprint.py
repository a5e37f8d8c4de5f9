"""``import clear_fast`` loads the solver and little else; every public name still resolves, to the right object."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import clear_fast
from layout_helpers import run_python

MOST_OWN_MODULES = 35
NOT_AT_IMPORT = ("asyncio", "importlib.resources")


def loaded_after_import() -> dict:
    code = (
        "import json, sys, clear_fast; "
        "print(json.dumps({'own': sorted(m for m in sys.modules if m.split('.')[0] == 'clear_fast'), "
        f"'absent': [m for m in {NOT_AT_IMPORT!r} if m not in sys.modules]}}))"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_loads_at_most_35_of_its_own_modules():
    own = loaded_after_import()["own"]
    assert len(own) <= MOST_OWN_MODULES, own
    # The solver is there; the families behind lazy names are not.
    assert {"clear_fast.allocate", "clear_fast.curves", "clear_fast._kernel"} <= set(own)
    assert not [m for m in own if m.split(".")[1:2] in (["runtime"], ["workloads"], ["calls"], ["experiments"], ["cli"])]


def test_import_does_not_load_asyncio_or_importlib_resources():
    assert loaded_after_import()["absent"] == list(NOT_AT_IMPORT)


def _lazy_table() -> dict[str, str]:
    return {name: module for module, names in clear_fast._LAZY_NAMES.items() for name in names}


def test_every_public_name_is_eager_or_lazy_and_resolves_to_its_home_object():
    init = ast.parse(Path(clear_fast.__file__).read_text(encoding="utf-8"))
    eager = {
        alias.asname or alias.name
        for node in init.body if isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names
    }
    lazy = _lazy_table()
    assert not eager & set(lazy)
    assert set(clear_fast.__all__) == eager | set(lazy)
    for name, module in lazy.items():
        assert getattr(clear_fast, name) is getattr(importlib.import_module(module), name), name


def test_the_type_checking_imports_list_exactly_the_lazy_names():
    init = ast.parse(Path(clear_fast.__file__).read_text(encoding="utf-8"))
    (block,) = [node for node in init.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    spelled = [alias.name for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names]
    assert sorted(spelled) == sorted(_lazy_table())


def test_subpackages_are_attributes_and_unknown_names_are_attribute_errors():
    done = run_python(
        "import clear_fast as cf; "
        "print(cf.runtime.Ledger is cf.Ledger, cf.calls.request_fields is cf.request_fields, "
        "'Ledger' in dir(cf), hasattr(cf, 'no_such_name'))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True", "False"]


def test_star_import_gives_every_public_name():
    done = run_python(
        "from clear_fast import *; import clear_fast; here = set(dir()); "
        "print(sorted(set(clear_fast.__all__) - here) == [] and len(clear_fast.__all__) > 40)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
