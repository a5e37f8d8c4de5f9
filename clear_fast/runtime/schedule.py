"""Spend schedules: what fraction of a period's budget should be spent by each moment.

The pacer's default is linear: half the budget by half the period. When the
traffic's value is known to move in a pattern (hard queries in the morning,
easy ones at night), a schedule learned from a past period lets the pacer
spend where that pattern puts the value, instead of evenly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, as_seconds

Schedule = Callable[[float], float]


def linear_schedule(fraction: float) -> float:
    """Spend evenly: the budget fraction equals the time fraction."""
    return min(max(fraction, 0.0), 1.0)


def check_schedule(schedule: Schedule) -> Schedule:
    """Refuse a schedule that does not start at 0, end at 1 and rise in between."""
    if not callable(schedule):
        raise TypeError(f"`schedule` must be callable (time fraction -> budget fraction), got {schedule!r:.80}")
    probe = np.linspace(0.0, 1.0, 101)
    values = np.array([float(schedule(float(x))) for x in probe])
    if not np.all(np.isfinite(values)) or abs(values[0]) > 1e-9 or abs(values[-1] - 1.0) > 1e-9:
        raise ValueError(
            f"`schedule` must map 0 to 0 and 1 to 1 with finite values, got {values[0]!r} and {values[-1]!r}"
        )
    if np.any(np.diff(values) < -1e-12):
        raise ValueError("`schedule` must never decrease: spend cannot be taken back")
    return schedule


def schedule_from_history(times: ArrayLike, tokens: ArrayLike, period: float) -> Schedule:
    """A schedule that spends as a past period did.

    Parameters
    ----------
    times : array_like, shape (m,)
        When each past grant was made, in seconds from the start of its period (0 to ``period``).
    tokens : array_like, shape (m,)
        Tokens of each grant (>= 0, not all 0), e.g. a hindsight allocation of that period.
    period : float
        Length of the period in seconds.

    Returns
    -------
    callable
        Piecewise-linear cumulative share of the tokens by time fraction.
    """
    period = as_seconds("period", period)
    moments = as_float_array("times", times, minimum=0.0)
    amounts = as_float_array("tokens", tokens, len(moments), minimum=0.0)
    if np.any(moments > period):
        raise ValueError(f"`times` must lie within the period (<= {period:g}), got {moments.max():g}")
    total = float(amounts.sum())
    if total <= 0:
        raise ValueError("`tokens` must not all be 0: an empty history has no shape to follow")
    order = np.argsort(moments, kind="stable")
    knots = np.concatenate([[0.0], moments[order] / period, [1.0]])
    share = np.concatenate([[0.0], np.cumsum(amounts[order]) / total, [1.0]])

    def schedule(fraction: float) -> float:
        return float(np.interp(min(max(fraction, 0.0), 1.0), knots, share))

    return schedule
