# cython: language_level=3
"""Compiled kernel of clear_fast.

Layering and contract: the Python modules (curves, pricing, allocate, levels)
validate and coerce every input, then call the entry points here with
contiguous float64/int64 buffers. This file trusts its inputs, never raises,
and returns plain numbers; it mirrors clear_fast/_reference.py entry point for
entry point, and the tests hold it to that twin. Loops run without the GIL and
call small inline scalar helpers. Form codes: 0 = shifted surge, 1 = cumulative.
"""

from cython.view cimport array as cvarray
from libc.math cimport ceil, exp, expm1, fabs, floor, log, log1p, sqrt, INFINITY, isinf

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


cdef inline double _fritsch(double w, double z) noexcept nogil:
    """One step of Fritsch's iteration for w exp(w) = z (fourth order; needs one log)."""
    cdef double zn = log(z / w) - w
    cdef double q = 2.0 * (1.0 + w) * (1.0 + w + 2.0 / 3.0 * zn)
    return w * (1.0 + zn / (1.0 + w) * (q - zn) / (q - 2.0 * zn))


cdef inline double _w0(double z) noexcept nogil:
    cdef double q, delta, w, lz, l1, l2
    if z == 0.0:
        return 0.0
    if 0.0 < z <= E:
        # the surge solver's whole range: a least-squares rational fit of W0 on (0, e] (relative error
        # 1.5e-4) and one Fritsch step reach full double precision with a single log
        w = z * (0.9998518385990675 + z * (1.46591884864671 + z * 0.2576309061746526)) / (
            1.0 + z * (2.4619350020747803 + z * (1.2509443968684903 + z * 0.08906042252948825)))
        return _fritsch(w, z)
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
    if z >= 0.0:  # the limit at 0- (reached when -price * beta / a underflows)
        return -INFINITY
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    q = 2.0 * E * delta
    if q < 1e-6:
        return _branch_series(-sqrt(q))
    if q < 0.5:
        w = _branch_series(-sqrt(q))
        return _halley(w, z)
    # away from the branch point the asymptotic guess is within 12%, and two Fritsch steps (fourth
    # order, one log each) reach full double precision
    l1 = log(-z)
    l2 = log(-l1)
    if z > -1e-290:  # (sub)normal underflow territory: solve log(-w) + w = log(-z) instead
        return _wm1_logs(l1 - l2 + l2 / l1, l1)
    return _fritsch(_fritsch(l1 - l2 + l2 / l1, z), z)


cdef inline double _wm1_logs(double w, double log_minus_z) noexcept nogil:
    """W_{-1} for tiny |z| by Newton on log(-w) + w = log(-z), which never forms e^w."""
    cdef double step
    cdef int k
    for k in range(20):
        step = (log(-w) + w - log_minus_z) / (1.0 + 1.0 / w)
        w -= step
        if fabs(step) <= 1e-15 * fabs(w):
            break
    return w


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

cdef inline void _bounds(double tau, double min_tokens, double max_tokens, double* lower, double* upper) noexcept nogil:
    """Whole-token bounds of a funded grant: ceil(max(tau, min_tokens)) and floor(max_tokens)."""
    lower[0] = ceil(tau if tau > min_tokens else min_tokens)
    upper[0] = floor(max_tokens)


def utility(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
            const double[::1] tokens, double[::1] out):
    """``out[i] = u_i(tokens[i])`` (0 below the threshold)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    with nogil:
        for i in range(n):
            out[i] = _u_at(form, tau[i], scale[i], beta[i], tokens[i])


def breakeven(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
              const double[::1] min_tokens, const double[::1] max_tokens, double[::1] price_out,
              double[::1] tangent_out):
    """Break-even price and the tokens where it is reached, per query (0, 0 if never fundable)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double b, lower, upper
    with nogil:
        for i in range(n):
            _bounds(tau[i], min_tokens[i], max_tokens[i], &lower, &upper)
            if lower > upper or scale[i] <= 0.0:
                price_out[i] = 0.0
                tangent_out[i] = 0.0
                continue
            b = _tangent_point(form, tau[i], beta[i])
            if b < lower:
                b = lower
            if b > upper:
                b = upper
            if b <= 0.0:
                price_out[i] = scale[i]
                tangent_out[i] = 0.0
            else:
                price_out[i] = _u_at(form, tau[i], scale[i], beta[i], b) / b
                tangent_out[i] = b


def demand(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
           const double[::1] min_tokens, const double[::1] max_tokens, const double[::1] be, double lam,
           double[::1] tokens_out):
    """Best responses at ``lam`` of the queries whose break-even price exceeds it; ``(total, slope)``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0, slope = 0.0, b, s, lower, upper
    with nogil:
        for i in range(n):
            if be[i] > lam:
                _bounds(tau[i], min_tokens[i], max_tokens[i], &lower, &upper)
                b = _response(form, tau[i], scale[i], beta[i], lower, upper, lam, &s)
                tokens_out[i] = b
                total += b
                slope += s
            else:
                tokens_out[i] = 0.0
    return total, slope


def unit_gains(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
               const double[::1] max_tokens, const double[::1] tokens, double[::1] out):
    """``out[i] = u_i(tokens[i] + 1) - u_i(tokens[i])`` for funded grants below their cap, else -inf."""
    cdef Py_ssize_t i, n = tau.shape[0]
    with nogil:
        for i in range(n):
            if tokens[i] > 0.0 and tokens[i] + 1.0 <= max_tokens[i]:
                out[i] = _u_at(form, tau[i], scale[i], beta[i], tokens[i] + 1.0) - _u_at(
                    form, tau[i], scale[i], beta[i], tokens[i])
            else:
                out[i] = -INFINITY


def floor_grants(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                 const double[::1] max_tokens, const double[::1] continuous, double[::1] tokens_out,
                 double[::1] gains_out):
    """Round funded grants down; returns ``(spent, utility)`` and each grant's gain from one more token.

    ``gains_out`` is -inf for unfunded queries and for grants at their cap.
    """
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double t, u, spent = 0.0, value = 0.0
    with nogil:
        for i in range(n):
            if continuous[i] > 0.0:
                t = floor(continuous[i] + 1e-9)  # absorbs the solver's tolerance: 199.9999999999 is 200
                u = _u_at(form, tau[i], scale[i], beta[i], t)
                tokens_out[i] = t
                spent += t
                value += u
                if t + 1.0 <= max_tokens[i]:
                    gains_out[i] = _u_at(form, tau[i], scale[i], beta[i], t + 1.0) - u
                else:
                    gains_out[i] = -INFINITY
            else:
                tokens_out[i] = 0.0
                gains_out[i] = -INFINITY
    return spent, value


# ---------------------------------------------------------------------------------------------
# Market clearing
#
# The fundable queries are copied once, in order of decreasing break-even price, into one packed
# row-major block (tau, scale, beta, lower, upper, break-even): every later pass over a prefix of
# that order then streams through memory instead of jumping around the caller's arrays.
# ---------------------------------------------------------------------------------------------

# a relative price step below which one Newton step is exact (see clear_price)
cdef double NEAR = 1e-4
# how many break-even prices the market search may leave in its bracket for the position guess
cdef Py_ssize_t WINDOW = 1 << 16

cdef enum:
    TAU = 0
    SCALE = 1
    BETA = 2
    LOWER = 3
    UPPER = 4
    BE = 5
    FIELDS = 6


cdef inline double _row_response(int form, const double[:, ::1] q, Py_ssize_t k, double lam,
                                 double* slope) noexcept nogil:
    return _response(form, q[k, TAU], q[k, SCALE], q[k, BETA], q[k, LOWER], q[k, UPPER], lam, slope)


cdef double _prefix_eval(int form, const double[:, ::1] q, Py_ssize_t count, double lam, double* slope,
                         double* value, double* surplus) noexcept nogil:
    """Demand of the first ``count`` rows at ``lam``; also its slope, their utility and positive surplus."""
    cdef Py_ssize_t k
    cdef double total = 0.0, s, b, u, sum_slope = 0.0, sum_value = 0.0, sum_surplus = 0.0
    for k in range(count):
        b = _row_response(form, q, k, lam, &s)
        total += b
        sum_slope += s
        u = _u_at(form, q[k, TAU], q[k, SCALE], q[k, BETA], b)
        sum_value += u
        if u - lam * b > 0.0:
            sum_surplus += u - lam * b
    slope[0] = sum_slope
    value[0] = sum_value
    surplus[0] = sum_surplus
    return total


cdef double _prefix_demand(int form, const double[:, ::1] q, Py_ssize_t count, double lam,
                           double* slope) noexcept nogil:
    """Demand of the first ``count`` rows at ``lam`` and its slope (the cheap pass of the search)."""
    cdef Py_ssize_t k
    cdef double total = 0.0, s, sum_slope = 0.0
    for k in range(count):
        total += _row_response(form, q, k, lam, &s)
        sum_slope += s
    slope[0] = sum_slope
    return total


cdef Py_ssize_t _count_above(const double[:, ::1] q, double lam) noexcept nogil:
    """How many rows (sorted by decreasing break-even) have break-even > lam."""
    cdef Py_ssize_t lo = 0, hi = q.shape[0], mid
    while lo < hi:
        mid = (lo + hi) // 2
        if q[mid, BE] > lam:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef double _f_at(int form, const double[:, ::1] q, Py_ssize_t j) noexcept nogil:
    """Demand of the first j rows at the j-th break-even price (price 0 for j = m)."""
    cdef double s
    if j >= q.shape[0]:
        return _prefix_demand(form, q, q.shape[0], 0.0, &s)
    return _prefix_demand(form, q, j, q[j, BE], &s)


cdef double _solve_prefix(int form, const double[:, ::1] q, Py_ssize_t count, double budget, double lo,
                          double hi, double lam, double total, double slope) noexcept nogil:
    """Price in [lo, hi] where the first ``count`` rows demand ``budget``: safeguarded Newton.

    Starts from ``lam`` whose demand ``total`` and ``slope`` the caller already
    knows; demand falls in price. Returns the price with demand <= budget
    nearest the crossing.
    """
    cdef double candidate
    cdef int k
    cdef bint tried_zero = False
    for k in range(200):
        if total > budget:
            lo = lam
        else:
            hi = lam
            if budget - total <= 1e-9 * (budget if budget > 1.0 else 1.0) or lam == 0.0:
                return lam
        if hi - lo <= 1e-15 * hi:
            return hi
        # Newton in log-price: demand curves run like -log(price) or powers of it
        candidate = lam * exp(-(total - budget) / (lam * slope)) if slope < 0.0 and lam > 0.0 else -1.0
        if lo < candidate < hi:
            lam = candidate
        elif lo > 0.0:
            lam = sqrt(lo * hi)
        elif not tried_zero:
            lam = 0.0  # perhaps even price 0 fits the budget
            tried_zero = True
        else:
            lam = hi * 1e-4
        total = _prefix_demand(form, q, count, lam, &slope)
    return hi


cdef int _market_search(int form, const double[:, ::1] q, double budget, double tolerance, double guess,
                        Py_ssize_t window, double* lo, double* hi, double f_lo, double f_hi,
                        double* last) noexcept nogil:
    """Bracket the price where market demand meets the budget; 1 if met (price in ``hi``), else 0.

    Market demand counts the rows whose break-even price is above the price,
    so it is continuous between break-even prices and jumps down at each; with
    many queries the jumps dominate its slope, which rules out Newton on the
    smooth part. Regula falsi with the Illinois modification uses only demand
    values, so it sees the jumps' average effect and converges superlinearly.
    The bracket keeps demand > budget at ``lo`` and <= budget at ``hi``. Returns
    1 when demand is within ``tolerance`` of the budget, 0 once at most
    ``window`` break-even prices lie inside the bracket (the caller resolves
    those exactly, position by position). ``f_lo`` and ``f_hi`` are demand minus
    budget at the ends when known (``inf`` at ``lo`` when not). ``last`` gets the
    last evaluation: price, demand, its smooth slope and the funded count.
    """
    cdef double f, lam = guess, step = 0.05, width_before = INFINITY, s
    cdef Py_ssize_t c_lo, c_hi
    cdef int k, moved = 0  # +1: lo moved last, -1: hi moved last
    for k in range(200):
        if not (lo[0] < lam < hi[0]):
            lam = sqrt(lo[0] * hi[0]) if lo[0] > 0.0 else 0.5 * hi[0]
        last[3] = _count_above(q, lam)
        f = _prefix_demand(form, q, <Py_ssize_t>last[3], lam, &s) - budget
        last[0] = lam
        last[1] = f + budget
        last[2] = s
        if fabs(f) <= tolerance:
            hi[0] = lam
            return 1
        if f > 0.0:
            lo[0] = lam
            f_lo = f
            if moved == 1:
                f_hi *= 0.5  # Illinois: the end kept twice has its value halved
            moved = 1
        else:
            hi[0] = lam
            f_hi = f
            if moved == -1:
                f_lo *= 0.5
            moved = -1
        c_lo = _count_above(q, lo[0])
        c_hi = _count_above(q, hi[0])
        if c_lo - c_hi <= window and c_lo != c_hi or c_lo - c_hi == 1 and hi[0] - lo[0] <= 1e-13 * hi[0]:
            return 0  # (a lone jump left at float resolution ends the search whatever the window)
        if c_lo == c_hi and hi[0] - lo[0] <= 1e-13 * hi[0]:
            return 1  # no jump inside and the bracket is at float resolution
        if f_lo == INFINITY:
            lam = lam * exp(-step)  # no point above the budget yet: step down, twice as far each time
            step *= 2.0
        elif k % 3 == 2 and hi[0] - lo[0] > 0.5 * width_before:
            # regula falsi stalled: bisect, over the jumps inside the bracket when there are several
            lam = q[(c_lo + c_hi) // 2, BE] if c_lo - c_hi > 2 else sqrt(lo[0] * hi[0])
        else:
            # regula falsi in log-price (demand runs like -log(price) or powers of it)
            lam = exp(log(lo[0]) + f_lo * (log(hi[0]) - log(lo[0])) / (f_lo - f_hi))
        if k % 3 == 2:
            width_before = hi[0] - lo[0]
    return 1


cdef double _fill(int form, const double[:, ::1] q, const long long[::1] order, Py_ssize_t count, double lam,
                  double[::1] tokens_out) noexcept nogil:
    """Write the first ``count`` responses at ``lam`` to the caller's positions; return their positive surplus."""
    cdef Py_ssize_t k
    cdef double s, b, u, surplus = 0.0
    for k in range(count):
        b = _row_response(form, q, k, lam, &s)
        tokens_out[order[k]] = b
        u = _u_at(form, q[k, TAU], q[k, SCALE], q[k, BETA], b)
        if u - lam * b > 0.0:
            surplus += u - lam * b
    return surplus


cdef Py_ssize_t _predict_position(int form, const double[:, ::1] q, double budget, Py_ssize_t lo_j,
                                  Py_ssize_t hi_j, const double* last) noexcept nogil:
    """The first position in (lo_j, hi_j] whose F_j seems to exceed the budget, from the last evaluation.

    ``last`` holds a price, the demand of the rows funded there (its first
    ``c`` rows), and that demand's smooth slope. F_j, the demand of the first j
    rows at the j-th break-even price, is about that demand moved linearly to
    the new price, plus the rows from c to j (or minus those from j to c), each
    at its own break-even price. Only a guess, in O(hi_j - lo_j): the caller
    checks it exactly.
    """
    cdef Py_ssize_t j, k, c = <Py_ssize_t>last[3]
    cdef double f, s, joined = 0.0
    # the rows that separate position lo_j from c: joined above c, left below it
    for k in range(c, lo_j):
        joined += _row_response(form, q, k, q[k, BE], &s)
    for k in range(lo_j, c):
        joined -= _row_response(form, q, k, q[k, BE], &s)
    for j in range(lo_j + 1, hi_j + 1):
        if j >= q.shape[0]:
            return j
        joined += _row_response(form, q, j - 1, q[j - 1, BE], &s)  # one more row in the prefix
        f = last[1] + last[2] * (q[j, BE] - last[0]) + joined
        if f > budget:
            return j
    return hi_j


def clear_price(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                const double[::1] min_tokens, const double[::1] max_tokens, const double[::1] be,
                const long long[::1] order, double budget, double[::1] tokens_out, double lo_hint=0.0,
                double hi_hint=0.0):
    """Clear the market: ``(kind, price, position, bound)``; writes each query's continuous grant.

    Same contract and result as the twin's ``clear_price``, found with fewer
    passes: a price from an evenly spaced sample of the sorted queries, regula
    falsi on the whole market until a handful of break-even prices remain in
    the bracket, then the twin's bisection over positions inside that window.
    At a jump both options start from the jump's own demand and slope, so one
    Newton step and one checking pass each suffice.

    With a price bracket ``lo_hint < hi_hint`` (from a sample), ``order`` need
    only hold the queries whose break-even price is above a point somewhat
    below ``lo_hint``, those above ``hi_hint`` first in any order; the bracket
    is checked (demand above the budget at ``lo_hint``, within it at
    ``hi_hint``) and kind -1 is returned when it fails, for the caller to retry
    with the full order.
    """
    cdef Py_ssize_t n = tau.shape[0], m = order.shape[0], i, k, c_lo, c_hi, lo_j, hi_j, mid, j, p
    cdef Py_ssize_t stride, samples
    cdef double s, lam, lo, hi, s_p, b_q, s_q, f_p, slope_p, value_p, surplus_p, bound, tolerance
    cdef double lam_out, lam_in, slope, value_out, value_in, surplus, f_lo, f_hi
    cdef double last[4]
    cdef Py_ssize_t p_known, step
    cdef int kind = -1, found
    cdef double[:, ::1] q
    cdef double[:, ::1] sample_rows
    with nogil:
        for i in range(n):
            tokens_out[i] = 0.0
    if m == 0:
        return AMPLE, 0.0, -1, 0.0
    q = _packed(m)
    with nogil:
        for k in range(m):
            i = order[k]
            q[k, TAU] = tau[i]
            q[k, SCALE] = scale[i]
            q[k, BETA] = beta[i]
            _bounds(tau[i], min_tokens[i], max_tokens[i], &q[k, LOWER], &q[k, UPPER])
            q[k, BE] = be[i]
        if hi_hint > lo_hint > 0.0:
            lo = lo_hint
            hi = hi_hint
            f_lo = _prefix_demand(form, q, _count_above(q, lo), lo, &s) - budget
            f_hi = _prefix_demand(form, q, _count_above(q, hi), hi, &s) - budget
            if f_lo <= 0.0 or f_hi > 0.0 or _count_above(q, lo) >= m:
                kind = -2  # the bracket does not hold the price: the caller retries with every query
            lam = lo + f_lo * (hi - lo) / (f_lo - f_hi)
        elif _prefix_demand(form, q, m, 0.0, &slope) <= budget:
            surplus = _fill(form, q, order, m, 0.0, tokens_out)
            kind = AMPLE
    if kind == AMPLE:
        return AMPLE, 0.0, -1, surplus
    if kind == -2:
        return -1, 0.0, -1, 0.0

    if not hi_hint > lo_hint > 0.0:
        # a starting price from an evenly spaced sample of the sorted queries (a few thousand rows)
        stride = m // 4096 if m >= 8192 else 1
        samples = (m + stride - 1) // stride
        sample_rows = _packed(samples)
        with nogil:
            for k in range(samples):
                for i in range(FIELDS):
                    sample_rows[k, i] = q[k * stride, i]
            lo = 0.0
            hi = q[0, BE]
            lam = q[m // 2, BE] if q[m // 2, BE] > 0.0 else 0.5 * hi
            if stride > 1:
                _market_search(form, sample_rows, budget * samples / m, 1e-6 * budget * samples / m, lam, 1,
                               &lo, &hi, INFINITY, -budget * samples / m, last)
                lam = hi
                lo = 0.0
                hi = q[0, BE]
            f_lo = INFINITY
            f_hi = -budget
    with nogil:
        tolerance = 1e-9 * budget
        found = _market_search(form, q, budget, tolerance, lam, WINDOW, &lo, &hi, f_lo, f_hi, last)
        if found:
            lam = hi
            bound = lam * budget + _fill(form, q, order, _count_above(q, lam), lam, tokens_out)
            kind = CONTINUOUS
        else:
            # the smallest position j with F_j > budget lies in [c_hi, c_lo]: F_{c_hi - 1} <= D(hi) <= budget
            # and F_{c_lo} >= D(lo) > budget; bisect over those positions as the twin does
            c_lo = _count_above(q, lo)
            c_hi = _count_above(q, hi)
            lo_j = c_hi - 1 if c_hi > 0 else 0
            hi_j = c_lo
            # guess the position from the last evaluation (demand is nearly linear in price this close),
            # then check it exactly: usually two passes settle what bisection takes several for
            j = _predict_position(form, q, budget, lo_j, hi_j, last)
            f_p = _prefix_eval(form, q, j - 1, q[j - 1, BE], &slope_p, &value_p, &surplus_p)
            p_known = -1
            if f_p <= budget:
                lo_j = j - 1
                if _f_at(form, q, j) > budget:
                    hi_j = j
                    p_known = j - 1
                else:  # the guess was low: gallop up from it
                    lo_j = j
                    step = 2
                    while lo_j + step < hi_j and _f_at(form, q, lo_j + step) <= budget:
                        lo_j += step
                        step *= 2
                    if lo_j + step < hi_j:
                        hi_j = lo_j + step
            else:  # the guess was high: gallop down from it
                hi_j = j - 1
                step = 2
                while hi_j - step > lo_j and _f_at(form, q, hi_j - step) > budget:
                    hi_j -= step
                    step *= 2
                if hi_j - step > lo_j:
                    lo_j = hi_j - step
            while hi_j - lo_j > 1:
                mid = (lo_j + hi_j) // 2
                if _f_at(form, q, mid) > budget:
                    hi_j = mid
                else:
                    lo_j = mid
            j = hi_j
            p = j - 1
            s_p = q[p, BE]
            b_q = _row_response(form, q, p, s_p, &s_q)
            if p != p_known:
                f_p = _prefix_eval(form, q, p, s_p, &slope_p, &value_p, &surplus_p)
            # With many queries the budget sits within a few tokens of F_p or G_p, so the price moves by
            # a relative 1e-6 or so: one Newton step from s_p is then exact to far below a token, and the
            # utilities follow to first order from the optimality condition u'(b) = price. Small or
            # far-off cases take the exact passes.
            if budget >= f_p + b_q:  # continuous with the first j funded, between s_j and s_p
                lam = s_p + (budget - f_p - b_q) / (slope_p + s_q) if slope_p + s_q < 0.0 else -1.0
                if not (lam > s_p * (1.0 - NEAR) and lam > (q[j, BE] if j < m else 0.0)):
                    lam = _solve_prefix(form, q, j, budget, q[j, BE] if j < m else 0.0, s_p, s_p, f_p + b_q,
                                        slope_p + s_q)
                bound = lam * budget + _fill(form, q, order, j, lam, tokens_out)
                kind = CONTINUOUS
            else:
                # a jump at s_p: leave query p out (the others take its tokens), or fund it at a higher price
                bound = s_p * budget + surplus_p
                lam_out = s_p + (budget - f_p) / slope_p if slope_p < 0.0 else -1.0
                lam_in = s_p + (budget - f_p - b_q) / (slope_p + s_q) if slope_p + s_q < 0.0 else INFINITY
                if lam_out > s_p * (1.0 - NEAR) and lam_in < s_p * (1.0 + NEAR):
                    value_out = value_p + s_p * slope_p * (lam_out - s_p)
                    value_in = value_p + _u_at(form, q[p, TAU], q[p, SCALE], q[p, BETA], b_q) + s_p * (
                        slope_p + s_q) * (lam_in - s_p)
                    if value_in > value_out:
                        _fill(form, q, order, p + 1, lam_in, tokens_out)
                        kind = JUMP_IN
                    else:
                        _fill(form, q, order, p, lam_out, tokens_out)
                        kind = JUMP_OUT
    if kind == -1:  # the jump's options were too far from s_p for one Newton step: solve them exactly
        with nogil:
            kind = _resolve_jump(form, q, order, p, budget, s_p, f_p, slope_p, b_q, s_q, tokens_out)
    if kind == CONTINUOUS:
        return kind, lam, -1, bound
    return kind, s_p, p, bound


cdef int _resolve_jump(int form, const double[:, ::1] q, const long long[::1] order, Py_ssize_t p, double budget,
                       double s_p, double f_p, double slope_p, double b_q, double s_q,
                       double[::1] tokens_out) noexcept nogil:
    """Compare leaving row p out with funding it at a higher price, each solved exactly; fill the better."""
    cdef double lam_out, lam_in = 0.0, value_out, value_in = -1.0, total, slope, surplus, floor_in = 0.0
    cdef double top = 0.0, marginal_max
    cdef Py_ssize_t k
    lam_out = _solve_prefix(form, q, p, budget, 0.0, s_p, s_p, f_p, slope_p)
    _prefix_eval(form, q, p, lam_out, &slope, &value_out, &surplus)
    for k in range(p + 1):
        floor_in += q[k, LOWER]
        # above the largest marginal utility every response sits at its lower bound
        marginal_max = q[k, SCALE] if form == SURGE else q[k, SCALE] / (q[k, BETA] * E)
        if marginal_max > top:
            top = marginal_max
    if floor_in <= budget:
        lam_in = _solve_prefix(form, q, p + 1, budget, s_p, top, s_p, f_p + b_q, slope_p + s_q)
        total = _prefix_eval(form, q, p + 1, lam_in, &slope, &value_in, &surplus)
        # a response that jumps to its lower bound can skip over the budget: check feasibility
        if total > budget * (1.0 + 1e-12):
            value_in = -1.0
    if value_in > value_out:
        _fill(form, q, order, p + 1, lam_in, tokens_out)
        return JUMP_IN
    _fill(form, q, order, p, lam_out, tokens_out)
    return JUMP_OUT


cdef double[:, ::1] _packed(Py_ssize_t rows):
    """A new rows x FIELDS block of doubles (uninitialised)."""
    return cvarray(shape=(rows, FIELDS), itemsize=sizeof(double), format="d")


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


def shared_round(int form, const double[::1] tau, double a, double beta, double x, double[::1] tokens_out,
                 double[::1] gains_out):
    """Whole grants ``floor(tau + x)`` (at least ``ceil(tau)``) and the gain of one more token; returns their sum."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double t, total = 0.0
    with nogil:
        for i in range(n):
            t = floor(tau[i] + x + 1e-9)
            if t < ceil(tau[i]):
                t = ceil(tau[i])
            tokens_out[i] = t
            total += t
            gains_out[i] = _u(form, a, beta, t + 1.0 - tau[i]) - _u(form, a, beta, t - tau[i])
    return total


def shared_value(int form, const double[::1] tau, double a, double beta, const double[::1] tokens):
    """Summed utility of grants ``tokens`` for queries sharing ``a`` and ``beta``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0
    with nogil:
        for i in range(n):
            total += _u(form, a, beta, tokens[i] - tau[i])
    return total


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
