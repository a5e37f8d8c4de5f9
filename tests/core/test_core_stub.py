"""The hand-written stub of the compiled kernel matches it (mypy's stubtest), and the twin has every entry point."""

import inspect
import os
import subprocess
import sys

import pytest

from clear_fast import _reference, _solver


def test_stub_matches_the_compiled_kernel():
    # stubtest imports the installed module and compares every signature with _solver.pyi
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
        "shared_scan", "shared_dual", "shared_round", "shared_value", "unit_gains", "floor_grants", "level_hulls",
        "level_greedy",
    ],
)
def test_the_twin_has_each_entry_point_with_the_same_parameters(name):
    compiled = inspect.signature(getattr(_solver, name))
    twin = inspect.signature(getattr(_reference, name))
    assert list(compiled.parameters) == list(twin.parameters)
