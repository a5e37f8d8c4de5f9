# cython: language_level=3
"""Compiled kernel of clear_fast.

Layering and contract: the Python modules (curves, pricing, allocate, levels)
validate and coerce every input, then call the entry points here with
contiguous float64/int64 buffers. This file trusts its inputs, never raises,
and returns plain numbers; it mirrors clear_fast/_reference.py entry point for
entry point, and the tests hold it to that twin. Loops run without the GIL and
call small inline scalar helpers. Form codes: 0 = shifted surge, 1 = cumulative.
"""

from libc.math cimport exp, expm1, fabs, log, log1p, sqrt, INFINITY, isinf

cdef double E = 2.718281828459045
cdef double INV_E = 0.36787944117144233
# 1/e split in two doubles: near the branch point z + 1/e is computed exactly (Sterbenz) before the
# tiny correction, so W keeps full accuracy where the naive e*z + 1 would cancel away its digits.
cdef double INV_E_LO = -1.2428753672788363e-17

cdef enum:
    SURGE = 0
    CUMULATIVE = 1

# kinds of market clearing returned by clear_price (same codes as the twin)
cdef enum:
    AMPLE = 0
    CONTINUOUS = 1
    JUMP_OUT = 2
    JUMP_IN = 3

CLEAR_AMPLE = AMPLE
CLEAR_CONTINUOUS = CONTINUOUS
CLEAR_JUMP_OUT = JUMP_OUT
CLEAR_JUMP_IN = JUMP_IN


# ---------------------------------------------------------------------------------------------
# Lambert W
# ---------------------------------------------------------------------------------------------

cdef inline double _halley(double w, double z) noexcept nogil:
    cdef double ew, f, wp1, denominator, step
    cdef int k
    for k in range(30):
        ew = exp(w)
        f = w * ew - z
        wp1 = w + 1.0
        if wp1 == 0.0:
            return w
        denominator = ew * wp1 - (w + 2.0) * f / (2.0 * wp1)
        if denominator == 0.0:
            return w
        step = f / denominator
        w -= step
        if fabs(step) <= 1e-15 * (1.0 + fabs(w)):
            break
    return w


cdef inline double _branch_series(double p) noexcept nogil:
    return -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0 + p * 769.0 / 17280.0))))


cdef inline double _w0(double z) noexcept nogil:
    cdef double q, delta, w, lz, l1, l2
    if z == 0.0:
        return 0.0
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    q = 2.0 * E * delta
    if q < 1e-6:
        return _branch_series(sqrt(q))
    if q < 0.5:
        w = _branch_series(sqrt(q))
    elif z < 3.0:
        lz = log1p(z)
        w = lz * (1.0 - log1p(lz) / (2.0 + lz))
    else:
        l1 = log(z)
        l2 = log(l1)
        w = l1 - l2 + l2 / l1
    return _halley(w, z)


cdef inline double _wm1(double z) noexcept nogil:
    cdef double q, delta, w, l1, l2
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    q = 2.0 * E * delta
    if q < 1e-6:
        return _branch_series(-sqrt(q))
    if q < 0.5:
        w = _branch_series(-sqrt(q))
    else:
        l1 = log(-z)
        l2 = log(-l1)
        w = l1 - l2 + l2 / l1
    return _halley(w, z)


def lambert_w(const double[::1] z, int branch, double[::1] out):
    """Write ``W_branch(z[i])`` into ``out[i]`` (branch 0 or -1)."""
    cdef Py_ssize_t i, n = z.shape[0]
    with nogil:
        if branch == 0:
            for i in range(n):
                out[i] = _w0(z[i])
        else:
            for i in range(n):
                out[i] = _wm1(z[i])


# ---------------------------------------------------------------------------------------------
# One query
# ---------------------------------------------------------------------------------------------

cdef inline double _u(int form, double a, double beta, double x) noexcept nogil:
    cdef double y
    if x <= 0.0:
        return 0.0
    if form == SURGE:
        return a * x * exp(-beta * x)
    y = beta * x
    return a / (beta * beta) * (-expm1(-y) - y * exp(-y))


cdef inline double _u_at(int form, double tau, double a, double beta, double b) noexcept nogil:
    if isinf(b):
        return a / (beta * beta) if form == CUMULATIVE else 0.0
    return _u(form, a, beta, b - tau)


cdef inline double _response(int form, double tau, double a, double beta, double lower, double upper,
                             double lam, double* slope) noexcept nogil:
    """Best grant in [lower, upper] at price lam, ignoring abandonment; slope gets d b / d lam."""
    cdef double w, b, z, surplus_lower
    slope[0] = 0.0
    if form == SURGE:
        if lam >= a:
            return lower  # lower >= tau always: the Python layer passes ceil(max(tau, min_tokens))
        w = _w0(E * lam / a)
        b = tau + (1.0 - w) / beta
    else:
        if lam <= 0.0:
            return upper
        z = -lam * beta / a
        if z <= -INV_E:
            return lower
        w = _wm1(z)
        b = tau - w / beta
    if b <= lower:
        b = lower
    elif b >= upper:
        b = upper
    elif lam > 0.0 and w != -1.0:
        slope[0] = -w / (lam * beta * (1.0 + w))
    if form == CUMULATIVE and b > lower:
        # the left end wins only when worth funding at this price (see the twin for why)
        surplus_lower = _u_at(form, tau, a, beta, lower) - lam * lower
        if surplus_lower > 0.0 and surplus_lower > _u_at(form, tau, a, beta, b) - lam * b:
            slope[0] = 0.0
            return lower
    return b


cdef inline double _tangent_point(int form, double tau, double beta) noexcept nogil:
    cdef double t = beta * tau, w_bar, y, g, phi, dphi, y_next
    cdef int k
    if form == SURGE:
        w_bar = 1.0 / (1.0 + 0.5 * t + sqrt(t + 0.25 * t * t))
        return tau + (1.0 - w_bar) / beta
    y = 2.0 + 1.5 * log1p(t)
    for k in range(100):
        g = 1.0 + y + y * y + t * y
        phi = y - log(g)
        dphi = 1.0 - (1.0 + 2.0 * y + t) / g
        y_next = y - phi / dphi
        if y_next <= 1.0:
            y_next = 0.5 * (y + 1.0)
        if fabs(y_next - y) <= 1e-14 * y:
            y = y_next
            break
        y = y_next
    return tau + y / beta


# ---------------------------------------------------------------------------------------------
# Vector entry points
# ---------------------------------------------------------------------------------------------

def utility(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
            const double[::1] tokens, double[::1] out):
    """``out[i] = u_i(tokens[i])`` (0 below the threshold)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    with nogil:
        for i in range(n):
            out[i] = _u_at(form, tau[i], scale[i], beta[i], tokens[i])


def breakeven(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
              const double[::1] lower, const double[::1] upper, double[::1] price_out, double[::1] tangent_out):
    """Break-even price and the tokens where it is reached, per query (0, 0 if never fundable)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double b
    with nogil:
        for i in range(n):
            if lower[i] > upper[i] or scale[i] <= 0.0:
                price_out[i] = 0.0
                tangent_out[i] = 0.0
                continue
            b = _tangent_point(form, tau[i], beta[i])
            if b < lower[i]:
                b = lower[i]
            if b > upper[i]:
                b = upper[i]
            if b <= 0.0:
                price_out[i] = scale[i]
                tangent_out[i] = 0.0
            else:
                price_out[i] = _u_at(form, tau[i], scale[i], beta[i], b) / b
                tangent_out[i] = b


def demand(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
           const double[::1] lower, const double[::1] upper, const double[::1] be, double lam,
           double[::1] tokens_out):
    """Best responses at ``lam`` of the queries whose break-even price exceeds it; ``(total, slope)``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0, slope = 0.0, b, s
    with nogil:
        for i in range(n):
            if be[i] > lam:
                b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, &s)
                tokens_out[i] = b
                total += b
                slope += s
            else:
                tokens_out[i] = 0.0
    return total, slope


def dual_value(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
               const double[::1] lower, const double[::1] upper, const double[::1] be, double lam,
               double budget):
    """``lam * budget + sum_i max(0, max_b u_i(b) - lam b)``: an upper bound on the optimum."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = lam * budget, b, s, surplus
    with nogil:
        for i in range(n):
            if be[i] > lam:
                b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, &s)
                surplus = _u_at(form, tau[i], scale[i], beta[i], b) - lam * b
                if surplus > 0.0:
                    total += surplus
    return total


# ---------------------------------------------------------------------------------------------
# Market clearing over queries sorted by break-even price
# ---------------------------------------------------------------------------------------------

cdef double _prefix_demand(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                           const double[::1] lower, const double[::1] upper, const long long[::1] order,
                           Py_ssize_t count, double lam, double* slope) noexcept nogil:
    cdef Py_ssize_t k, i
    cdef double total = 0.0, s, sum_slope = 0.0
    for k in range(count):
        i = order[k]
        total += _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, &s)
        sum_slope += s
    slope[0] = sum_slope
    return total


cdef double _prefix_value(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                          const double[::1] lower, const double[::1] upper, const long long[::1] order,
                          Py_ssize_t count, double lam) noexcept nogil:
    cdef Py_ssize_t k, i
    cdef double total = 0.0, s, b
    for k in range(count):
        i = order[k]
        b = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, &s)
        total += _u_at(form, tau[i], scale[i], beta[i], b)
    return total


cdef void _fill(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                const double[::1] lower, const double[::1] upper, const long long[::1] order,
                Py_ssize_t count, double lam, double[::1] tokens_out) noexcept nogil:
    cdef Py_ssize_t k, i
    cdef double s
    for k in range(count):
        i = order[k]
        tokens_out[i] = _response(form, tau[i], scale[i], beta[i], lower[i], upper[i], lam, &s)


cdef double _solve_prefix(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                          const double[::1] lower, const double[::1] upper, const long long[::1] order,
                          Py_ssize_t count, double budget, double lo, double hi) noexcept nogil:
    """Price in [lo, hi] where the first ``count`` queries demand ``budget`` (safeguarded Newton)."""
    cdef double s, total, lam, candidate
    cdef int k
    if _prefix_demand(form, tau, scale, beta, lower, upper, order, count, lo, &s) <= budget:
        return lo
    lam = hi
    for k in range(200):
        total = _prefix_demand(form, tau, scale, beta, lower, upper, order, count, lam, &s)
        if total > budget:
            lo = lam
        else:
            hi = lam
            if budget - total <= 1e-9 * (budget if budget > 1.0 else 1.0):
                return lam
        if hi - lo <= 1e-15 * hi:
            return hi
        candidate = lam - (total - budget) / s if s < 0.0 else -1.0
        if lo < candidate < hi:
            lam = candidate
        else:
            lam = 0.5 * (lo + hi)
    return hi


cdef double _f_at(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                  const double[::1] lower, const double[::1] upper, const double[::1] be,
                  const long long[::1] order, Py_ssize_t j) noexcept nogil:
    """Demand of the first j queries at the j-th break-even price (price 0 for j = m)."""
    cdef double s
    cdef Py_ssize_t m = order.shape[0]
    if j >= m:
        return _prefix_demand(form, tau, scale, beta, lower, upper, order, m, 0.0, &s)
    return _prefix_demand(form, tau, scale, beta, lower, upper, order, j, be[order[j]], &s)


cdef Py_ssize_t _count_above(const double[::1] be, const long long[::1] order, double lam) noexcept nogil:
    """How many queries in ``order`` (sorted by decreasing break-even) have break-even > lam."""
    cdef Py_ssize_t lo = 0, hi = order.shape[0], mid
    while lo < hi:
        mid = (lo + hi) // 2
        if be[order[mid]] > lam:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef double _newton_guess(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                          const double[::1] lower, const double[::1] upper, const double[::1] be,
                          const long long[::1] order, double budget) noexcept nogil:
    """A price near where total demand meets the budget: safeguarded Newton in log-price.

    Only a starting point for the exact search over positions, so a loose
    tolerance is enough; it saves most of the O(n) demand evaluations.
    """
    cdef Py_ssize_t m = order.shape[0], c
    cdef double lo = 0.0, hi = be[order[0]], lam, total, s, candidate
    cdef int k
    lam = be[order[m // 2]] if be[order[m // 2]] > 0.0 else 0.5 * hi
    for k in range(40):
        c = _count_above(be, order, lam)
        total = _prefix_demand(form, tau, scale, beta, lower, upper, order, c, lam, &s)
        if total > budget:
            lo = lam
        else:
            hi = lam
        if fabs(total - budget) <= 1e-6 * budget or hi - lo <= 1e-12 * hi:
            break
        # Newton on log(demand) against log(price): demand curves are closer to power laws
        candidate = -1.0
        if total > 0.0 and s < 0.0:
            candidate = lam * exp(-(log(total) - log(budget)) / (lam * s / total))
        if lo < candidate < hi:
            lam = candidate
        elif lo > 0.0:
            lam = sqrt(lo * hi)
        else:
            lam = 0.5 * hi
    return lam


def clear_price(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                const double[::1] lower, const double[::1] upper, const double[::1] be,
                const long long[::1] order, double budget, double[::1] tokens_out):
    """Clear the market; returns ``(kind, price, position)`` and writes continuous grants.

    Same contract and notes as ``clear_price`` in the twin: the first position
    j with ``F_j > budget`` decides between a continuous clearing and a jump at
    the marginal query. A Newton guess on the price narrows the bisection over
    positions to a few evaluations.
    """
    cdef Py_ssize_t n = tau.shape[0], m = order.shape[0], i, k, c, lo_j, hi_j, mid, step, j, p, q
    cdef double s, lam, s_p, s_j, b_q, f_p, lam_out, lam_in, value_out, value_in, floor_in, top, marginal_max
    cdef int kind
    with nogil:
        for i in range(n):
            tokens_out[i] = 0.0
    if m == 0:
        return CLEAR_AMPLE, 0.0, -1
    with nogil:
        if _f_at(form, tau, scale, beta, lower, upper, be, order, m) <= budget:
            _fill(form, tau, scale, beta, lower, upper, order, m, 0.0, tokens_out)
            kind = AMPLE
        else:
            kind = -1
    if kind == AMPLE:
        return CLEAR_AMPLE, 0.0, -1

    with nogil:
        # bracket the smallest j with F_j > budget around the Newton guess, then bisect
        lam = _newton_guess(form, tau, scale, beta, lower, upper, be, order, budget)
        c = _count_above(be, order, lam)
        if c < 1:
            c = 1
        lo_j = 0
        hi_j = m
        if _f_at(form, tau, scale, beta, lower, upper, be, order, c) > budget:
            hi_j = c
            step = 1
            while c - step > 0:
                if _f_at(form, tau, scale, beta, lower, upper, be, order, c - step) <= budget:
                    lo_j = c - step
                    break
                hi_j = c - step
                step *= 2
        else:
            lo_j = c
            step = 1
            while c + step < m:
                if _f_at(form, tau, scale, beta, lower, upper, be, order, c + step) > budget:
                    hi_j = c + step
                    break
                lo_j = c + step
                step *= 2
        # invariant: F_{lo_j} <= budget < F_{hi_j}
        while hi_j - lo_j > 1:
            mid = (lo_j + hi_j) // 2
            if _f_at(form, tau, scale, beta, lower, upper, be, order, mid) > budget:
                hi_j = mid
            else:
                lo_j = mid
        j = hi_j
        p = j - 1
        q = order[p]
        s_p = be[q]
        b_q = _response(form, tau[q], scale[q], beta[q], lower[q], upper[q], s_p, &s)
        f_p = _f_at(form, tau, scale, beta, lower, upper, be, order, p)
        if budget >= f_p + b_q:
            s_j = be[order[j]] if j < m else 0.0
            lam = _solve_prefix(form, tau, scale, beta, lower, upper, order, j, budget, s_j, s_p)
            _fill(form, tau, scale, beta, lower, upper, order, j, lam, tokens_out)
            kind = CONTINUOUS
        else:
            lam_out = _solve_prefix(form, tau, scale, beta, lower, upper, order, p, budget, 0.0, s_p)
            value_out = _prefix_value(form, tau, scale, beta, lower, upper, order, p, lam_out)
            floor_in = 0.0
            top = 0.0
            for k in range(p + 1):
                i = order[k]
                floor_in += lower[i]
                # above the largest marginal utility every response sits at its lower bound
                marginal_max = scale[i] if form == SURGE else scale[i] / (beta[i] * E)
                if marginal_max > top:
                    top = marginal_max
            value_in = -1.0
            if floor_in <= budget:
                lam_in = _solve_prefix(form, tau, scale, beta, lower, upper, order, p + 1, budget, s_p, top)
                # a response that jumps to its lower bound can skip over the budget: check feasibility
                if _prefix_demand(form, tau, scale, beta, lower, upper, order, p + 1, lam_in, &s) <= budget * (1.0 + 1e-12):
                    value_in = _prefix_value(form, tau, scale, beta, lower, upper, order, p + 1, lam_in)
            if value_in > value_out:
                _fill(form, tau, scale, beta, lower, upper, order, p + 1, lam_in, tokens_out)
                kind = JUMP_IN
            else:
                _fill(form, tau, scale, beta, lower, upper, order, p, lam_out, tokens_out)
                kind = JUMP_OUT
            lam = s_p
    if kind == CONTINUOUS:
        return kind, lam, -1
    return kind, lam, p


# ---------------------------------------------------------------------------------------------
# Shared parameters
# ---------------------------------------------------------------------------------------------

def shared_scan(int form, const double[::1] tau_sorted, double a, double beta, double budget):
    """Best number ``k`` of easiest queries to fund and their common increment ``x``; ``(k, x)``."""
    cdef Py_ssize_t k, best_k = 0, n = tau_sorted.shape[0]
    cdef double best_value = 0.0, best_x = 0.0, prefix = 0.0, remaining, x, value
    cdef double x_peak = 1.0 / beta if form == SURGE else INFINITY
    with nogil:
        for k in range(1, n + 1):
            prefix += tau_sorted[k - 1]
            remaining = budget - prefix
            if remaining <= 0.0:
                break
            x = remaining / k
            if x > x_peak:
                x = x_peak
            value = k * _u(form, a, beta, x)
            if value > best_value:
                best_value = value
                best_k = k
                best_x = x
    return best_k, best_x


cdef void _shared_at(int form, const double[::1] tau_sorted, const double[::1] prefix_tau, double a,
                     double beta, double budget, double lam, double* total, double* value) noexcept nogil:
    """Demand and dual value at price lam for shared parameters (one binary search)."""
    cdef Py_ssize_t n = tau_sorted.shape[0], lo = 0, hi = n, mid
    cdef double w, y, threshold, x
    if lam <= 0.0:
        if form == SURGE:
            x = 1.0 / beta
            total[0] = n * x + prefix_tau[n]
            value[0] = n * _u(form, a, beta, x)
        else:
            total[0] = INFINITY
            value[0] = n * a / (beta * beta)
        return
    if form == SURGE:
        if lam >= a:
            total[0] = 0.0
            value[0] = lam * budget
            return
        w = _w0(E * lam / a)
        threshold = (1.0 - w) * (1.0 - w) / (beta * w)
        x = (1.0 - w) / beta
    else:
        if -lam * beta / a <= -INV_E:
            total[0] = 0.0
            value[0] = lam * budget
            return
        y = -_wm1(-lam * beta / a)
        threshold = (expm1(y) - y - y * y) / (y * beta)
        x = y / beta
    while lo < hi:
        mid = (lo + hi) // 2
        if tau_sorted[mid] < threshold:
            lo = mid + 1
        else:
            hi = mid
    total[0] = lo * x + prefix_tau[lo]
    value[0] = lam * budget + lo * (_u(form, a, beta, x) - lam * x) - lam * prefix_tau[lo]


def shared_dual(int form, const double[::1] tau_sorted, const double[::1] prefix_tau, double a, double beta,
                double budget):
    """Minimise the dual function for shared parameters; ``(price, bound)``."""
    cdef double total, value, lo = 0.0, hi, mid, value_hi, value_lo
    cdef int k
    with nogil:
        _shared_at(form, tau_sorted, prefix_tau, a, beta, budget, 0.0, &total, &value)
    if total <= budget:
        return 0.0, value
    hi = a if form == SURGE else a / (beta * E)
    with nogil:
        for k in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            _shared_at(form, tau_sorted, prefix_tau, a, beta, budget, mid, &total, &value)
            if total > budget:
                lo = mid
            else:
                hi = mid
        _shared_at(form, tau_sorted, prefix_tau, a, beta, budget, hi, &total, &value_hi)
    if lo > 0.0:
        with nogil:
            _shared_at(form, tau_sorted, prefix_tau, a, beta, budget, lo, &total, &value_lo)
        if value_lo < value_hi:
            return lo, value_lo
    return hi, value_hi


# ---------------------------------------------------------------------------------------------
# Discrete effort levels
# ---------------------------------------------------------------------------------------------

def level_hulls(const double[::1] costs, const double[::1] utilities, Py_ssize_t n, Py_ssize_t levels,
                long long[::1] inc_query, long long[::1] inc_level, double[::1] inc_cost, double[::1] inc_gain):
    """Upper concave hull of each query's options from the origin, written as increments; returns the count.

    Per query the L options are insertion-sorted by (cost, -utility) into a
    scratch list (L is small), then scanned once with a monotone-chain hull.
    """
    cdef Py_ssize_t i, l, k, top, count = 0, base
    cdef long long tmp_l
    cdef double c, u, c1, u1, c2, u2
    cdef long long[::1] idx = inc_query.copy()  # scratch of the right size and type
    cdef double[::1] hull_c = inc_cost.copy()
    cdef double[::1] hull_u = inc_gain.copy()
    cdef long long[::1] hull_l = inc_level.copy()
    with nogil:
        for i in range(n):
            base = i * levels
            for l in range(levels):  # insertion sort of this query's levels
                idx[l] = l
                k = l
                while k > 0 and (costs[base + idx[k - 1]] > costs[base + idx[k]] or (
                        costs[base + idx[k - 1]] == costs[base + idx[k]]
                        and utilities[base + idx[k - 1]] < utilities[base + idx[k]])):
                    tmp_l = idx[k - 1]
                    idx[k - 1] = idx[k]
                    idx[k] = tmp_l
                    k -= 1
            top = 0
            hull_c[0] = 0.0
            hull_u[0] = 0.0
            hull_l[0] = -1
            for l in range(levels):
                c = costs[base + idx[l]]
                u = utilities[base + idx[l]]
                if u <= hull_u[top]:
                    continue
                if c <= hull_c[top]:
                    top -= 1
                while top >= 1:
                    c1 = hull_c[top - 1]
                    u1 = hull_u[top - 1]
                    c2 = hull_c[top]
                    u2 = hull_u[top]
                    if (u2 - u1) * (c - c1) <= (u - u1) * (c2 - c1):
                        top -= 1
                    else:
                        break
                top += 1
                hull_c[top] = c
                hull_u[top] = u
                hull_l[top] = idx[l]
            if hull_l[0] != -1:  # the origin was replaced by a zero-cost option: re-anchor at the origin
                for k in range(top, -1, -1):
                    hull_c[k + 1] = hull_c[k]
                    hull_u[k + 1] = hull_u[k]
                    hull_l[k + 1] = hull_l[k]
                hull_c[0] = 0.0
                hull_u[0] = 0.0
                hull_l[0] = -1
                top += 1
            for k in range(1, top + 1):
                inc_query[count] = i
                inc_level[count] = hull_l[k]
                inc_cost[count] = hull_c[k] - hull_c[k - 1]
                inc_gain[count] = hull_u[k] - hull_u[k - 1]
                count += 1
    return count


def level_greedy(const long long[::1] order, const long long[::1] inc_query, const long long[::1] inc_level,
                 const double[::1] inc_cost, const double[::1] inc_gain, double budget,
                 long long[::1] level_out, double[::1] cost_out):
    """Take hull increments in ``order`` while they fit; ``(utility, bound, price)`` (LP bound)."""
    cdef Py_ssize_t t, k, i, count = order.shape[0], n = level_out.shape[0]
    cdef double remaining = budget, value = 0.0, bound = 0.0, price = 0.0, c, g
    cdef bint have_bound = False
    cdef unsigned char[::1] closed = bytearray(n)
    with nogil:
        for t in range(count):
            k = order[t]
            i = inc_query[k]
            if closed[i]:
                continue
            c = inc_cost[k]
            g = inc_gain[k]
            if c <= remaining:
                remaining -= c
                value += g
                level_out[i] = inc_level[k]
                cost_out[i] += c
            else:
                if not have_bound:
                    bound = value + g * (remaining / c)
                    price = g / c
                    have_bound = True
                closed[i] = 1
    if not have_bound:
        bound = value
    return value, bound, price
