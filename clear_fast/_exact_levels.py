"""The exact step of :func:`clear_fast.allocate_levels`: certify the hull greedy, or search the levels.

With a price ``lam`` (the slope of the first hull increment that did not
fit), every choice of levels within the budget is worth at most
``lam B + sum_q max(0, max_l u_ql - lam c_ql)``: the Lagrangian bound, here
equal to the LP relaxation the greedy solves. When the greedy's answer is
within ``max(rtol * utility, lam)`` of it, it is certified. Otherwise the
leftover budget is first spent on the best upgrades (a cheaper level off the
hull may still fit where the next hull step does not), and the queries the
bound cannot settle go to the kernel's ``level_search``: rounds of a
Pareto-front dynamic programme over (cost, value), each restricted to the
levels whose loss ``S_q - (u_ql - lam c_ql)`` is below its threshold (see
:mod:`clear_fast._reference.exact_search`). Costs need not be whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import _exact, _kernel
from ._exact import SEARCH_CAPPED, SEARCH_DONE, SEARCH_SKIPPED, closes, tolerance


@dataclass(frozen=True)
class SettledLevels:
    """What the exact step decided (fields as in :class:`clear_fast.LevelAllocation`)."""

    level: NDArray[np.int64]
    utility: float
    upper_bound: float
    optimal: bool
    search: str
    tolerance: float


def _value(level: NDArray[np.int64], utility: NDArray[np.float64]) -> float:
    rows = np.flatnonzero(level >= 0)
    return float(utility[rows, level[rows]].sum())


def upgrade(level: NDArray[np.int64], cost: NDArray[np.float64], utility: NDArray[np.float64], budget: float) -> NDArray[np.int64]:
    """Spend what ``level`` leaves of the budget on the best upgrades, one at a time, while any fits.

    An upgrade moves one query to a level worth more (from nothing, too) whose
    extra cost fits in what is left; the one that adds the most utility goes
    first. Afterwards no unspent token can raise utility by changing one query.
    """
    level = level.copy()
    rows = np.arange(level.shape[0])
    for _ in range(level.shape[0] * cost.shape[1]):  # each upgrade raises a query's utility: finitely many
        chosen = level >= 0
        now_cost = np.where(chosen, cost[rows, np.maximum(level, 0)], 0.0)
        now_value = np.where(chosen, utility[rows, np.maximum(level, 0)], 0.0)
        left = budget - float(now_cost.sum())
        extra = cost - now_cost[:, None]
        gain = np.where((extra <= left) & (utility > now_value[:, None]), utility - now_value[:, None], -np.inf)
        if gain.size == 0:
            break
        best = int(np.argmax(gain))
        if not gain.flat[best] > 0:
            break
        level[best // cost.shape[1]] = best % cost.shape[1]
    return level


def _single_option(cost: NDArray[np.float64], utility: NDArray[np.float64], budget: float) -> NDArray[np.int64]:
    """The best answer that funds one query: its most valuable level that fits the budget."""
    level = np.full(cost.shape[0], -1, dtype=np.int64)
    worth = np.where(cost <= budget, utility, -np.inf)
    best = int(np.argmax(worth))
    if worth.size and worth.flat[best] > 0:
        level[best // cost.shape[1]] = best % cost.shape[1]
    return level


def settle_levels(
    cost: NDArray[np.float64],
    utility: NDArray[np.float64],
    budget: float,
    level: NDArray[np.int64],
    price: float,
    bound: float,
    rtol: float,
    max_cells: float | None = None,
) -> SettledLevels:
    """Certify ``level`` (the greedy's answer, ``bound`` its LP bound at ``price``) or search for better."""
    achieved = _value(level, utility)
    if closes(bound, achieved, tolerance(rtol, achieved, price)):
        return SettledLevels(level, achieved, bound, True, SEARCH_SKIPPED, tolerance(rtol, achieved, price))
    for candidate in (upgrade(level, cost, utility, budget), upgrade(_single_option(cost, utility, budget), cost, utility, budget)):
        value = _value(candidate, utility)
        if value > achieved:
            level, achieved = candidate, value
    tol = tolerance(rtol, achieved, price)
    if closes(bound, achieved, tol):
        return SettledLevels(level, achieved, bound, True, SEARCH_SKIPPED, tol)

    usable = (utility > 0) & (cost <= budget)
    surplus = np.where(usable, utility - price * cost, -np.inf)
    best_funded = surplus.max(axis=1)
    peak = np.maximum(best_funded, 0.0)
    upper = price * budget + float(peak.sum())
    if closes(upper, achieved, tol):  # the bound over every level, not just the hull's, certifies it
        return SettledLevels(level, achieved, min(bound, max(upper, achieved)), True, SEARCH_SKIPPED, tol)
    widest = upper - achieved - tol
    rows = np.flatnonzero(peak - best_funded < widest + 1e-10 * abs(upper))
    # a canonical order, by the queries' options (not their positions)
    rows = rows[np.lexsort(np.concatenate((cost[rows].T, utility[rows].T))[::-1])] if rows.shape[0] else rows
    starts, option_rows, option_levels = [0], [], []
    for r in rows:
        levels = np.flatnonzero(usable[r])
        levels = levels[np.lexsort((levels, cost[r, levels]))]
        option_rows.append(np.full(levels.shape[0], r))
        option_levels.append(levels)
        starts.append(starts[-1] + levels.shape[0])
    flat_rows = np.concatenate(option_rows) if option_rows else np.zeros(0, dtype=np.int64)
    flat_levels = np.concatenate(option_levels) if option_levels else np.zeros(0, dtype=np.int64)
    chosen = np.full(rows.shape[0], -1, dtype=np.int64)
    code, value, proven, _, _ = _kernel.kernel.level_search(
        np.array(starts, dtype=np.int64), np.ascontiguousarray(cost[flat_rows, flat_levels]),
        np.ascontiguousarray(utility[flat_rows, flat_levels]), float(budget), price, upper, achieved, rtol,
        float(_exact.WORK_CAP if max_cells is None else max_cells), chosen,
    )
    if value > achieved:
        better = np.full(level.shape[0], -1, dtype=np.int64)
        picked = chosen >= 0
        better[rows[picked]] = flat_levels[chosen[picked]]
        level = upgrade(better, cost, utility, budget)
        achieved = _value(level, utility)
    proven = min(bound, max(proven, achieved))
    tol = tolerance(rtol, achieved, price)
    status = SEARCH_CAPPED if code == _kernel.kernel.SearchStatus.CAPPED else SEARCH_DONE
    return SettledLevels(level, achieved, proven, closes(proven, achieved, tol), status, tol)

