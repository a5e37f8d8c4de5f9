"""allocate_levels() against exhaustive enumeration and HiGHS."""

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import clear_fast as cf
from core_oracles import brute_force_levels


def random_levels(rng, n, levels):
    costs = np.sort(rng.integers(0, 300, (n, levels)).astype(float), axis=1)
    utilities = np.sort(rng.uniform(-0.1, 1.0, (n, levels)), axis=1)
    # shuffle columns so the solver cannot rely on levels being listed cheapest first
    for row in range(n):
        perm = rng.permutation(levels)
        costs[row], utilities[row] = costs[row, perm], utilities[row, perm]
    return costs, utilities


@pytest.mark.parametrize("seed", range(40))
def test_within_one_increment_of_the_exact_optimum(seed):
    rng = np.random.default_rng(seed)
    costs, utilities = random_levels(rng, int(rng.integers(1, 5)), int(rng.integers(1, 4)))
    budget = int(rng.integers(0, 700))
    result = cf.allocate_levels(costs, utilities, budget)
    optimum = brute_force_levels(costs, utilities, budget)
    assert result.spent <= budget
    chosen = result.level >= 0
    rows = np.flatnonzero(chosen)
    assert result.utility == pytest.approx(utilities[rows, result.level[rows]].sum())
    np.testing.assert_allclose(result.tokens[rows], costs[rows, result.level[rows]])
    assert result.upper_bound >= optimum - 1e-12
    assert result.utility >= optimum - max(0.0, utilities.max()) - 1e-12
    assert result.gap == pytest.approx(result.upper_bound - result.utility)


def test_against_highs_on_larger_instances():
    rng = np.random.default_rng(77)
    shortfall = []
    for _ in range(10):
        n, levels = 40, 5
        costs, utilities = random_levels(rng, n, levels)
        budget = int(rng.integers(1000, 6000))
        result = cf.allocate_levels(costs, utilities, budget)
        x = n * levels
        pick = np.zeros((n, x))
        pick[np.repeat(np.arange(n), levels), np.arange(x)] = 1
        answer = milp(
            -utilities.ravel(),
            constraints=[LinearConstraint(costs.ravel()[None, :], 0, budget), LinearConstraint(pick, 0, 1)],
            integrality=np.ones(x),
            bounds=Bounds(0, 1),
        )
        optimum = -answer.fun
        assert result.upper_bound >= optimum - 1e-9
        assert result.utility >= optimum - utilities.max() - 1e-9
        shortfall.append((optimum - result.utility) / optimum)
    assert np.median(shortfall) < 0.02


def test_dominated_and_free_levels():
    # level 1 costs more for less; level 2 is free and worth something; level 0 is the best value
    result = cf.allocate_levels([[100.0, 200.0, 0.0]], [[0.9, 0.5, 0.1]], 150)
    assert result.level[0] == 0 and result.utility == pytest.approx(0.9)
    result = cf.allocate_levels([[100.0, 200.0, 0.0]], [[0.9, 0.5, 0.1]], 50)
    assert result.level[0] == 2 and result.spent == 0.0
    result = cf.allocate_levels([[100.0]], [[-0.5]], 1000)  # harmful level: abandon
    assert result.level[0] == -1


def test_levels_price_the_first_misfit():
    result = cf.allocate_levels([[100.0], [100.0]], [[0.8], [0.4]], 150)
    np.testing.assert_array_equal(result.level, [0, -1])
    assert result.shadow_price == pytest.approx(0.4 / 100)
    assert result.upper_bound == pytest.approx(0.8 + 0.4 * 0.5)


def test_fractional_costs_give_whole_token_caps_within_the_budget():
    costs = np.array([[100.6, 250.2], [80.9, 120.5], [60.5, 90.99]])
    utilities = np.array([[0.5, 0.8], [0.4, 0.6], [0.3, 0.35]])
    result = cf.allocate_levels(costs, utilities, 330)
    rows = np.flatnonzero(result.level >= 0)
    assert rows.size >= 2
    assert result.tokens.dtype == np.int64 and type(result.budget) is int and result.budget == 330
    np.testing.assert_array_equal(result.tokens[rows], np.floor(costs[rows, result.level[rows]]))
    assert np.all(result.tokens[result.level < 0] == 0)
    assert result.spent == int(result.tokens.sum()) <= costs[rows, result.level[rows]].sum() <= 330


def test_one_query_whose_every_level_is_on_its_hull():
    # the hull's stack holds the origin, all L options and one slot to re-anchor a free option at the
    # origin: L + 2 entries, more than the n * L = 3 of one query (the debug build checks the bounds)
    result = cf.allocate_levels([[0, 10, 20]], [[1, 3, 4]], 15)
    assert result.level.tolist() == [1]
    assert result.utility == 3.0 and result.upper_bound == 3.5 and result.spent == 10
