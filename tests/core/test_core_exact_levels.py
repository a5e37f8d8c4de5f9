"""allocate_levels() and allocate_uncertain() reach the optimum over their options within the tolerance, proven."""

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast.uncertainty import allocate_uncertain, candidate_grants, expected_utility
from core_oracles import brute_force_levels
from exact_oracles import highs_levels, scarce_curves

exact_module = importlib.import_module("clear_fast._exact")

# Five queries, 500 tokens: each query's best value per token is a level dearer than the whole budget, so the
# hull greedy stops at every first step and funds nothing; cheaper levels off the hull fit.
OFF_HULL_COSTS = np.array([[150.0, 600.0], [200.0, 700.0], [250.0, 650.0], [120.0, 800.0], [300.0, 900.0]])
OFF_HULL_UTILITIES = np.array([[0.05, 0.9], [0.08, 0.95], [0.07, 0.9], [0.048, 0.99], [0.09, 0.97]])


def assert_levels_optimal(costs, utilities, budget, result, optimum):
    rows = np.flatnonzero(result.level >= 0)
    assert costs[rows, result.level[rows]].sum() <= budget
    assert result.spent <= budget
    assert result.utility == pytest.approx(utilities[rows, result.level[rows]].sum(), rel=1e-12, abs=1e-15)
    assert result.upper_bound >= optimum - 1e-9 * max(1.0, optimum)
    assert result.optimal and result.gap <= result.tolerance * (1 + 1e-9) + 1e-12
    assert result.utility >= optimum - result.tolerance - 1e-12


def test_levels_off_the_hull_are_taken_when_the_hull_steps_do_not_fit():
    result = cf.allocate_levels(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500)
    optimum = brute_force_levels(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500)
    assert optimum == pytest.approx(0.05 + 0.08 + 0.048)  # the three cheapest levels, 470 tokens
    assert result.funded.sum() == 3
    assert_levels_optimal(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500, result, optimum)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 6),
    levels=st.integers(1, 4),
    fractional=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    budget=st.integers(0, 900),
)
def test_small_level_choices_against_enumeration(n, levels, fractional, seed, budget):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 400, (n, levels)).astype(float)
    if fractional:
        costs += rng.random((n, levels))
    utilities = rng.uniform(-0.2, 1.0, (n, levels))
    result = cf.allocate_levels(costs, utilities, budget)
    assert_levels_optimal(costs, utilities, budget, result, brute_force_levels(costs, utilities, budget))


@pytest.mark.parametrize("seed", range(6))
def test_forty_queries_of_five_levels_against_highs(seed):
    rng = np.random.default_rng(40 + seed)
    costs = rng.integers(20, 900, (40, 5)) + (rng.random((40, 5)) if seed % 2 else 0.0)
    utilities = np.sort(rng.uniform(0.0, 1.0, (40, 5)), axis=1) * rng.uniform(0.2, 2.0, (40, 1))
    budget = int(rng.integers(300, 4000))
    result = cf.allocate_levels(costs, utilities, budget, rtol=0)
    assert_levels_optimal(costs, utilities, budget, result, highs_levels(costs, utilities, budget))
    assert result.tolerance == result.shadow_price


def test_no_unspent_token_could_raise_a_levels_utility():
    rng = np.random.default_rng(8)
    for _ in range(40):
        n, levels = int(rng.integers(1, 12)), int(rng.integers(1, 5))
        costs = rng.integers(0, 300, (n, levels)) + rng.random((n, levels))
        utilities = rng.uniform(-0.1, 1.0, (n, levels))
        budget = int(rng.integers(0, 1500))
        result = cf.allocate_levels(costs, utilities, budget)
        rows = np.arange(n)
        now_cost = np.where(result.funded, costs[rows, np.maximum(result.level, 0)], 0.0)
        now_value = np.where(result.funded, utilities[rows, np.maximum(result.level, 0)], 0.0)
        left = budget - now_cost.sum()
        better = (costs - now_cost[:, None] <= left) & (utilities > now_value[:, None] + 1e-12)
        assert not better.any()


def test_at_the_work_cap_the_levels_gap_is_honest(monkeypatch):
    monkeypatch.setattr(exact_module, "WORK_CAP", 0)
    result = cf.allocate_levels(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500, rtol=0)
    optimum = brute_force_levels(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500)
    assert result.search == "stopped at the work cap" and not result.optimal
    assert result.upper_bound >= optimum - 1e-12 and result.utility <= optimum + 1e-12
    assert result.gap > result.tolerance


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(4))
def test_uncertain_allocation_is_optimal_among_its_candidate_grants(form, seed):
    rng = np.random.default_rng(70 + seed)
    curves = scarce_curves(rng, 12, int(rng.integers(40, 200)), form, caps=True, weights=True, minimums=True)
    spread = rng.uniform(0.0, 0.8, 12)
    budget = int(rng.uniform(0.3, 1.0) * 12 * 120)
    result = allocate_uncertain(curves, spread, budget, levels=10)
    grants = candidate_grants(curves, spread, levels=10)
    values = expected_utility(curves, spread, grants)
    optimum = highs_levels(grants.astype(float), values, budget)
    assert result.spent <= budget
    assert result.upper_bound >= optimum - 1e-9
    assert result.optimal and result.total_expected_utility >= optimum - result.tolerance - 1e-12
    assert result.gap == pytest.approx(result.upper_bound - result.total_expected_utility)
    assert result.search == result.levels.search and result.tolerance == result.levels.tolerance


@pytest.mark.parametrize("rtol, error, message", [
    (-0.1, ValueError, "`rtol` must be a finite number >= 0, got -0.1"),
    (float("nan"), ValueError, "`rtol` must be a finite number >= 0, got nan"),
    ("1e-3", TypeError, "`rtol` must be a number, got '1e-3'"),
])
def test_a_bad_rtol_is_refused_by_levels_and_uncertain_allocation(rtol, error, message):
    with pytest.raises(error, match=message):
        cf.allocate_levels(OFF_HULL_COSTS, OFF_HULL_UTILITIES, 500, rtol=rtol)
    curves = cf.SurgeCurves([100.0, 200.0], 1e-4, 0.01, form="cumulative")
    with pytest.raises(error, match=message):
        allocate_uncertain(curves, 0.3, 400, rtol=rtol)
