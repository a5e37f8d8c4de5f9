"""From a continuous allocation to whole tokens, never above the budget.

Each funded grant is rounded down (staying within its integer bounds), then
the tokens this frees go, one at a time, to the funded queries whose utility
rises most from one more token. If raising a grant to its integer minimum
overspent (possible only when a continuous grant sat between a fractional
threshold and the next whole token), tokens are taken back where they cost
the least utility, and as a last resort the least valuable funded queries are
dropped. The result never exceeds the budget.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from . import _kernel
from .curves import SurgeCurves
from .pricing import integer_bounds, utility_of


def _top(values: NDArray[np.float64], count: int) -> NDArray[np.intp]:
    """Positions of the ``count`` largest values (in no particular order)."""
    if count >= values.shape[0]:
        return np.arange(values.shape[0])
    return np.argpartition(-values, count - 1)[:count]


def round_grants(
    curves: SurgeCurves, continuous: NDArray[np.float64], budget: int, *, below_lower: bool = False
) -> NDArray[np.int64]:
    """Whole-token grants close to ``continuous`` with ``sum <= budget``.

    The kernel's grants already lie within each query's whole-token bounds;
    ``below_lower`` says they may not (the shared path puts ``tau + x`` with a
    fractional ``tau``), and then grants are raised to ``ceil(tau)`` first.
    """
    funded = continuous > 0
    # 1e-9 absorbs the solver's tolerance: a grant of 199.9999999999 is 200 tokens
    tokens = np.floor(continuous + 1e-9)
    if below_lower:
        np.maximum(tokens, np.ceil(curves.lower), out=tokens, where=funded)

    excess = int(tokens.sum()) - budget
    if excess > 0:
        lower = integer_bounds(curves)[0]
    while excess > 0:
        ids = np.flatnonzero(funded & (tokens > lower))
        if ids.shape[0] == 0:
            ids = np.flatnonzero(funded)
            value = utility_of(curves, ids, tokens[ids])
            drop = ids[int(np.argmin(value / np.maximum(tokens[ids], 1.0)))]
            funded[drop] = False
            tokens[drop] = 0.0
        else:
            loss = utility_of(curves, ids, tokens[ids]) - utility_of(curves, ids, tokens[ids] - 1)
            take = ids[_top(-loss, min(excess, ids.shape[0]))]
            tokens[take] -= 1
        excess = int(tokens.sum()) - budget

    gain = np.empty(len(curves))
    for _ in range(4):  # each pass gives at most one token per query; flooring lost less than one each
        leftover = budget - int(tokens.sum())
        if leftover <= 0:
            break
        _kernel.kernel.unit_gains(curves.form_code, curves.tau, curves.scale, curves.beta, curves.max_tokens, tokens, gain)
        ids = np.flatnonzero(gain > 0)
        if ids.shape[0] == 0:
            break
        tokens[ids[_top(gain[ids], min(leftover, ids.shape[0]))]] += 1
    return tokens.astype(np.int64)


def round_market_grants(
    curves: SurgeCurves, continuous: NDArray[np.float64], budget: int
) -> tuple[NDArray[np.int64], float]:
    """``round_grants`` for the kernel's market grants (within their bounds), with their total utility.

    One kernel pass floors the grants and prices one more token for each; the
    freed tokens go to the largest gains, and the utility follows from the
    same numbers without another pass over the curves.
    """
    tokens = np.empty(len(curves))
    gains = np.empty(len(curves))
    spent, value = _kernel.kernel.floor_grants(
        curves.form_code, curves.tau, curves.scale, curves.beta, curves.max_tokens, continuous, tokens, gains
    )
    leftover = budget - int(spent)
    if leftover < 0:  # float tolerance overspent: the general rounding takes tokens back
        grants = round_grants(curves, continuous, budget)
        values = np.empty(len(curves))
        _kernel.kernel.utility(curves.form_code, curves.tau, curves.scale, curves.beta, grants.astype(np.float64), values)
        return grants, float(values.sum())
    if leftover > 0:
        best = _top(gains, min(leftover, gains.shape[0]))
        best = best[gains[best] > 0]  # a token that lowers utility (past a surge's peak) stays unspent
        tokens[best] += 1
        value += float(gains[best].sum())
    return tokens.astype(np.int64), float(value)
