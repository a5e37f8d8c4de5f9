# cython: language_level=3
"""Kernel entry points that evaluate each query's curve on its own (the scalars are in curve.pxd).

Layering and contract: clear_fast.pricing, clear_fast.allocate and
clear_fast._rounding validate and coerce every input, then call these with
contiguous float64 buffers of one length per query. Nothing here raises for
data; loops run without the GIL. The twin is clear_fast/_reference/curve.py.
"""

from libc.math cimport floor, INFINITY


def utility(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
            const double[::1] tokens, double[::1] out):
    """``out[i] = u_i(tokens[i])`` (0 below the threshold)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    with nogil:
        for i in range(n):
            out[i] = utility_at(form, tau[i], scale[i], beta[i], tokens[i])


def breakeven(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
              const double[::1] min_tokens, const double[::1] max_tokens, double[::1] price_out,
              double[::1] tangent_out):
    """Break-even price and the tokens where it is reached, per query (0, 0 if never fundable)."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double grant, lower, upper
    with nogil:
        for i in range(n):
            grant_bounds(tau[i], min_tokens[i], max_tokens[i], &lower, &upper)
            if lower > upper or scale[i] <= 0.0:
                price_out[i] = 0.0
                tangent_out[i] = 0.0
                continue
            grant = tangent_point(form, tau[i], beta[i])
            if grant < lower:
                grant = lower
            if grant > upper:
                grant = upper
            if grant <= 0.0:
                price_out[i] = scale[i]
                tangent_out[i] = 0.0
            else:
                price_out[i] = utility_at(form, tau[i], scale[i], beta[i], grant) / grant
                tangent_out[i] = grant


def demand(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
           const double[::1] min_tokens, const double[::1] max_tokens, const double[::1] breakeven_price,
           double lam, double[::1] tokens_out):
    """Best responses at ``lam`` of the queries whose break-even price exceeds it; ``(total, slope)``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0, slope = 0.0, grant, grant_slope, lower, upper
    with nogil:
        for i in range(n):
            if breakeven_price[i] > lam:
                grant_bounds(tau[i], min_tokens[i], max_tokens[i], &lower, &upper)
                grant = best_grant(form, tau[i], scale[i], beta[i], lower, upper, lam, &grant_slope)
                tokens_out[i] = grant
                total += grant
                slope += grant_slope
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
                out[i] = utility_at(form, tau[i], scale[i], beta[i], tokens[i] + 1.0) - utility_at(
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
    cdef double tokens, value, spent = 0.0, total_value = 0.0
    with nogil:
        for i in range(n):
            if continuous[i] > 0.0:
                tokens = floor(continuous[i] + 1e-9)  # absorbs the solver's tolerance: 199.9999999999 is 200
                value = utility_at(form, tau[i], scale[i], beta[i], tokens)
                tokens_out[i] = tokens
                spent += tokens
                total_value += value
                if tokens + 1.0 <= max_tokens[i]:
                    gains_out[i] = utility_at(form, tau[i], scale[i], beta[i], tokens + 1.0) - value
                else:
                    gains_out[i] = -INFINITY
            else:
                tokens_out[i] = 0.0
                gains_out[i] = -INFINITY
    return spent, total_value
