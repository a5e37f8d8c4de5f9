"""The compiled exact search held to its pure-Python twin: the same answers, number for number."""

import importlib
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast import _exact_reference, _exact_solver
from exact_oracles import scarce_curves

exact_module = importlib.import_module("clear_fast._exact")


def run_with(implementation, function, *args, **kwargs):
    """Call a public function with the given exact search behind it."""
    saved = exact_module.exact_kernel
    exact_module.exact_kernel = implementation
    try:
        return function(*args, **kwargs)
    finally:
        exact_module.exact_kernel = saved


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 40),
    per_query=st.integers(10, 400),
    form=st.sampled_from(["surge", "cumulative"]),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    share=st.floats(0.1, 1.0),
    rtol=st.sampled_from([0.0, 1e-3, 0.05]),
    seed=st.integers(0, 2**32 - 1),
)
def test_allocate_searches_agree(n, per_query, form, flags, share, rtol, seed):
    curves = scarce_curves(np.random.default_rng(seed), n, per_query, form, caps=flags[0], weights=flags[1],
                           minimums=flags[2])
    budget = int(share * n * per_query)
    compiled = run_with(_exact_solver, cf.allocate, curves, budget, rtol=rtol)
    twin = run_with(_exact_reference, cf.allocate, curves, budget, rtol=rtol)
    np.testing.assert_array_equal(compiled.tokens, twin.tokens)
    assert compiled.utility == twin.utility and compiled.upper_bound == twin.upper_bound
    assert (compiled.optimal, compiled.search) == (twin.optimal, twin.search)


def test_the_search_agrees_at_the_work_cap(monkeypatch):
    rng = np.random.default_rng(2)
    for cap in (0, 200, 5000):
        monkeypatch.setattr(exact_module, "WORK_CAP", cap)
        for form in ("surge", "cumulative"):
            curves = scarce_curves(rng, 20, 60, form, caps=True, weights=True, minimums=True)
            compiled = run_with(_exact_solver, cf.allocate, curves, 900, rtol=0)
            twin = run_with(_exact_reference, cf.allocate, curves, 900, rtol=0)
            np.testing.assert_array_equal(compiled.tokens, twin.tokens)
            assert (compiled.upper_bound, compiled.search) == (twin.upper_bound, twin.search)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 30),
    levels=st.integers(1, 6),
    fractional=st.booleans(),
    budget=st.integers(0, 3000),
    rtol=st.sampled_from([0.0, 1e-3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_level_searches_agree(n, levels, fractional, budget, rtol, seed):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 400, (n, levels)) + (rng.random((n, levels)) if fractional else 0.0)
    utilities = rng.uniform(-0.2, 1.0, (n, levels))
    compiled = run_with(_exact_solver, cf.allocate_levels, costs, utilities, budget, rtol=rtol)
    twin = run_with(_exact_reference, cf.allocate_levels, costs, utilities, budget, rtol=rtol)
    np.testing.assert_array_equal(compiled.level, twin.level)
    assert compiled.utility == twin.utility and compiled.upper_bound == twin.upper_bound
    assert compiled.search == twin.search


@pytest.mark.parametrize("name", ["token_search", "level_search"])
def test_the_twin_has_each_entry_point_with_the_same_parameters(name):
    compiled = inspect.signature(getattr(_exact_solver, name))
    twin = inspect.signature(getattr(_exact_reference, name))
    assert list(compiled.parameters) == list(twin.parameters)
    assert (_exact_solver.SEARCH_DONE, _exact_solver.SEARCH_CAPPED) == (
        _exact_reference.SEARCH_DONE, _exact_reference.SEARCH_CAPPED)


def test_the_stub_matches_the_compiled_search():
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "clear_fast._exact_solver"],
        capture_output=True, text=True, env={**os.environ, "CLEAR_FAST_PUREPYTHON": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_compiled_search_is_a_loud_import_error_unless_the_twin_is_asked_for():
    block = "import sys; sys.modules['clear_fast._exact_solver'] = None; "
    missing = subprocess.run(
        [sys.executable, "-c", block + "import clear_fast"], capture_output=True, text=True,
        env={**os.environ, "CLEAR_FAST_PUREPYTHON": ""},
    )
    assert missing.returncode != 0
    assert "compiled exact search (clear_fast._exact_solver) is not built" in missing.stderr
    code = block + "import clear_fast as cf; print(cf.allocate(cf.SurgeCurves([10, 20, 400], 0.02, 0.02), 120).optimal)"
    twin = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "CLEAR_FAST_PUREPYTHON": "1"}
    )
    assert twin.returncode == 0 and twin.stdout.strip() == "True", twin.stderr
