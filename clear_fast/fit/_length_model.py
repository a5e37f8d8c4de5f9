"""The length model behind the cumulative curve, as vectorised log-probabilities.

A query with threshold ``tau`` that the model knows (probability ``p``) answers
correctly with natural length ``tau + G``, ``G ~ Gamma(shape 2, scale 1/beta)``.
At a cap ``c`` the run is correct iff it knows and ``tau + G <= c``. So

* a correct run of length ``L`` has density ``p * beta**2 * x * exp(-beta x)``, ``x = L - tau``;
* any other run at cap ``c`` (wrong, or cut at the cap) has probability
  ``1 - p * F(c - tau)`` with ``F(x) = 1 - (1 + beta x) exp(-beta x)``.

Only the lengths of correct answers enter, so the fit does not depend on what
the model does when it does not know the answer (how long its wrong answers
run). A cut run is a censored observation: it says the answer, if any, would
have been longer than ``c``, and nothing more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def gamma2_cdf(x: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    """``F(x) = 1 - (1 + beta x) exp(-beta x)`` for ``x > 0``, else 0 (accuracy at a cap, over ``p``)."""
    y = beta * np.maximum(x, 0.0)
    finite = np.isfinite(y)
    y = np.where(finite, y, 0.0)
    # -expm1 keeps precision for small y, where the two terms nearly cancel; an uncapped run (x = inf) has F = 1
    return np.where(finite, np.where(x > 0, -np.expm1(-y) - y * np.exp(-y), 0.0), 1.0)


def log_correct(length_past_tau: NDArray[np.float64], beta: float, log_p: float) -> NDArray[np.float64]:
    """Log-density of a correct answer ``x`` tokens past the threshold (``-inf`` for ``x <= 0``)."""
    x = length_past_tau
    positive = x > 0
    safe = np.where(positive, x, 1.0)
    value = log_p + 2.0 * np.log(beta) + np.log(safe) - beta * safe
    return np.where(positive, value, -np.inf)


def gamma2_survival(x: NDArray[np.float64], beta: float) -> NDArray[np.float64]:
    """``S(x) = (1 + beta x) exp(-beta x)`` for ``x > 0``, else 1; 0 at ``x = inf`` (an uncapped run)."""
    y = beta * np.maximum(x, 0.0)
    with np.errstate(invalid="ignore"):  # (1 + inf) * exp(-inf) is nan; the survival there is 0
        return np.where(np.isfinite(y), (1.0 + y) * np.exp(-y), 0.0)


def log_not_correct(survival: NDArray[np.float64], p: float) -> NDArray[np.float64]:
    """Log-probability that a run is not correct, given the survival ``S(c - tau)`` at its cap.

    Written as ``log((1 - p) + p * S)``, which never subtracts two numbers close to one.
    """
    return np.log((1.0 - p) + p * survival)
