"""The hand-written stubs of the compiled kernel match it (mypy's stubtest), and the twin mirrors it module for module."""

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clear_fast import _reference, _solver


def test_stub_matches_the_compiled_kernel():
    # stubtest imports the compiled package and compares every module's signatures with its .pyi
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "clear_fast._solver"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLEAR_FAST_PUREPYTHON": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "name",
    [
        "lambert_w", "utility", "breakeven", "demand", "clear_price",
        "shared_solve", "shared_grants", "shared_hand_out", "shared_value", "unit_gains", "floor_grants", "level_hulls",
        "level_greedy", "token_search", "level_search",
    ],
)
def test_the_twin_has_each_entry_point_with_the_same_parameters(name):
    compiled = inspect.signature(getattr(_solver, name))
    twin = inspect.signature(getattr(_reference, name))
    assert list(compiled.parameters) == list(twin.parameters)


COMPILED_MODULES = ["lambert", "curve", "market_rows", "market", "shared_params", "effort_levels", "exact_search"]


@pytest.mark.parametrize("module", COMPILED_MODULES)
def test_the_twin_mirrors_each_compiled_module(module):
    compiled = importlib.import_module(f"clear_fast._solver.{module}")
    twin = importlib.import_module(f"clear_fast._reference.{module}")
    assert compiled.__file__.endswith((".so", ".pyd")), compiled.__file__
    # every entry point of the compiled module is an entry point of the twin's module of the same name
    entry_points = {name for name in dir(compiled) if not name.startswith("_")}
    assert entry_points <= set(dir(twin))
    for name in entry_points:
        assert getattr(_solver, name) is getattr(compiled, name)  # the package gathers them all
        assert getattr(_reference, name) is getattr(twin, name)


def test_every_compiled_module_is_built_and_mirrored():
    built = {path.name.split(".")[0] for path in Path(_solver.__file__).parent.iterdir() if path.suffix in (".so", ".pyd")}
    sources = {path.stem for path in Path(_solver.__file__).parent.glob("*.pyx")}
    stubs = {path.stem for path in Path(_solver.__file__).parent.glob("*.pyi")} - {"__init__"}
    twins = {path.stem for path in Path(_reference.__file__).parent.glob("*.py")} - {"__init__"}
    assert sources and built == sources == stubs == twins == set(COMPILED_MODULES)
    assert _solver.__all__ == _reference.__all__


def test_both_kernels_name_the_clearing_kinds_alike():
    assert {kind.name: int(kind) for kind in _solver.ClearingKind} == {
        kind.name: int(kind) for kind in _reference.ClearingKind
    }


def test_both_kernels_name_the_search_statuses_alike():
    assert {status.name: int(status) for status in _solver.SearchStatus} == {
        status.name: int(status) for status in _reference.SearchStatus
    }
