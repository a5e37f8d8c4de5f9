# cython: language_level=3
"""Kernel entry points for queries that share their parameters (the paper's case).

When every query has the same ``a`` and ``beta`` and no bounds, each funded
query gets the same increment ``x`` above its own threshold and the funded set
is the ``k`` smallest thresholds, so one sort (done in clear_fast.allocate) and
one scan give the exact answer. Built on curve.pxd and lambert.pxd; trusts its
inputs (``tau_sorted`` ascending, ``prefix_tau[k]`` the sum of its first k)
and never raises for data. The twin, with the mathematics, is
clear_fast/_reference/shared_params.py.
"""

from libc.math cimport ceil, expm1, floor, INFINITY

from .curve cimport SURGE, utility_past_threshold
from .lambert cimport E, INV_E, cumulative_root, lambert_w0


def shared_scan(int form, const double[::1] tau_sorted, double a, double beta, double budget):
    """Best number ``k`` of easiest queries to fund and their common increment ``x``; ``(k, x)``.

    The scan stops early once no larger ``k`` can do better: ``U(x) <= slope x``
    with ``slope`` the curve's steepest marginal utility, so funding ``k`` or more
    is worth at most ``slope`` times the tokens left past the thresholds, which
    only shrink as ``k`` grows (thresholds are >= 0). The answer is the full scan's.
    """
    cdef Py_ssize_t k, best_k = 0, n = tau_sorted.shape[0]
    cdef double best_value = 0.0, best_x = 0.0, prefix = 0.0, remaining, x, value
    cdef double x_peak = 1.0 / beta if form == SURGE else INFINITY
    # U(x) <= steepest * x for x >= 0 (1e-12 absorbs the rounding of the values compared with it)
    cdef double steepest = (a if form == SURGE else a / (beta * E)) * (1.0 + 1e-12)
    with nogil:
        for k in range(1, n + 1):
            prefix += tau_sorted[k - 1]
            remaining = budget - prefix
            if remaining <= 0.0 or remaining * steepest < best_value:
                break
            x = remaining / k
            if x > x_peak:
                x = x_peak
            value = k * utility_past_threshold(form, a, beta, x)
            if value > best_value:
                best_value = value
                best_k = k
                best_x = x
    return best_k, best_x


def shared_round(int form, const double[::1] tau, double a, double beta, double x, double[::1] tokens_out,
                 double[::1] gains_out):
    """Whole grants ``floor(tau + x)`` (at least ``ceil(tau)``) and the gain of one more token; returns their sum."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double tokens, total = 0.0
    with nogil:
        for i in range(n):
            tokens = floor(tau[i] + x + 1e-9)
            if tokens < ceil(tau[i]):
                tokens = ceil(tau[i])
            tokens_out[i] = tokens
            total += tokens
            gains_out[i] = utility_past_threshold(form, a, beta, tokens + 1.0 - tau[i]) - utility_past_threshold(
                form, a, beta, tokens - tau[i])
    return total


def shared_value(int form, const double[::1] tau, double a, double beta, const double[::1] tokens):
    """Summed utility of grants ``tokens`` for queries sharing ``a`` and ``beta``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0
    with nogil:
        for i in range(n):
            total += utility_past_threshold(form, a, beta, tokens[i] - tau[i])
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
            value[0] = n * utility_past_threshold(form, a, beta, x)
        else:
            total[0] = INFINITY
            value[0] = n * a / (beta * beta)
        return
    if form == SURGE:
        if lam >= a:
            total[0] = 0.0
            value[0] = lam * budget
            return
        w = lambert_w0(E * lam / a)
        threshold = (1.0 - w) * (1.0 - w) / (beta * w)
        x = (1.0 - w) / beta
    else:
        if -lam * beta / a <= -INV_E:
            total[0] = 0.0
            value[0] = lam * budget
            return
        y = -cumulative_root(lam, beta, a)
        threshold = (expm1(y) - y - y * y) / (y * beta)
        x = y / beta
    while lo < hi:
        mid = (lo + hi) // 2
        if tau_sorted[mid] < threshold:
            lo = mid + 1
        else:
            hi = mid
    total[0] = lo * x + prefix_tau[lo]
    value[0] = lam * budget + lo * (utility_past_threshold(form, a, beta, x) - lam * x) - lam * prefix_tau[lo]


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
