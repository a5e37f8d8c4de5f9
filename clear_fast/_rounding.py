"""From a continuous allocation to whole tokens, never above the budget.

Each funded grant is rounded down (staying within its integer bounds), then
the tokens this frees go, one at a time, to the funded queries whose utility
rises most from one more token, in as many passes as it takes; what no funded
query can use funds an abandoned query it is worth something to. If raising a grant to its integer minimum
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
from .pricing import integer_bounds, utility_of, whole_peak


def _top(values: NDArray[np.float64], count: int) -> NDArray[np.intp]:
    """Positions of the ``count`` largest values (in no particular order); of equal values, the first positions.

    The tie rule makes the answer a function of the data alone (not of the
    selection algorithm), so a partitioned run can reproduce it: a value at the
    cut is taken before an equal one at a later position.
    """
    if count >= values.shape[0]:
        return np.arange(values.shape[0])
    if count <= 0:
        return np.zeros(0, dtype=np.intp)
    picked = np.argpartition(-values, count - 1)[:count]
    cut = values[picked].min()
    if np.count_nonzero(values[picked] == cut) == np.count_nonzero(values == cut):
        return picked  # no value equal to the cut was left out: the tie rule changes nothing
    above = np.flatnonzero(values > cut)
    return np.concatenate((above, np.flatnonzero(values == cut)[: count - above.shape[0]]))


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
        return finish_leftover(curves, grants, budget, float(values.sum()))
    if leftover > 0:
        best = _top(gains, min(leftover, gains.shape[0]))
        best = best[gains[best] > 0]  # a token that lowers utility (past a surge's peak) stays unspent
        tokens[best] += 1
        value += float(gains[best].sum())
        leftover -= best.shape[0]
    if leftover > 0:  # fewer grants gained from one more token than tokens were left: more passes
        return finish_leftover(curves, tokens.astype(np.int64), budget, float(value))
    return tokens.astype(np.int64), float(value)


def finish_leftover(
    curves: SurgeCurves, tokens: NDArray[np.int64], budget: int, value: float
) -> tuple[NDArray[np.int64], float]:
    """:func:`spend_leftover` on grants worth ``value``: the grants and their utility after it."""
    spent = spend_leftover(curves, tokens, budget)
    if np.array_equal(spent, tokens):
        return tokens, value
    funded = np.flatnonzero(spent)
    return spent, float(utility_of(curves, funded, spent[funded].astype(np.float64)).sum())


def _gains_of(curves: SurgeCurves, ids: NDArray[np.intp], tokens: NDArray[np.float64]) -> NDArray[np.float64]:
    """Utility one more token adds to each grant at ``ids`` (-inf at its cap)."""
    out = np.empty(ids.shape[0])
    _kernel.kernel.unit_gains(
        curves.form_code, np.ascontiguousarray(curves.tau[ids]), np.ascontiguousarray(curves.scale[ids]),
        np.ascontiguousarray(curves.beta[ids]), np.ascontiguousarray(curves.max_tokens[ids]),
        np.ascontiguousarray(tokens), out,
    )
    return out


def spend_leftover(curves: SurgeCurves, tokens: NDArray[np.int64], budget: int) -> NDArray[np.int64]:
    """Hand out the tokens ``tokens`` leaves unspent, while any of them raises utility.

    Passes of one more token to each funded grant it raises, largest gains
    first, until the leftover is spent or no grant gains; then the leftover
    funds the abandoned query it is worth most to (that query's best grant
    within the leftover), and the passes resume. Afterwards no unspent token
    can raise utility: each curve rises to at most one peak, so a grant that
    does not gain from one more token gains from no number of them, and no
    abandoned query is worth anything with what is left.
    """
    grants = tokens.astype(np.float64)
    leftover = budget - int(grants.sum())
    active = np.flatnonzero(grants > 0)
    while leftover > 0:
        active, leftover = one_more_token_passes(curves, grants, active, leftover)
        if leftover <= 0:
            break
        best, grant, value = best_idle(curves, grants, leftover)
        if not value > 0:
            break
        grants[best] = grant
        leftover -= int(grant)
        active = np.array([best], dtype=np.intp)
    return grants.astype(np.int64)


def one_more_token_passes(
    curves: SurgeCurves, grants: NDArray[np.float64], active: NDArray[np.intp], leftover: int
) -> tuple[NDArray[np.intp], int]:
    """Passes of one more token to the grants at ``active`` (ascending) it raises, largest gains first.

    Each pass keeps, of ``active``, the grants the token raises (the ``leftover``
    largest gains when more do); they get one token each and are the next
    pass's ``active``. Changes ``grants`` in place; returns the last pass's
    ``active`` and the tokens still left.
    """
    while leftover > 0 and active.shape[0]:
        gains = _gains_of(curves, active, grants[active])
        positive = gains > 0
        active, gains = active[positive], gains[positive]
        if active.shape[0] > leftover:
            active = np.sort(active[_top(gains, leftover)])
        grants[active] += 1.0
        leftover -= active.shape[0]
    return active, leftover


def best_idle(curves: SurgeCurves, grants: NDArray[np.float64], leftover: int) -> tuple[int, float, float]:
    """The abandoned query ``leftover`` tokens are worth most to: its position, best grant within them, and value.

    The first such query on equal values; ``(-1, 0, 0)`` when none can be funded with them.
    """
    lower, upper = integer_bounds(curves)
    idle = np.flatnonzero((grants == 0) & (lower <= np.minimum(upper, leftover)) & (curves.scale > 0))
    best, grant, value = best_single(curves, leftover, idle)
    return best, float(grant), value


def best_single(curves: SurgeCurves, budget: int, ids: NDArray[np.intp]) -> tuple[int, int, float]:
    """Of the queries at ``ids``, the one worth most given ``budget`` tokens: its position, grant and value.

    Each query's best whole-token grant within the budget; the first such
    query on equal values; ``(-1, 0, 0)`` when ``ids`` is empty.
    """
    if ids.shape[0] == 0:
        return -1, 0, 0.0
    grants = np.minimum(whole_peak(curves, ids), float(budget))
    values = utility_of(curves, ids, grants)
    best = int(np.argmax(values))
    return int(ids[best]), int(grants[best]), float(values[best])
