"""The compiled exact search held to its twin: the same answers, number for number.

Only the search's entry points are swapped (the rest of the kernel stays compiled), so both
searches get the same price, bounds and turning points and must return the same grants.
"""

import importlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast import _kernel, _reference, _solver
from exact_oracles import scarce_curves

exact_module = importlib.import_module("clear_fast._exact")
SEARCH = ("SearchStatus", "token_search", "level_search")


class SearchFrom:
    """The compiled kernel, with the exact search's entry points taken from ``package``."""

    def __init__(self, package):
        self.package = package

    def __getattr__(self, name):
        return getattr(self.package if name in SEARCH else _solver, name)


def run_with(package, function, *args, **kwargs):
    """Call a public function with the search of ``package`` behind it."""
    saved = _kernel.kernel
    _kernel.kernel = SearchFrom(package)
    try:
        return function(*args, **kwargs)
    finally:
        _kernel.kernel = saved


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
    compiled = run_with(_solver, cf.allocate, curves, budget, rtol=rtol)
    twin = run_with(_reference, cf.allocate, curves, budget, rtol=rtol)
    np.testing.assert_array_equal(compiled.tokens, twin.tokens)
    assert compiled.utility == twin.utility and compiled.upper_bound == twin.upper_bound
    assert (compiled.optimal, compiled.search) == (twin.optimal, twin.search)


def test_the_searches_agree_at_the_work_cap(monkeypatch):
    rng = np.random.default_rng(2)
    searched = set()
    for cap in (0, 200, 5000):
        monkeypatch.setattr(exact_module, "WORK_CAP", cap)
        for form in ("surge", "cumulative"):
            curves = scarce_curves(rng, 20, 60, form, caps=True, weights=True, minimums=True)
            compiled = run_with(_solver, cf.allocate, curves, 900, rtol=0)
            twin = run_with(_reference, cf.allocate, curves, 900, rtol=0)
            np.testing.assert_array_equal(compiled.tokens, twin.tokens)
            assert (compiled.upper_bound, compiled.search) == (twin.upper_bound, twin.search)
            searched.add(compiled.search)
    assert "stopped at the work cap" in searched


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
    compiled = run_with(_solver, cf.allocate_levels, costs, utilities, budget, rtol=rtol)
    twin = run_with(_reference, cf.allocate_levels, costs, utilities, budget, rtol=rtol)
    np.testing.assert_array_equal(compiled.level, twin.level)
    assert compiled.utility == twin.utility and compiled.upper_bound == twin.upper_bound
    assert compiled.search == twin.search
