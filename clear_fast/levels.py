"""``allocate_levels``: one budget, queries that each pick one discrete effort level.

Providers often take a level (``reasoning_effort`` low / medium / high) rather
than a token count. Each query then chooses one of ``L`` options with a
measured cost and utility, or nothing: a multiple-choice knapsack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_budget, first_bad_index
from . import _kernel


@dataclass(frozen=True, eq=False)
class LevelAllocation:
    """The answer of :func:`allocate_levels`.

    Attributes
    ----------
    level : ndarray of int64, shape (n,)
        Chosen level per query (column of ``costs``), -1 for abandoned.
    tokens : ndarray of int64, shape (n,)
        Cost of the chosen level in whole tokens (0 when abandoned): the cap to send.
        A fractional cost is rounded down; the exact one is ``costs[i, level[i]]``.
    funded : ndarray of bool, shape (n,)
        Queries given a level (``level >= 0``).
    spent : int
        ``sum(tokens)`` (<= the chosen levels' summed costs <= ``budget``).
    utility : float
        Summed utility of the chosen levels.
    upper_bound : float
        The LP relaxation's optimum: no choice of levels within the budget does better.
    gap : float
        ``upper_bound - utility`` (at most one hull increment's utility).
    shadow_price : float
        Utility per token of the first increment that did not fit (0 if all fit).
    budget : int
    """

    level: NDArray[np.int64]
    tokens: NDArray[np.int64]
    utility: float
    upper_bound: float
    gap: float
    shadow_price: float
    budget: int
    spent: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spent", int(self.tokens.sum()))

    @property
    def funded(self) -> NDArray[np.bool_]:
        """Queries given a level."""
        return self.level >= 0


def _as_matrix(name: str, value: ArrayLike) -> NDArray[np.float64]:
    try:
        matrix = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a 2-D array of numbers, got {value!r:.80}") from None
    if matrix.ndim != 2:
        raise ValueError(f"`{name}` must be 2-D, shape (n queries, L levels), got shape {matrix.shape}")
    bad = ~np.isfinite(matrix)
    if bad.any():
        i, l = np.unravel_index(first_bad_index(bad.ravel()), matrix.shape)
        raise ValueError(f"`{name}` must be finite, got {matrix[i, l]} at index ({i}, {l})")
    return matrix


def allocate_levels(costs: ArrayLike, utilities: ArrayLike, budget: int) -> LevelAllocation:
    """Choose one effort level per query (or none) to maximise total utility within a budget.

    Parameters
    ----------
    costs : array_like, shape (n, L)
        Tokens each level costs (>= 0; measured means need not be whole).
    utilities : array_like, shape (n, L)
        Utility of each level (e.g. probability of a correct answer); "nothing"
        has cost 0 and utility 0.
    budget : int
        Total tokens (a whole number >= 0).

    Returns
    -------
    LevelAllocation

    Raises
    ------
    ValueError
        On shape mismatch, NaN/inf, negative costs, or a bad budget.

    Notes
    -----
    Per query, the upper concave hull of its ``(cost, utility)`` points from the
    origin; all hull increments sorted by utility per token; taken greedily while
    they fit (a query whose next increment does not fit stops there). The LP
    relaxation takes the first misfit fractionally: that is the upper bound, and
    the gap is at most one increment. O(n L log(n L)).
    """
    cost = _as_matrix("costs", costs)
    gain = _as_matrix("utilities", utilities)
    if cost.shape != gain.shape:
        raise ValueError(f"`costs` has shape {cost.shape} but `utilities` has shape {gain.shape}; they must match")
    negative = cost < 0
    if negative.any():
        i, l = np.unravel_index(first_bad_index(negative.ravel()), cost.shape)
        raise ValueError(f"`costs` must be >= 0, got {cost[i, l]} at index ({i}, {l})")
    total = as_budget(budget)
    n, levels = cost.shape
    level = np.full(n, -1, dtype=np.int64)
    chosen_cost = np.zeros(n)
    if n == 0 or levels == 0:
        return LevelAllocation(level, np.zeros(n, dtype=np.int64), 0.0, 0.0, 0.0, 0.0, total)

    size = n * levels
    inc_query = np.empty(size, dtype=np.int64)
    inc_level = np.empty(size, dtype=np.int64)
    inc_cost = np.empty(size)
    inc_gain = np.empty(size)
    count = _kernel.kernel.level_hulls(
        np.ascontiguousarray(cost.ravel()), np.ascontiguousarray(gain.ravel()), n, levels,
        inc_query, inc_level, inc_cost, inc_gain,
    )
    inc_query, inc_level = inc_query[:count], inc_level[:count]
    inc_cost, inc_gain = inc_cost[:count], inc_gain[:count]
    with np.errstate(divide="ignore", over="ignore"):  # slopes beyond float range are inf by design
        slope = np.where(inc_cost > 0, inc_gain / np.where(inc_cost > 0, inc_cost, 1.0), np.inf)
    # ties broken by query then hull position, so a query's increments stay in hull order
    order = np.ascontiguousarray(np.lexsort((np.arange(count), -slope)), dtype=np.int64)
    value, bound, price = _kernel.kernel.level_greedy(
        order, inc_query, inc_level, inc_cost, inc_gain, float(total), level, chosen_cost
    )
    bound = max(bound, value)
    # read each chosen cost from the table (the kernel sums hull increments, which can round);
    # rounding it down keeps the whole-token caps within what the budget was checked against
    funded = np.flatnonzero(level >= 0)
    tokens = np.zeros(n, dtype=np.int64)
    tokens[funded] = np.floor(cost[funded, level[funded]])
    return LevelAllocation(level, tokens, float(value), float(bound), float(bound - value), float(price), total)
