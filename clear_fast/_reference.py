"""Pure-Python twin of the compiled kernel: the executable specification.

Every entry point of ``clear_fast/_solver.pyx`` exists here with the same name,
arguments and results, written to be read rather than to be fast (plain loops
over ``math``). The test suite holds the compiled kernel to this file, and
``CLEAR_FAST_PUREPYTHON=1`` runs the whole library on it.

Conventions shared with the kernel
----------------------------------
* ``form`` is 0 for the shifted surge and 1 for the cumulative surge.
* ``scale`` is ``weight * alpha`` (the weighted slope at onset), ``x = b - tau``.
* Entry points take each query's ``min_tokens`` and ``max_tokens``; a funded
  grant lies in ``[lower, upper] = [ceil(max(tau, min_tokens)), floor(max_tokens)]``
  (``upper`` may be inf).
* Inputs are trusted: validation happens in the Python layer.

The mathematics (see docs in clear-math terms)
----------------------------------------------
Surge ``u(x) = a x exp(-beta x)``; cumulative ``u(x) = a/beta^2 (1 - (1 + beta x) exp(-beta x))``.
The best grant at a price ``lam`` maximises ``u(b - tau) - lam b`` over ``[lower, upper]``:

* surge: ``x = (1 - W0(e lam / a)) / beta`` for ``lam < a`` (0 beyond), clipped;
* cumulative: the concave-side root ``x = -W_{-1}(-lam beta / a) / beta`` for
  ``lam < a/(beta e)``, compared with the left end ``lower``.

The break-even price is the steepest ray from the origin that touches the curve,
``max_b u(b - tau)/b`` over the bounds: above it the best surplus is negative and
the query is abandoned.
"""

from __future__ import annotations

import math

SURGE = 0
CUMULATIVE = 1

_INV_E = math.exp(-1.0)
# 1/e split in two doubles: near the branch point z + 1/e is computed exactly (Sterbenz) before the
# tiny correction, so W keeps full accuracy where the naive e*z + 1 would cancel away its digits.
_INV_E_LO = -1.2428753672788363e-17

# status codes returned by clear_price (kind of market clearing)
CLEAR_AMPLE = 0  # budget covers demand at price 0
CLEAR_CONTINUOUS = 1  # a price where demand equals the budget
CLEAR_JUMP_OUT = 2  # demand jumps over the budget; marginal query left out
CLEAR_JUMP_IN = 3  # demand jumps over the budget; marginal query funded at a higher price


# ---------------------------------------------------------------------------------------------
# Lambert W
# ---------------------------------------------------------------------------------------------


def _halley(w: float, z: float) -> float:
    """Refine ``w`` to solve ``w exp(w) = z`` by Halley's method."""
    for _ in range(30):
        ew = math.exp(w)
        f = w * ew - z
        wp1 = w + 1.0
        if wp1 == 0.0:
            return w
        denominator = ew * wp1 - (w + 2.0) * f / (2.0 * wp1)
        if denominator == 0.0:
            return w
        step = f / denominator
        w -= step
        if abs(step) <= 1e-15 * (1.0 + abs(w)):
            break
    return w


def _branch_series(p: float) -> float:
    """W near the branch point as a series in ``p = +-sqrt(2 (e z + 1))`` (error ~ p^6)."""
    return -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0 + p * 769.0 / 17280.0))))


def lambert_w0_scalar(z: float) -> float:
    """Principal branch W0 on ``[-1/e, inf)``."""
    if z == 0.0:
        return 0.0
    delta = (z + _INV_E) + _INV_E_LO
    if delta <= 0.0:
        return -1.0
    q = 2.0 * math.e * delta
    if q < 1e-6:  # p < 1e-3: the series alone is exact to double precision
        return _branch_series(math.sqrt(q))
    if q < 0.5:  # near the branch point: start from the series
        w = _branch_series(math.sqrt(q))
    elif z < 3.0:
        lz = math.log1p(z)
        w = lz * (1.0 - math.log1p(lz) / (2.0 + lz))
    else:
        l1 = math.log(z)
        l2 = math.log(l1)
        w = l1 - l2 + l2 / l1
    return _halley(w, z)


def lambert_wm1_scalar(z: float) -> float:
    """Lower branch W_{-1} on ``[-1/e, 0)``."""
    if z >= 0.0:  # the limit at 0- (reached when -price * beta / a underflows)
        return -math.inf
    delta = (z + _INV_E) + _INV_E_LO
    if delta <= 0.0:
        return -1.0
    q = 2.0 * math.e * delta
    if q < 1e-6:
        return _branch_series(-math.sqrt(q))
    if q < 0.5:
        w = _branch_series(-math.sqrt(q))
    else:
        l1 = math.log(-z)
        l2 = math.log(-l1)
        w = l1 - l2 + l2 / l1
        if z > -1e-290:  # e^w would be subnormal: Newton on log(-w) + w = log(-z) instead
            for _ in range(20):
                step = (math.log(-w) + w - l1) / (1.0 + 1.0 / w)
                w -= step
                if abs(step) <= 1e-15 * abs(w):
                    break
            return w
    return _halley(w, z)


def lambert_w(z, branch, out):
    """Write ``W_branch(z[i])`` into ``out[i]`` (branch 0 or -1)."""
    scalar = lambert_w0_scalar if branch == 0 else lambert_wm1_scalar
    for i in range(len(z)):
        out[i] = scalar(z[i])


# ---------------------------------------------------------------------------------------------
# One query
# ---------------------------------------------------------------------------------------------


def _u(form: int, a: float, beta: float, x: float) -> float:
    """Utility ``x`` tokens past the threshold."""
    if x <= 0.0:
        return 0.0
    if form == SURGE:
        return a * x * math.exp(-beta * x)
    y = beta * x
    return a / (beta * beta) * (-math.expm1(-y) - y * math.exp(-y))


def _u_at(form, tau, a, beta, b):
    if math.isinf(b):
        return a / (beta * beta) if form == CUMULATIVE else 0.0
    return _u(form, a, beta, b - tau)


def _response(form, tau, a, beta, lower, upper, lam):
    """Best grant in ``[lower, upper]`` at price ``lam`` (ignoring the option to abandon)."""
    if form == SURGE:
        if lam >= a:
            x = 0.0
        else:
            x = (1.0 - lambert_w0_scalar(math.e * lam / a)) / beta
        return min(max(tau + x, lower), upper)
    if lam <= 0.0:
        return upper
    z = -lam * beta / a
    if z <= -_INV_E:
        return lower
    b = min(max(tau - lambert_wm1_scalar(z) / beta, lower), upper)
    # The cumulative curve is convex before its inflection, so the left end can beat the concave-side
    # root; it is taken only when it is worth funding at this price. When nothing is (a query forced in
    # above its break-even price), the concave-side root is the one that satisfies the optimality conditions.
    surplus_lower = _u_at(form, tau, a, beta, lower) - lam * lower
    if b > lower and surplus_lower > 0.0 and surplus_lower > _u_at(form, tau, a, beta, b) - lam * b:
        return lower
    return b


def _response_slope(form, tau, a, beta, lower, upper, lam, b):
    """d b / d lam at an interior best response (0 where a bound binds)."""
    if lam <= 0.0 or b <= lower or b >= upper:
        return 0.0
    if form == SURGE:
        if lam >= a:
            return 0.0
        w = lambert_w0_scalar(math.e * lam / a)
    else:
        w = lambert_wm1_scalar(-lam * beta / a)
    if w == -1.0:
        return 0.0
    return -w / (lam * beta * (1.0 + w))


def _tangent_point(form, tau, beta):
    """Unconstrained tokens where the ray from the origin touches the curve."""
    t = beta * tau
    if form == SURGE:
        w_bar = 1.0 / (1.0 + 0.5 * t + math.sqrt(t + 0.25 * t * t))
        return tau + (1.0 - w_bar) / beta
    # cumulative: solve exp(y) = 1 + y + y^2 + t y for y > 1 (Newton on phi(y) = y - log(...))
    y = 2.0 + 1.5 * math.log1p(t)
    for _ in range(100):
        g = 1.0 + y + y * y + t * y
        phi = y - math.log(g)
        dphi = 1.0 - (1.0 + 2.0 * y + t) / g
        step = phi / dphi
        y_next = y - step
        if y_next <= 1.0:
            y_next = 0.5 * (y + 1.0)
        if abs(y_next - y) <= 1e-14 * y:
            y = y_next
            break
        y = y_next
    return tau + y / beta


def _breakeven_one(form, tau, a, beta, lower, upper):
    if lower > upper or a <= 0.0:
        return 0.0, 0.0
    b = min(max(_tangent_point(form, tau, beta), lower), upper)
    if b <= 0.0:  # only the surge with tau = 0 and no minimum: the ray's slope is the onset slope
        return a, 0.0
    return _u_at(form, tau, a, beta, b) / b, b


# ---------------------------------------------------------------------------------------------
# Vector entry points
# ---------------------------------------------------------------------------------------------


def utility(form, tau, scale, beta, tokens, out):
    """``out[i] = u_i(tokens[i])`` (0 below the threshold)."""
    for i in range(len(tau)):
        out[i] = _u_at(form, tau[i], scale[i], beta[i], tokens[i])


def _bounds(tau, min_tokens, max_tokens):
    """Whole-token bounds of the funded grants: ``ceil(max(tau, min_tokens))`` and ``floor(max_tokens)``."""
    lower = [float(math.ceil(max(t, lo))) for t, lo in zip(tau, min_tokens)]
    upper = [math.inf if math.isinf(hi) else float(math.floor(hi)) for hi in max_tokens]
    return lower, upper


def breakeven(form, tau, scale, beta, min_tokens, max_tokens, price_out, tangent_out):
    """Break-even price and the tokens where it is reached, per query (0, 0 if never fundable)."""
    lower, upper = _bounds(tau, min_tokens, max_tokens)
    for i in range(len(tau)):
        price_out[i], tangent_out[i] = _breakeven_one(form, tau[i], scale[i], beta[i], lower[i], upper[i])


def demand(form, tau, scale, beta, min_tokens, max_tokens, be, lam, tokens_out):
    """Best responses at price ``lam`` of the queries whose break-even price exceeds it.

    Returns ``(total, slope)``: summed demand and its derivative in ``lam``.
    """
    lower, upper = _bounds(tau, min_tokens, max_tokens)
    total = 0.0
    slope = 0.0
    for i in range(len(tau)):
        if be[i] > lam:
            b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
            tokens_out[i] = b
            total += b
            slope += _response_slope(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, b)
        else:
            tokens_out[i] = 0.0
    return total, slope


def _dual_value(form, tau, scale, beta, min_tokens, max_tokens, be, lam, budget):
    """``lam * budget + sum_i max(0, max_b u_i(b) - lam b)``: an upper bound on the optimum."""
    lower, upper = _bounds(tau, min_tokens, max_tokens)
    total = lam * budget
    for i in range(len(tau)):
        if be[i] > lam:
            b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
            surplus = _u_at(form, tau[i], scale[i], beta[i], b) - lam * b
            if surplus > 0.0:
                total += surplus
    return total


def _prefix_demand(form, tau, scale, beta, lower, upper, order, count, lam):
    """Summed best responses of the first ``count`` queries in ``order`` at ``lam`` (no abandonment)."""
    total = 0.0
    slope = 0.0
    for k in range(count):
        i = order[k]
        b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
        total += b
        slope += _response_slope(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, b)
    return total, slope


def _solve_prefix(form, tau, scale, beta, lower, upper, order, count, budget, lo, hi):
    """Price in ``[lo, hi]`` where the first ``count`` queries demand ``budget`` (demand falls in price).

    Safeguarded Newton in log-price from ``hi``; returns the price with demand
    <= budget nearest the crossing.
    """
    if lo == 0.0 and _prefix_demand(form, tau, scale, beta, lower, upper, order, count, 0.0)[0] <= budget:
        return 0.0
    lam = hi
    for _ in range(400):
        total, slope = _prefix_demand(form, tau, scale, beta, lower, upper, order, count, lam)
        if total > budget:
            lo = lam
        else:
            hi = lam
            if budget - total <= 1e-9 * max(budget, 1.0):
                return lam
        if hi - lo <= 1e-15 * hi:
            return hi
        candidate = -1.0
        if slope < 0.0 and lam > 0.0:  # (the exponent is capped where C's exp would return inf)
            candidate = lam * math.exp(min(700.0, -(total - budget) / (lam * slope)))
        if lo < candidate < hi:
            lam = candidate
        elif lo > 0.0:
            lam = math.sqrt(lo * hi)
        else:
            lam = hi * 1e-4
    return hi


def clear_price(form, tau, scale, beta, min_tokens, max_tokens, be, order, budget, tokens_out, lo_hint=0.0, hi_hint=0.0):
    """Clear the market: the price, who is funded and their (continuous) grants.

    ``order`` lists the fundable queries by decreasing break-even price.
    Returns ``(kind, price, position, bound)``: the kind of clearing (CLEAR_*),
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
    the bracket is wrong: kind -1 is returned and nothing is allocated.
    """
    n = len(tau)
    m = len(order)
    lower, upper = _bounds(tau, min_tokens, max_tokens)
    for i in range(n):
        tokens_out[i] = 0.0

    def f_at(j):
        if j >= m:
            return _prefix_demand(form, tau, scale, beta, lower, upper, order, m, 0.0)[0]
        return _prefix_demand(form, tau, scale, beta, lower, upper, order, j, be[order[j]])[0]

    def bound_at(lam):
        return _dual_value(form, tau, scale, beta, min_tokens, max_tokens, be, lam, budget)

    def count_above(lam):
        return sum(1 for k in range(m) if be[order[k]] > lam)

    if m == 0:
        return CLEAR_AMPLE, 0.0, -1, 0.0
    if hi_hint > lo_hint > 0.0:
        c_lo, c_hi = count_above(lo_hint), count_above(hi_hint)
        demand_lo = _prefix_demand(form, tau, scale, beta, lower, upper, order, c_lo, lo_hint)[0]
        demand_hi = _prefix_demand(form, tau, scale, beta, lower, upper, order, c_hi, hi_hint)[0]
        if demand_lo <= budget or demand_hi > budget or c_lo >= m:
            return -1, 0.0, -1, 0.0
        # F_{c_hi - 1} <= demand at hi_hint <= budget < demand at lo_hint <= F_{c_lo}
        lo_j, hi_j = max(c_hi, 1), c_lo
    else:
        total_at_zero = f_at(m)
        if total_at_zero <= budget:
            for k in range(m):
                i = order[k]
                tokens_out[i] = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], 0.0)
            return CLEAR_AMPLE, 0.0, -1, bound_at(0.0)
        lo_j, hi_j = 1, m  # smallest j with F_j > budget (F_0 = 0 <= budget, F_m > budget)
    while lo_j < hi_j:
        mid = (lo_j + hi_j) // 2
        if f_at(mid) > budget:
            hi_j = mid
        else:
            lo_j = mid + 1
    j = lo_j
    p = j - 1
    s_p = be[order[p]]
    q = order[p]
    b_q = _response(form, tau[q], scale[q], beta[q], lower[q], upper[q], s_p)
    f_p = f_at(p)
    if budget >= f_p + b_q:  # continuous clearing with the first j funded
        s_j = be[order[j]] if j < m else 0.0
        lam = _solve_prefix(form, tau, scale, beta, lower, upper, order, j, budget, s_j, s_p)
        _fill(form, tau, scale, beta, lower, upper, order, j, lam, tokens_out)
        return CLEAR_CONTINUOUS, lam, -1, bound_at(lam)

    # a jump at s_p: compare leaving query q out (others take its tokens) with funding it
    lam_out = _solve_prefix(form, tau, scale, beta, lower, upper, order, p, budget, 0.0, s_p)
    value_out = _prefix_value(form, tau, scale, beta, lower, upper, order, p, lam_out)
    floor_in = sum(lower[order[k]] for k in range(p + 1))
    value_in = -1.0
    if floor_in <= budget:
        # above the largest marginal utility every response sits at its lower bound
        top = max(_max_marginal(form, scale[order[k]], beta[order[k]]) for k in range(p + 1))
        lam_in = _solve_prefix(form, tau, scale, beta, lower, upper, order, p + 1, budget, s_p, top)
        spent_in = _prefix_demand(form, tau, scale, beta, lower, upper, order, p + 1, lam_in)[0]
        if spent_in <= budget * (1.0 + 1e-12):  # a response that jumps to its lower bound can skip the budget
            value_in = _prefix_value(form, tau, scale, beta, lower, upper, order, p + 1, lam_in)
    if value_in > value_out:
        _fill(form, tau, scale, beta, lower, upper, order, p + 1, lam_in, tokens_out)
        return CLEAR_JUMP_IN, s_p, p, bound_at(s_p)
    _fill(form, tau, scale, beta, lower, upper, order, p, lam_out, tokens_out)
    return CLEAR_JUMP_OUT, s_p, p, bound_at(s_p)


def floor_grants(form, tau, scale, beta, max_tokens, continuous, tokens_out, gains_out):
    """Round funded grants down; returns ``(spent, utility)`` and each grant's gain from one more token.

    ``gains_out`` is -inf for unfunded queries and for grants at their cap.
    """
    spent = value = 0.0
    for i in range(len(tau)):
        if continuous[i] > 0.0:
            t = float(math.floor(continuous[i] + 1e-9))
            u = _u_at(form, tau[i], scale[i], beta[i], t)
            tokens_out[i] = t
            spent += t
            value += u
            gains_out[i] = _u_at(form, tau[i], scale[i], beta[i], t + 1.0) - u if t + 1.0 <= max_tokens[i] else -math.inf
        else:
            tokens_out[i] = 0.0
            gains_out[i] = -math.inf
    return spent, value


def unit_gains(form, tau, scale, beta, max_tokens, tokens, out):
    """``out[i] = u_i(tokens[i] + 1) - u_i(tokens[i])`` for funded grants below their cap, else -inf."""
    for i in range(len(tau)):
        if tokens[i] > 0.0 and tokens[i] + 1.0 <= max_tokens[i]:
            out[i] = _u_at(form, tau[i], scale[i], beta[i], tokens[i] + 1.0) - _u_at(
                form, tau[i], scale[i], beta[i], tokens[i]
            )
        else:
            out[i] = -math.inf


def _max_marginal(form, a, beta):
    """Largest marginal utility of a curve: a for the surge (at onset), a/(beta e) for the cumulative."""
    return a if form == SURGE else a / (beta * math.e)


def _prefix_value(form, tau, scale, beta, lower, upper, order, count, lam):
    total = 0.0
    for k in range(count):
        i = order[k]
        b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)
        total += _u_at(form, tau[i], scale[i], beta[i], b)
    return total


def _fill(form, tau, scale, beta, lower, upper, order, count, lam, tokens_out):
    for k in range(count):
        i = order[k]
        tokens_out[i] = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam)


# ---------------------------------------------------------------------------------------------
# Shared parameters: every funded query gets the same increment x above its own tau
# ---------------------------------------------------------------------------------------------


def _x_peak(form, beta):
    return 1.0 / beta if form == SURGE else math.inf


def shared_scan(form, tau_sorted, a, beta, budget):
    """Best number ``k`` of easiest queries to fund and their common increment ``x``.

    With shared parameters the funded set is the ``k`` smallest thresholds and
    each gets ``x = min(x_peak, (budget - sum of their tau) / k)``; scanning ``k``
    with a running prefix sum finds the best in O(n). Returns ``(k, x)``.
    """
    best_value = 0.0
    best_k = 0
    best_x = 0.0
    prefix = 0.0
    x_peak = _x_peak(form, beta)
    for k in range(1, len(tau_sorted) + 1):
        prefix += tau_sorted[k - 1]
        remaining = budget - prefix
        if remaining <= 0.0:
            break
        x = min(x_peak, remaining / k)
        value = k * _u(form, a, beta, x)
        if value > best_value:
            best_value, best_k, best_x = value, k, x
    return best_k, best_x


def shared_round(form, tau, a, beta, x, tokens_out, gains_out):
    """Whole grants ``floor(tau + x)`` (at least ``ceil(tau)``) and the gain of one more token; returns their sum."""
    total = 0.0
    for i in range(len(tau)):
        t = max(float(math.floor(tau[i] + x + 1e-9)), float(math.ceil(tau[i])))
        tokens_out[i] = t
        total += t
        gains_out[i] = _u(form, a, beta, t + 1.0 - tau[i]) - _u(form, a, beta, t - tau[i])
    return total


def shared_value(form, tau, a, beta, tokens):
    """Summed utility of grants ``tokens`` for queries sharing ``a`` and ``beta``."""
    return sum(_u(form, a, beta, tokens[i] - tau[i]) for i in range(len(tau)))


def _shared_threshold(form, a, beta, lam):
    """Largest tau still funded at price ``lam`` (shared parameters), and the increment ``x``."""
    if form == SURGE:
        if lam >= a:
            return -1.0, 0.0
        w = lambert_w0_scalar(math.e * lam / a)
        return (1.0 - w) ** 2 / (beta * w), (1.0 - w) / beta
    z = -lam * beta / a
    if z <= -_INV_E:
        return -1.0, 0.0
    y = -lambert_wm1_scalar(z)
    return (math.expm1(y) - y - y * y) / (y * beta), y / beta


def _shared_count(tau_sorted, threshold):
    """How many thresholds are strictly below ``threshold`` (binary search)."""
    lo, hi = 0, len(tau_sorted)
    while lo < hi:
        mid = (lo + hi) // 2
        if tau_sorted[mid] < threshold:
            lo = mid + 1
        else:
            hi = mid
    return lo


def shared_dual(form, tau_sorted, prefix_tau, a, beta, budget):
    """Minimise the dual function for shared parameters. Returns ``(price, bound)``.

    ``prefix_tau[k]`` is the sum of the ``k`` smallest thresholds. At price ``lam``
    the funded queries are those with tau below a threshold, each taking the same
    ``x``, so demand and the dual value cost one binary search each.
    """
    n = len(tau_sorted)

    def at(lam):
        if lam <= 0.0:
            if form == SURGE:
                x = 1.0 / beta
                return n * x + prefix_tau[n], n * _u(form, a, beta, x)
            return math.inf, n * a / (beta * beta)
        threshold, x = _shared_threshold(form, a, beta, lam)
        c = _shared_count(tau_sorted, threshold)
        return c * x + prefix_tau[c], lam * budget + c * (_u(form, a, beta, x) - lam * x) - lam * prefix_tau[c]

    total, value = at(0.0)
    if total <= budget:
        return 0.0, value
    lo = 0.0
    hi = a if form == SURGE else a / (beta * math.e)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if at(mid)[0] > budget:
            lo = mid
        else:
            hi = mid
    candidates = [hi] + ([lo] if lo > 0.0 else [])
    best = min(candidates, key=lambda lam: at(lam)[1])
    return best, at(best)[1]


# ---------------------------------------------------------------------------------------------
# Discrete effort levels (multiple-choice knapsack)
# ---------------------------------------------------------------------------------------------


def level_hulls(costs, utilities, n, levels, inc_query, inc_level, inc_cost, inc_gain):
    """Upper concave hull of each query's ``(cost, utility)`` options, as increments.

    ``costs`` and ``utilities`` are row-major ``n * levels`` vectors. The option
    "nothing" is the point (0, 0). Writes one row per hull edge (query, level
    reached, extra cost, extra utility), edges of one query in order of
    decreasing slope, and returns the number of edges.
    """
    count = 0
    for i in range(n):
        points = sorted(
            ((costs[i * levels + l], utilities[i * levels + l], l) for l in range(levels)),
            key=lambda p: (p[0], -p[1]),
        )
        hull = [(0.0, 0.0, -1)]
        for c, u, l in points:
            if u <= hull[-1][1]:
                continue  # costs at least as much for no more utility
            if c <= hull[-1][0]:  # same cost as the hull's end (only the origin can tie): keep the better
                hull.pop()
            while len(hull) >= 2:
                c1, u1, _ = hull[-2]
                c2, u2, _ = hull[-1]
                # drop the middle point if it lies on or under the chord
                if (u2 - u1) * (c - c1) <= (u - u1) * (c2 - c1):
                    hull.pop()
                else:
                    break
            hull.append((c, u, l))
        if hull[0][2] != -1:
            hull.insert(0, (0.0, 0.0, -1))
        for k in range(1, len(hull)):
            inc_query[count] = i
            inc_level[count] = hull[k][2]
            inc_cost[count] = hull[k][0] - hull[k - 1][0]
            inc_gain[count] = hull[k][1] - hull[k - 1][1]
            count += 1
    return count


def level_greedy(order, inc_query, inc_level, inc_cost, inc_gain, budget, level_out, cost_out):
    """Take hull increments in ``order`` (decreasing slope) while they fit.

    A query whose next increment does not fit is closed: its later increments
    build on the skipped one. Returns ``(utility, bound, price)`` where
    ``bound`` is the LP optimum (the first increment that did not fit taken
    fractionally) and ``price`` its slope.
    """
    remaining = budget
    value = 0.0
    bound = None
    price = 0.0
    closed = set()
    for k in order:
        i = inc_query[k]
        if i in closed:
            continue
        c = inc_cost[k]
        g = inc_gain[k]
        if c <= remaining:
            remaining -= c
            value += g
            level_out[i] = inc_level[k]
            cost_out[i] += c
        else:
            if bound is None:
                bound = value + g * (remaining / c)
                price = g / c
            closed.add(i)
    if bound is None:
        bound = value
    return value, bound, price
