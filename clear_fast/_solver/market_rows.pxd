# cython: language_level=3
"""The market's queries packed in order of decreasing break-even price, and passes over a prefix of them.

The third layer of the compiled kernel, above curve.pxd, and the ground every
market-clearing step stands on (market.pyx today; an exact step may join it).
The fundable queries are copied once, in clearing order, into one row-major
block of FIELDS doubles per row: every later pass over a prefix of that order
then streams through memory instead of jumping around the caller's arrays.
The block holds only what the caller validated; nothing here raises for data.
The twin is clear_fast/_reference/market_rows.py.

Notation (as in the twin's clear_price): row k is the k-th query in clearing
order, ``s_k`` its break-even price, and ``F_j`` the demand of the first j
rows at ``s_j``, the price at which row j would join the market.
"""

from libc.math cimport fabs, NAN

from .curve cimport best_grant, utility_at

# the columns of a row (an anonymous enum: memoryviews take only integer indices)
cdef enum:
    TAU = 0
    SCALE = 1
    BETA = 2
    LOWER = 3
    UPPER = 4
    BREAKEVEN = 5
    FIELDS = 6


cdef struct PrefixAt:
    # the first `count` rows at one price: their demand, its slope and second derivative in the price,
    # their utility and their positive surplus
    Py_ssize_t count
    double demand
    double slope
    double curvature
    double value
    double surplus


cdef inline double row_grant(int form, const double[:, ::1] rows, Py_ssize_t k, double lam,
                             double* slope) noexcept nogil:
    return best_grant(form, rows[k, TAU], rows[k, SCALE], rows[k, BETA], rows[k, LOWER], rows[k, UPPER], lam, slope)


cdef inline double grant_curvature(double slope, double lam, double beta) noexcept nogil:
    """Second derivative in the price of a grant whose slope is ``slope`` (0 where the grant is at a bound).

    An interior grant is ``tau + x`` with ``x' = -W / (lam beta (1 + W))`` on either
    branch, so with ``r = -x' lam beta = W / (1 + W)`` its second derivative is
    ``x'' = -x' r (2 - r) / lam``: no further transcendental per row.
    """
    cdef double r
    if slope >= 0.0 or lam <= 0.0:
        return 0.0
    r = -slope * lam * beta
    return -slope * r * (2.0 - r) / lam


cdef inline double newton_move(double excess, double slope, double curvature) noexcept nogil:
    """The price move ``d`` with ``excess + slope d + curvature d^2 / 2 = 0`` (to third order in ``d``).

    One Newton move, then the quadratic's root refined once from it; NaN (which
    every caller's range check refuses) when the curvature would change the
    move by half or more, so that the step could not be trusted.
    """
    cdef double first = -excess / slope
    cdef double refined_slope = slope + 0.5 * curvature * first
    if not (fabs(refined_slope - slope) <= 0.5 * fabs(slope)):
        return NAN
    return -excess / refined_slope


cdef inline double row_utility(int form, const double[:, ::1] rows, Py_ssize_t k, double tokens) noexcept nogil:
    return utility_at(form, rows[k, TAU], rows[k, SCALE], rows[k, BETA], tokens)


cdef double[:, ::1] pack_rows(const long long[::1] order, const double[::1] tau, const double[::1] scale,
                              const double[::1] beta, const double[::1] min_tokens, const double[::1] max_tokens,
                              const double[::1] breakeven_price)
cdef double[:, ::1] every_nth_row(const double[:, ::1] rows, Py_ssize_t stride)
cdef Py_ssize_t count_above(const double[:, ::1] rows, double lam) noexcept nogil
cdef double prefix_demand(int form, const double[:, ::1] rows, Py_ssize_t count, double lam,
                          double* slope) noexcept nogil
cdef double prefix_demand_curved(int form, const double[:, ::1] rows, Py_ssize_t count, double lam, double* slope,
                                 double* curvature) noexcept nogil
cdef void prefix_at(int form, const double[:, ::1] rows, Py_ssize_t count, double lam, PrefixAt* out) noexcept nogil
cdef double demand_as_row_joins(int form, const double[:, ::1] rows, Py_ssize_t j) noexcept nogil
cdef double solve_prefix(int form, const double[:, ::1] rows, Py_ssize_t count, double budget, double lo,
                         double hi, double lam, double total, double slope, PrefixAt* at) noexcept nogil
cdef double fill(int form, const double[:, ::1] rows, const long long[::1] order, Py_ssize_t count, double lam,
                 double[::1] tokens_out) noexcept nogil
cdef void fill_grants(int form, const double[:, ::1] rows, const long long[::1] order, Py_ssize_t count, double lam,
                      double[::1] tokens_out) noexcept nogil
