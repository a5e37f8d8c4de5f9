"""Independent exact references for the exact-allocation tests, and the scarce instances that stress them.

* :func:`core_oracles.integer_optimum`: a plain dynamic programme over whole tokens;
* :func:`highs_grants`: the same problem as a 0/1 programme for HiGHS
  (``scipy.optimize.milp``), one binary per (query, grant) on a grid of grants
  (grid 1: every whole token, the exact problem again, solved another way);
* :func:`highs_levels`: the multiple-choice knapsack of effort levels for HiGHS;
* :func:`scarce_curves`: small batches on scarce budgets, mixing hopeless,
  near-threshold and easy queries, with caps, minimums and weights.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

import clear_fast as cf


def _solve(costs: np.ndarray, values: np.ndarray, rows: np.ndarray, n: int, budget: float) -> float:
    """max values.x subject to costs.x <= budget, at most one x per row, x binary."""
    if costs.shape[0] == 0:
        return 0.0
    one_per_query = np.zeros((n, costs.shape[0]))
    one_per_query[rows, np.arange(costs.shape[0])] = 1
    constraints = [LinearConstraint(costs[None, :], 0, budget), LinearConstraint(one_per_query, 0, 1)]
    answer = milp(
        -values, constraints=constraints, integrality=np.ones(costs.shape[0]), bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    assert answer.success, answer.message
    return float(-answer.fun)


def highs_grants(curves: cf.SurgeCurves, budget: int, grid: int = 1, most: int | None = None) -> float:
    """Best whole-token allocation among grants on a grid (every ``grid``-th token from each lower bound, and the cap).

    ``most`` widens a query's grid where it would hold more grants than that
    (a lower bound on the optimum then, still an allocation that exists).
    """
    rows, costs, values = [], [], []
    lower, upper = np.ceil(curves.lower), np.floor(np.minimum(curves.max_tokens, budget))
    for i in range(len(curves)):
        if lower[i] > upper[i]:
            continue
        step = grid if most is None else max(grid, int(np.ceil((upper[i] - lower[i] + 1) / most)))
        grants = np.unique(np.concatenate([np.arange(lower[i], upper[i] + 1, step), [upper[i]]]))
        worth = cf.utility(curves.subset([i] * len(grants)), grants)
        useful = worth > 0
        rows += [i] * int(useful.sum())
        costs += list(grants[useful])
        values += list(worth[useful])
    return _solve(np.array(costs, dtype=float), np.array(values), np.array(rows, dtype=int), len(curves), budget)


def highs_levels(costs: np.ndarray, utilities: np.ndarray, budget: float) -> float:
    """Best choice of at most one level per query within the budget."""
    n, levels = costs.shape
    useful = utilities.ravel() > 0
    rows = np.repeat(np.arange(n), levels)[useful]
    return _solve(costs.ravel()[useful], utilities.ravel()[useful], rows, n, budget)


def scarce_curves(rng: np.random.Generator, n: int, per_query: int, form: str, *, caps: bool, weights: bool,
                  minimums: bool) -> cf.SurgeCurves:
    """``n`` queries for a budget of ``per_query`` tokens each: a mix of hopeless, near-threshold and easy ones.

    Hopeless queries need more than the whole budget (or nearly all of it);
    near-threshold ones need one to a few queries' shares before they pay;
    easy ones start paying within their share. Widths run from a fifth of a
    share to three shares, so grants on both sides of a curve's bend matter.
    """
    budget = n * per_query
    kind = rng.choice(3, n, p=[0.25, 0.45, 0.30])
    tau = np.where(
        kind == 0, rng.uniform(0.7, 2.5, n) * budget,
        np.where(kind == 1, rng.uniform(0.6, 4.0, n) * per_query, rng.uniform(0.0, 0.6, n) * per_query),
    )
    width = np.maximum(rng.uniform(0.2, 3.0, n) * per_query, 3.0)
    peak = rng.uniform(0.1, 1.0, n)
    weight = rng.uniform(0.2, 3.0, n) if weights else None
    max_tokens = min_tokens = None
    if caps:
        max_tokens = np.where(rng.random(n) < 0.4, tau + rng.uniform(0.2, 3.0, n) * width, np.inf)
    if minimums:
        min_tokens = np.where(rng.random(n) < 0.4, rng.uniform(0.0, 2.0, n) * per_query, 0.0)
        if max_tokens is not None:
            min_tokens = np.minimum(min_tokens, max_tokens)
    return cf.SurgeCurves.from_peak(
        tau, peak, width, weight=weight, min_tokens=min_tokens, max_tokens=max_tokens, form=form
    )
