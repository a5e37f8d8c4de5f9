"""The baseline the solver benchmark measures against: the paper's price bisection, in numpy and scipy.

This is what a careful user would write from the paper's description, without
clear_fast: each query's best response at a price from Lambert W
(``scipy.special.lambertw``), abandonment where the best response's surplus is
not positive, and bisection on the price until the total demand fits the
budget. It shares no code with clear_fast's kernel, so it also serves as an
independent check of the allocation's quality.
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
