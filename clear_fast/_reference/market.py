"""Market clearing: the twin of clear_fast/_solver/market.pyx.

The problem: maximise ``sum_i u_i(b_i)`` subject to ``sum_i b_i <= budget``,
each ``b_i`` either 0 (abandoned) or in its bounds. Its dual function is
``D(lam) = lam budget + sum_i max(0, max_b u_i(b) - lam b)``; every ``D(lam)``
is an upper bound on the optimum, and the clearing price minimises it. At a
price ``lam`` a query is funded when its break-even price exceeds ``lam``, and
then takes its best grant: market demand is continuous between break-even
prices and jumps down at each. clear_price finds where it meets the budget
(the kernel finds the same point with fewer passes; see market.pyx).
"""

from __future__ import annotations

import enum

from .curve import best_grant, grant_bounds, utility_at
from .market_rows import fill, max_marginal, prefix_demand, prefix_value, solve_prefix


class ClearingKind(enum.IntEnum):
    """How clear_price cleared (the compiled kernel's cpdef enum, value for value)."""

    BRACKET_MISSED = -1  # the price hints did not bracket the price: nothing allocated, retry with every query
    AMPLE = 0  # the budget covers demand at price 0
    CONTINUOUS = 1  # a price where demand meets the budget
    JUMP_OUT = 2  # demand jumps over the budget; the marginal query is left out
    JUMP_IN = 3  # demand jumps over the budget; the marginal query is funded at a higher price


# the position returned when no query is marginal
NO_POSITION = -1


def _dual_value(form, tau, scale, beta, min_tokens, max_tokens, breakeven_price, lam, budget):
    """``lam * budget + sum_i max(0, max_b u_i(b) - lam b)``: an upper bound on the optimum."""
    lower, upper = grant_bounds(tau, min_tokens, max_tokens)
    total = lam * budget
    for i in range(len(tau)):
        if breakeven_price[i] > lam:
            b = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
            surplus = utility_at(form, tau[i], scale[i], beta[i], b) - lam * b
            if surplus > 0.0:
                total += surplus
    return total


def clear_price(form, tau, scale, beta, min_tokens, max_tokens, breakeven_price, order, budget, tokens_out, lo_hint=0.0, hi_hint=0.0):
    """Clear the market: the price, who is funded and their (continuous) grants.

    ``order`` lists the fundable queries by decreasing break-even price.
    Returns ``(kind, price, position, bound)``: the kind of clearing (a ClearingKind),
    the shadow price (the minimiser of the dual function), at a demand jump the
    position in ``order`` of the marginal query (else -1), and the dual value
    at the shadow price (an upper bound on the optimum). ``tokens_out``
    receives each query's continuous grant (0 if not funded).

    Notes
    -----
    Let ``s_j`` be the j-th break-even price, ``F_j`` the demand of the first j
    queries at ``s_j`` and ``G_j = F_j + b_j(s_j)`` that with query j added.
    ``F_0 <= G_0 <= F_1 <= ...`` so the budget falls either in ``[F_j, G_j)``
    (a jump: query j is marginal) or in ``[G_{j-1}, F_j)`` (a continuous
    clearing with the first j funded). The first j with ``F_j > budget`` is
    found by bisection over positions.

    A price bracket ``lo_hint < hi_hint`` narrows the positions to those whose
    break-even price lies inside it; ``order`` then need only list the queries
    above a point below ``lo_hint`` (those above ``hi_hint`` in any order). If
    demand is not above the budget at ``lo_hint`` and within it at ``hi_hint``
    the bracket is wrong: ``ClearingKind.BRACKET_MISSED`` is returned and nothing
    is allocated.
    """
    n = len(tau)
    m = len(order)
    lower, upper = grant_bounds(tau, min_tokens, max_tokens)
    for i in range(n):
        tokens_out[i] = 0.0

    def demand_as_row_joins(j):  # F_j
        if j >= m:
            return prefix_demand(form, tau, scale, beta, lower, upper, order, m, 0.0)[0]
        return prefix_demand(form, tau, scale, beta, lower, upper, order, j, breakeven_price[order[j]])[0]

    def bound_at(lam):
        return _dual_value(form, tau, scale, beta, min_tokens, max_tokens, breakeven_price, lam, budget)

    def count_above(lam):
        return sum(1 for k in range(m) if breakeven_price[order[k]] > lam)

    if m == 0:
        return ClearingKind.AMPLE, 0.0, NO_POSITION, 0.0
    if hi_hint > lo_hint > 0.0:
        c_lo, c_hi = count_above(lo_hint), count_above(hi_hint)
        demand_lo = prefix_demand(form, tau, scale, beta, lower, upper, order, c_lo, lo_hint)[0]
        demand_hi = prefix_demand(form, tau, scale, beta, lower, upper, order, c_hi, hi_hint)[0]
        if demand_lo <= budget or demand_hi > budget or c_lo >= m:
            return ClearingKind.BRACKET_MISSED, 0.0, NO_POSITION, 0.0
        # F_{c_hi - 1} <= demand at hi_hint <= budget < demand at lo_hint <= F_{c_lo}
        lo_j, hi_j = max(c_hi, 1), c_lo
    else:
        total_at_zero = demand_as_row_joins(m)
        if total_at_zero <= budget:
            for k in range(m):
                i = order[k]
                tokens_out[i] = best_grant(form, tau[i], scale[i], beta[i], lower[i], upper[i], 0.0)
            return ClearingKind.AMPLE, 0.0, NO_POSITION, bound_at(0.0)
        lo_j, hi_j = 1, m  # smallest j with F_j > budget (F_0 = 0 <= budget, F_m > budget)
    while lo_j < hi_j:
        mid = (lo_j + hi_j) // 2
        if demand_as_row_joins(mid) > budget:
            hi_j = mid
        else:
            lo_j = mid + 1
    j = lo_j
    p = j - 1
    s_p = breakeven_price[order[p]]
    marginal = order[p]
    grant_p = best_grant(form, tau[marginal], scale[marginal], beta[marginal], lower[marginal], upper[marginal], s_p)
    f_p = demand_as_row_joins(p)
    if budget >= f_p + grant_p:  # continuous clearing with the first j funded
        s_j = breakeven_price[order[j]] if j < m else 0.0
        lam = solve_prefix(form, tau, scale, beta, lower, upper, order, j, budget, s_j, s_p)
        fill(form, tau, scale, beta, lower, upper, order, j, lam, tokens_out)
        return ClearingKind.CONTINUOUS, lam, NO_POSITION, bound_at(lam)

    # a jump at s_p: compare leaving the marginal query out (others take its tokens) with funding it
    lam_out = solve_prefix(form, tau, scale, beta, lower, upper, order, p, budget, 0.0, s_p)
    value_out = prefix_value(form, tau, scale, beta, lower, upper, order, p, lam_out)
    floor_in = sum(lower[order[k]] for k in range(p + 1))
    value_in = -1.0
    if floor_in <= budget:
        # above the largest marginal utility every response sits at its lower bound
        top = max(max_marginal(form, scale[order[k]], beta[order[k]]) for k in range(p + 1))
        lam_in = solve_prefix(form, tau, scale, beta, lower, upper, order, p + 1, budget, s_p, top)
        spent_in = prefix_demand(form, tau, scale, beta, lower, upper, order, p + 1, lam_in)[0]
        if spent_in <= budget * (1.0 + 1e-12):  # a response that jumps to its lower bound can skip the budget
            value_in = prefix_value(form, tau, scale, beta, lower, upper, order, p + 1, lam_in)
    if value_in > value_out:
        fill(form, tau, scale, beta, lower, upper, order, p + 1, lam_in, tokens_out)
        return ClearingKind.JUMP_IN, s_p, p, bound_at(s_p)
    fill(form, tau, scale, beta, lower, upper, order, p, lam_out, tokens_out)
    return ClearingKind.JUMP_OUT, s_p, p, bound_at(s_p)
