"""The baseline the solver benchmark measures against: the paper's price bisection, in numpy and scipy.

This is what a careful user would write from the paper's description, without
clear_fast: each query's best response at a price from Lambert W
(``scipy.special.lambertw``), abandonment where the best response's surplus is
not positive, and bisection on the price until the total demand fits the
budget. It shares no code with clear_fast's kernel, so it also serves as an
independent check of the allocation's quality.

Two versions: :func:`bisection_allocate` rounds the demand to whole tokens at
every halving; :func:`tight_bisection_allocate`, the one the benchmark times,
compares the continuous demand and floors once at the end, with the
price-independent constants computed once.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

BISECTION_STEPS = 60  # halvings of the price interval: far below a token's worth of demand


def demand(form: str, tau: NDArray, scale: NDArray, beta: NDArray, price: float) -> NDArray[np.float64]:
    """Each query's best grant at ``price`` (0 when abandoned), before rounding to whole tokens.

    ``scale`` is weight * alpha. Surge: ``x = (1 - W0(e price / a)) / beta``;
    cumulative: ``x = -W_{-1}(-price beta / a) / beta`` (the concave side).
    """
    from scipy.special import lambertw

    ratio = price / scale
    if form == "surge":
        live = ratio * math.e <= 1.0
        w = np.real(lambertw(np.minimum(ratio * math.e, 1.0), 0))
        x = (1.0 - w) / beta
        value = scale * x * np.exp(-beta * x)
    else:
        live = ratio * beta * math.e <= 1.0  # price <= a / (beta e), the steepest marginal utility
        argument = -np.minimum(ratio * beta, 1.0 / math.e)
        w = np.real(lambertw(argument, -1))
        x = -w / beta
        value = scale / beta**2 * (1.0 - (1.0 + beta * x) * np.exp(-beta * x))
    grant = tau + x
    funded = live & (value - price * grant > 0)
    return np.where(funded, grant, 0.0)


def bisection_allocate(form: str, tau: NDArray, scale: NDArray, beta: NDArray, budget: int) -> tuple[NDArray[np.int64], float]:
    """Whole-token grants at the lowest bisected price whose demand fits ``budget``, and that price."""
    low, high = 0.0, float(np.max(scale / beta)) * 2.0  # above every query's break-even price
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if np.floor(demand(form, tau, scale, beta, middle)).sum() > budget:
            low = middle
        else:
            high = middle
    return np.floor(demand(form, tau, scale, beta, high)).astype(np.int64), high


def tight_bisection_allocate(
    form: str, tau: NDArray, scale: NDArray, beta: NDArray, budget: int
) -> tuple[NDArray[np.int64], float]:
    """The same bisection written tightly: continuous demand at every step, one flooring at the end.

    60 halvings on the price; at each, every query's best response from one
    vectorised ``scipy.special.lambertw`` call and the total continuous demand
    compared with the budget (no per-step rounding to whole tokens). Constants
    that do not depend on the price are computed once. The grants at the
    feasible end of the final interval are floored once, so they fit the budget.
    """
    from scipy.special import lambertw

    surge = form == "surge"
    inverse_scale = 1.0 / scale
    inverse_beta = 1.0 / beta
    # a query is worth funding at a price below its break-even price; both conditions below are that test
    steepest = scale if surge else scale * inverse_beta / math.e  # the largest marginal utility

    def total_demand(price: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        if surge:
            w = lambertw(np.minimum(price * math.e * inverse_scale, 1.0), 0).real
            x = (1.0 - w) * inverse_beta
            value = scale * x * np.exp(-beta * x)
        else:
            w = lambertw(np.maximum(-price * beta * inverse_scale, -1.0 / math.e), -1).real
            x = -w * inverse_beta
            value = scale * inverse_beta**2 * (1.0 - (1.0 + beta * x) * np.exp(-beta * x))
        grant = tau + x
        funded = (price <= steepest) & (value > price * grant)
        return grant, funded

    low, high = 0.0, float(np.max(scale * inverse_beta)) * 2.0  # above every query's break-even price
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (low + high)
        grant, funded = total_demand(middle)
        if grant[funded].sum() > budget:
            low = middle
        else:
            high = middle
    grant, funded = total_demand(high)
    return np.where(funded, np.floor(grant), 0.0).astype(np.int64), high
