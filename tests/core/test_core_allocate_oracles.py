"""allocate() against exact solvers: dynamic programming over whole tokens, and HiGHS (scipy.optimize.milp)."""

import numpy as np
import pytest

import clear_fast as cf
from core_oracles import integer_optimum, random_curves
from exact_oracles import highs_grants


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(25))
def test_within_the_tolerance_of_the_exact_integer_optimum_and_bound_is_valid(form, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    curves = random_curves(rng, n, form=form)
    budget = int(rng.integers(0, 450))
    result = cf.allocate(curves, budget)
    optimum = integer_optimum(curves, budget)
    assert result.spent <= budget
    # the guarantee: within max(rtol * utility, one token's value at the shadow price) of the optimum
    assert result.optimal
    assert result.utility >= optimum - result.tolerance - 1e-9
    # the certificate never claims less than what is achievable
    assert result.upper_bound >= optimum - 1e-9
    assert result.gap >= 0
    funded = result.tokens > 0
    assert np.all(result.tokens[funded] >= np.ceil(curves.lower[funded]))
    assert np.all(result.tokens[funded] <= np.floor(curves.max_tokens[funded]))


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_rtol_sets_how_close_the_answer_is_proven(form):
    rng = np.random.default_rng(100)
    for _ in range(30):
        curves = random_curves(rng, int(rng.integers(2, 6)), form=form)
        budget = int(rng.integers(50, 450))
        optimum = integer_optimum(curves, budget)
        for rtol in (0.0, 1e-3, 0.05):
            result = cf.allocate(curves, budget, rtol=rtol)
            assert result.optimal and result.tolerance == max(rtol * result.utility, result.shadow_price)
            assert result.utility >= optimum - result.tolerance - 1e-9
            assert result.upper_bound >= optimum - 1e-9


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(8))
def test_against_highs_on_a_grid_of_grants(form, seed):
    rng = np.random.default_rng(1000 + seed)
    curves = random_curves(rng, 12, form=form)
    budget = int(rng.integers(200, 1500))
    grid_optimum = highs_grants(curves, budget, grid=5)
    result = cf.allocate(curves, budget)
    assert result.utility >= grid_optimum - result.tolerance - 1e-9
    assert result.upper_bound >= grid_optimum - 1e-9
