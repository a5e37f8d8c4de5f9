"""Goodness of fit: a Kolmogorov-Smirnov test on ranks, and calibration by cap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def ks_uniform(ranks: NDArray[np.float64]) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic of ``ranks`` against Uniform(0, 1) and its asymptotic p-value.

    Parameters
    ----------
    ranks : ndarray, shape (m,)
        Values in [0, 1].

    Returns
    -------
    statistic : float
        ``sup |empirical CDF - identity|`` (nan when ``m == 0``).
    pvalue : float
        From the Kolmogorov distribution with Stephens' small-sample correction.
    """
    m = ranks.shape[0]
    if m == 0:
        return math.nan, math.nan
    u = np.sort(ranks)
    steps = np.arange(1, m + 1) / m
    statistic = float(max(np.max(steps - u), np.max(u - (steps - 1.0 / m))))
    root = math.sqrt(m)
    lam = (root + 0.12 + 0.11 / root) * statistic
    if lam < 0.2:
        return statistic, 1.0
    k = np.arange(1, 101)
    pvalue = 2.0 * float(np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * k * k * lam * lam)))
    return statistic, min(max(pvalue, 0.0), 1.0)


@dataclass(frozen=True)
class CalibrationRow:
    """Observed against predicted accuracy for the runs at one cap (or one range of caps).

    Attributes
    ----------
    cap_low, cap_high : float
        The caps in this group (equal when the group is one cap).
    runs : int
        Number of runs in the group.
    observed : float
        Share of them that were correct.
    predicted : float
        Mean posterior-predictive probability of a correct answer.
    """

    cap_low: float
    cap_high: float
    runs: int
    observed: float
    predicted: float


def calibration_table(
    caps: NDArray[np.float64], correct: NDArray[np.bool_], predicted: NDArray[np.float64], *, max_groups: int = 12
) -> tuple[CalibrationRow, ...]:
    """Group runs by cap (by cap quantiles when there are many distinct caps) and compare accuracies."""
    distinct = np.unique(caps)
    if distinct.shape[0] <= max_groups:
        labels = np.searchsorted(distinct, caps)
    else:
        edges = np.unique(np.quantile(caps, np.linspace(0, 1, max_groups + 1)[1:-1]))
        labels = np.searchsorted(edges, caps, side="right")
    rows = []
    for label in np.unique(labels):
        members = labels == label
        rows.append(
            CalibrationRow(
                cap_low=float(caps[members].min()),
                cap_high=float(caps[members].max()),
                runs=int(members.sum()),
                observed=float(correct[members].mean()),
                predicted=float(predicted[members].mean()),
            )
        )
    return tuple(rows)
