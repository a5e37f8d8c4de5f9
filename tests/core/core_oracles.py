"""Shared helpers of the core tests: random instances, exact oracles, and running on one kernel."""

from __future__ import annotations

import itertools

import numpy as np

import clear_fast as cf
from clear_fast import _kernel


def run_with(kernel, function, *args):
    """Call a public function with the given kernel package behind every caller (rounding included)."""
    saved = _kernel.kernel
    _kernel.kernel = kernel
    try:
        return function(*args)
    finally:
        _kernel.kernel = saved


def random_curves(rng: np.random.Generator, n: int, *, form: str, bounds: bool = True, weights: bool = True):
    """Heterogeneous curves on the scale of a few hundred tokens (small enough for exact oracles)."""
    tau = rng.uniform(0, 120, n)
    beta = 1.0 / rng.uniform(10, 80, n)
    peak = rng.uniform(0.2, 1.0, n)
    weight = rng.uniform(0.5, 2.0, n) if weights else None
    max_tokens = min_tokens = None
    if bounds:
        max_tokens = np.where(rng.random(n) < 0.3, rng.uniform(40, 300, n), np.inf)
        min_tokens = np.minimum(np.where(rng.random(n) < 0.3, rng.uniform(0, 150, n), 0.0), max_tokens)
    return cf.SurgeCurves.from_peak(
        tau, peak, 1.0 / beta, weight=weight, min_tokens=min_tokens, max_tokens=max_tokens, form=form
    )


def integer_optimum(curves: cf.SurgeCurves, budget: int) -> float:
    """Exact optimum over whole-token grants by dynamic programming over the budget.

    ``best[s]`` is the most utility reachable with at most ``s`` tokens using the
    queries seen so far; each query chooses 0 or a whole grant in its bounds.
    """
    best = np.zeros(budget + 1)
    lower = np.ceil(curves.lower)
    upper = np.floor(np.minimum(curves.max_tokens, budget))
    for i in range(len(curves)):
        if lower[i] > upper[i]:
            continue
        grants = np.arange(int(lower[i]), int(upper[i]) + 1)
        values = cf.utility(curves.subset([i] * len(grants)), grants)
        new = best.copy()
        for grant, value in zip(grants, values):
            new[grant:] = np.maximum(new[grant:], best[: budget + 1 - grant] + value)
        best = new
    return float(best[-1])


def brute_force_levels(costs: np.ndarray, utilities: np.ndarray, budget: float) -> float:
    """Exact multiple-choice knapsack by enumerating every choice (tiny instances only)."""
    n, levels = costs.shape
    best = 0.0
    for choice in itertools.product(range(-1, levels), repeat=n):
        cost = sum(costs[i, l] for i, l in enumerate(choice) if l >= 0)
        if cost <= budget:
            best = max(best, sum(utilities[i, l] for i, l in enumerate(choice) if l >= 0))
    return best
