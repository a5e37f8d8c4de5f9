"""allocate() against exact solvers: dynamic programming over whole tokens, and HiGHS (scipy.optimize.milp)."""

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import clear_fast as cf
from core_oracles import integer_optimum, random_curves


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(25))
def test_within_one_query_of_the_exact_integer_optimum_and_bound_is_valid(form, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    curves = random_curves(rng, n, form=form)
    budget = int(rng.integers(0, 450))
    result = cf.allocate(curves, budget)
    optimum = integer_optimum(curves, budget)
    assert result.spent <= budget
    # the guarantee: at most one query's peak below the optimum (the marginal query at a jump)
    assert result.utility >= optimum - curves.peak_utility.max() - 1e-9
    # the certificate never claims less than what is achievable
    assert result.upper_bound >= optimum - 1e-9
    assert result.gap >= 0
    funded = result.tokens > 0
    assert np.all(result.tokens[funded] >= np.ceil(curves.lower[funded]))
    assert np.all(result.tokens[funded] <= np.floor(curves.max_tokens[funded]))


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_near_optimal_on_average(form):
    # the one-query bound is the worst case; typically the answer is within rounding of the optimum
    rng = np.random.default_rng(100)
    shortfalls = []
    for _ in range(30):
        curves = random_curves(rng, int(rng.integers(2, 6)), form=form)
        budget = int(rng.integers(50, 450))
        optimum = integer_optimum(curves, budget)
        if optimum > 0:
            shortfalls.append((optimum - cf.allocate(curves, budget).utility) / optimum)
    assert np.median(shortfalls) < 0.01


def grid_milp(curves: cf.SurgeCurves, budget: int, grid: int) -> float:
    """0/1 problem over a grid of grants solved by HiGHS: one binary per (query, grant)."""
    rows, costs, values = [], [], []
    lower, upper = np.ceil(curves.lower), np.floor(np.minimum(curves.max_tokens, budget))
    for i in range(len(curves)):
        if lower[i] > upper[i]:
            continue
        grants = np.unique(np.concatenate([np.arange(lower[i], upper[i] + 1, grid), [upper[i]]]))
        rows += [i] * len(grants)
        costs += list(grants)
        values += list(cf.utility(curves.subset([i] * len(grants)), grants))
    if not rows:
        return 0.0
    rows, costs, values = np.array(rows), np.array(costs), np.array(values)
    one_per_query = np.zeros((len(curves), len(rows)))
    one_per_query[rows, np.arange(len(rows))] = 1
    constraints = [LinearConstraint(costs[None, :], 0, budget), LinearConstraint(one_per_query, 0, 1)]
    answer = milp(-values, constraints=constraints, integrality=np.ones(len(rows)), bounds=Bounds(0, 1))
    assert answer.success
    return float(-answer.fun)


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(8))
def test_against_highs_on_a_grid_of_grants(form, seed):
    rng = np.random.default_rng(1000 + seed)
    curves = random_curves(rng, 12, form=form)
    budget = int(rng.integers(200, 1500))
    grid_optimum = grid_milp(curves, budget, grid=5)
    result = cf.allocate(curves, budget)
    assert result.utility >= grid_optimum - curves.peak_utility.max() - 1e-9
    assert result.upper_bound >= grid_optimum - 1e-9
