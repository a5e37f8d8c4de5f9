"""Passes over a prefix of the market: the twin of clear_fast/_solver/market_rows.pyx and .pxd.

The market is the fundable queries in ``order``, by decreasing break-even
price. Demand of the first ``count`` of them at a price ``lam`` is the sum of
their best grants (no abandonment: a query in the prefix is funded); it falls
as the price rises. The compiled kernel copies the queries once into packed
rows in that order; this twin reads the caller's arrays through ``order``.
"""

from __future__ import annotations

import math

from .curve import SURGE, best_grant, best_grant_slope, utility_at


def prefix_demand(form, tau, scale, beta, lower, upper, order, count, lam):
    """Summed best responses of the first ``count`` queries in ``order`` at ``lam`` (no abandonment)."""
    total = 0.0
    slope = 0.0
    for k in range(count):
        i = order[k]
        b = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
        total += b
        slope += best_grant_slope(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, b)
    return total, slope


def solve_prefix(form, tau, scale, beta, lower, upper, order, count, budget, lo, hi):
    """Price in ``[lo, hi]`` where the first ``count`` queries demand ``budget`` (demand falls in price).

    Safeguarded Newton in log-price from ``hi``; returns the price with demand
    <= budget nearest the crossing.
    """
    if lo == 0.0 and prefix_demand(form, tau, scale, beta, lower, upper, order, count, 0.0)[0] <= budget:
        return 0.0
    lam = hi
    for _ in range(400):
        total, slope = prefix_demand(form, tau, scale, beta, lower, upper, order, count, lam)
        if total > budget:
            lo = lam
        else:
            hi = lam
            if budget - total <= 1e-9 * max(budget, 1.0):
                return lam
        if hi - lo <= 1e-15 * hi:
            return hi
        candidate = -1.0
        if slope < 0.0 and lam > 0.0:  # (the exponent is capped where C's exp would return inf)
            candidate = lam * math.exp(min(700.0, -(total - budget) / (lam * slope)))
        if lo < candidate < hi:
            lam = candidate
        elif lo > 0.0:
            lam = math.sqrt(lo * hi)
        else:
            lam = hi * 1e-4
    return hi



def max_marginal(form, a, beta):
    """Largest marginal utility of a curve: a for the surge (at onset), a/(beta e) for the cumulative."""
    return a if form == SURGE else a / (beta * math.e)


def prefix_value(form, tau, scale, beta, lower, upper, order, count, lam):
    """Summed utility of the first ``count`` queries in ``order`` at their best grants at ``lam``."""
    total = 0.0
    for k in range(count):
        i = order[k]
        b = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
        total += utility_at(form, tau[i], scale[i], beta[i], b)
    return total


def fill(form, tau, scale, beta, lower, upper, order, count, lam, tokens_out):
    """Write the best grants at ``lam`` of the first ``count`` queries in ``order`` to their positions."""
    for k in range(count):
        i = order[k]
        tokens_out[i] = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
