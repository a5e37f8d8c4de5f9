# cython: language_level=3
"""Packing the market's queries into rows, and the passes over a prefix of them (see market_rows.pxd)."""

from cython.view cimport array as cvarray
from libc.math cimport exp, sqrt

from .curve cimport grant_bounds


cdef double[:, ::1] pack_rows(const long long[::1] order, const double[::1] tau, const double[::1] scale,
                              const double[::1] beta, const double[::1] min_tokens, const double[::1] max_tokens,
                              const double[::1] breakeven_price):
    """A new block with the queries of ``order``, in that order, and their whole-token bounds."""
    cdef Py_ssize_t k, i, count = order.shape[0]
    cdef double[:, ::1] rows = cvarray(shape=(count, FIELDS), itemsize=sizeof(double), format="d")
    with nogil:
        for k in range(count):
            i = order[k]
            rows[k, TAU] = tau[i]
            rows[k, SCALE] = scale[i]
            rows[k, BETA] = beta[i]
            grant_bounds(tau[i], min_tokens[i], max_tokens[i], &rows[k, LOWER], &rows[k, UPPER])
            rows[k, BREAKEVEN] = breakeven_price[i]
    return rows


cdef double[:, ::1] every_nth_row(const double[:, ::1] rows, Py_ssize_t stride):
    """A new block with rows 0, stride, 2 stride, ... (an evenly spaced sample in the same order)."""
    cdef Py_ssize_t k, field, count = (rows.shape[0] + stride - 1) // stride
    cdef double[:, ::1] sample = cvarray(shape=(count, FIELDS), itemsize=sizeof(double), format="d")
    with nogil:
        for k in range(count):
            for field in range(FIELDS):
                sample[k, field] = rows[k * stride, field]
    return sample


cdef Py_ssize_t count_above(const double[:, ::1] rows, double lam) noexcept nogil:
    """How many rows have a break-even price above ``lam`` (binary search)."""
    cdef Py_ssize_t lo = 0, hi = rows.shape[0], mid
    while lo < hi:
        mid = (lo + hi) // 2
        if rows[mid, BREAKEVEN] > lam:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef double prefix_demand(int form, const double[:, ::1] rows, Py_ssize_t count, double lam,
                          double* slope) noexcept nogil:
    """Demand of the first ``count`` rows at ``lam`` and its slope (the cheap pass of the search)."""
    cdef Py_ssize_t k
    cdef double total = 0.0, grant_slope, sum_slope = 0.0
    for k in range(count):
        total += row_grant(form, rows, k, lam, &grant_slope)
        sum_slope += grant_slope
    slope[0] = sum_slope
    return total


cdef double prefix_demand_curved(int form, const double[:, ::1] rows, Py_ssize_t count, double lam, double* slope,
                                 double* curvature) noexcept nogil:
    """``prefix_demand`` with the demand's second derivative in the price too (for guesses from afar)."""
    cdef Py_ssize_t k
    cdef double total = 0.0, grant_slope, sum_slope = 0.0, sum_curvature = 0.0
    for k in range(count):
        total += row_grant(form, rows, k, lam, &grant_slope)
        sum_slope += grant_slope
        sum_curvature += grant_curvature(grant_slope, lam, rows[k, BETA])
    slope[0] = sum_slope
    curvature[0] = sum_curvature
    return total


cdef void prefix_at(int form, const double[:, ::1] rows, Py_ssize_t count, double lam, PrefixAt* out) noexcept nogil:
    """Demand of the first ``count`` rows at ``lam``, its slope and curvature, their utility and positive surplus."""
    cdef Py_ssize_t k
    cdef double total = 0.0, grant_slope, grant, value, sum_slope = 0.0, sum_value = 0.0, sum_surplus = 0.0
    cdef double sum_curvature = 0.0
    for k in range(count):
        grant = row_grant(form, rows, k, lam, &grant_slope)
        total += grant
        sum_slope += grant_slope
        sum_curvature += grant_curvature(grant_slope, lam, rows[k, BETA])
        value = row_utility(form, rows, k, grant)
        sum_value += value
        if value - lam * grant > 0.0:
            sum_surplus += value - lam * grant
    out.count = count
    out.demand = total
    out.slope = sum_slope
    out.curvature = sum_curvature
    out.value = sum_value
    out.surplus = sum_surplus


cdef double demand_as_row_joins(int form, const double[:, ::1] rows, Py_ssize_t j) noexcept nogil:
    """``F_j``: demand of the first j rows at the j-th break-even price (price 0 for j = all rows)."""
    cdef double slope
    if j >= rows.shape[0]:
        return prefix_demand(form, rows, rows.shape[0], 0.0, &slope)
    return prefix_demand(form, rows, j, rows[j, BREAKEVEN], &slope)


cdef double solve_prefix(int form, const double[:, ::1] rows, Py_ssize_t count, double budget, double lo,
                         double hi, double lam, double total, double slope, PrefixAt* at) noexcept nogil:
    """Price in [lo, hi] where the first ``count`` rows demand ``budget``: safeguarded Newton.

    Starts from ``lam`` whose demand ``total`` and ``slope`` the caller already
    knows; demand falls in price. Returns the price with demand <= budget
    nearest the crossing. When ``at`` is not NULL it gets the first ``count``
    rows at the returned price, from the solve's own last pass when it ended
    there (a caller wanting the utility there saves a pass).
    """
    cdef double candidate, answer, evaluated = -1.0  # the price `at` holds (-1: none)
    cdef int k
    cdef bint tried_zero = False
    answer = hi
    for k in range(200):
        if total > budget:
            lo = lam
        else:
            hi = lam
            if budget - total <= 1e-9 * (budget if budget > 1.0 else 1.0) or lam == 0.0:
                answer = lam
                break
        if hi - lo <= 1e-15 * hi:
            answer = hi
            break
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
        if at != NULL:
            prefix_at(form, rows, count, lam, at)
            total = at.demand
            slope = at.slope
            evaluated = lam
        else:
            total = prefix_demand(form, rows, count, lam, &slope)
        answer = hi
    if at != NULL and evaluated != answer:
        prefix_at(form, rows, count, answer, at)
    return answer


cdef double fill(int form, const double[:, ::1] rows, const long long[::1] order, Py_ssize_t count, double lam,
                 double[::1] tokens_out) noexcept nogil:
    """Write the first ``count`` grants at ``lam`` to the caller's positions; return their positive surplus."""
    cdef Py_ssize_t k
    cdef double grant_slope, grant, value, surplus = 0.0
    for k in range(count):
        grant = row_grant(form, rows, k, lam, &grant_slope)
        tokens_out[order[k]] = grant
        value = row_utility(form, rows, k, grant)
        if value - lam * grant > 0.0:
            surplus += value - lam * grant
    return surplus


cdef void fill_grants(int form, const double[:, ::1] rows, const long long[::1] order, Py_ssize_t count, double lam,
                      double[::1] tokens_out) noexcept nogil:
    """``fill`` without the surplus (a jump's bound is taken at its break-even price): no utility per row."""
    cdef Py_ssize_t k
    cdef double grant_slope
    for k in range(count):
        tokens_out[order[k]] = row_grant(form, rows, k, lam, &grant_slope)
