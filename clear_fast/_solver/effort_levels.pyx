# cython: language_level=3
"""Kernel entry points for discrete effort levels (a multiple-choice knapsack).

Each query picks one of L options (cost, utility) or nothing. The LP
relaxation's optimum takes, per query, the edges of the upper concave hull of
its options from the origin, greedily by slope: level_hulls writes those edges,
clear_fast.levels sorts them, level_greedy takes them while they fit. Pure
arithmetic on the caller's validated buffers; nothing here raises for data.
The twin is clear_fast/_reference/effort_levels.py.
"""

from cython.view cimport array as cvarray


def level_hulls(const double[::1] costs, const double[::1] utilities, Py_ssize_t n, Py_ssize_t levels,
                long long[::1] inc_query, long long[::1] inc_level, double[::1] inc_cost, double[::1] inc_gain):
    """Upper concave hull of each query's options from the origin, written as increments; returns the count.

    Per query the L options are insertion-sorted by (cost, -utility) into a
    scratch list (L is small), then scanned once with a monotone-chain hull.
    """
    cdef Py_ssize_t i, l, k, top, count = 0, base
    cdef long long swap
    cdef double c, u, c1, u1, c2, u2
    # scratch for one query: its levels by cost, and the hull's stack (the origin, up to all L options,
    # and one more slot for re-anchoring at the origin)
    cdef long long[::1] by_cost = cvarray(shape=(levels + 2,), itemsize=sizeof(long long), format="q")
    cdef double[::1] hull_c = cvarray(shape=(levels + 2,), itemsize=sizeof(double), format="d")
    cdef double[::1] hull_u = cvarray(shape=(levels + 2,), itemsize=sizeof(double), format="d")
    cdef long long[::1] hull_l = cvarray(shape=(levels + 2,), itemsize=sizeof(long long), format="q")
    with nogil:
        for i in range(n):
            base = i * levels
            for l in range(levels):  # insertion sort of this query's levels
                by_cost[l] = l
                k = l
                while k > 0 and (costs[base + by_cost[k - 1]] > costs[base + by_cost[k]] or (
                        costs[base + by_cost[k - 1]] == costs[base + by_cost[k]]
                        and utilities[base + by_cost[k - 1]] < utilities[base + by_cost[k]])):
                    swap = by_cost[k - 1]
                    by_cost[k - 1] = by_cost[k]
                    by_cost[k] = swap
                    k -= 1
            top = 0
            hull_c[0] = 0.0
            hull_u[0] = 0.0
            hull_l[0] = -1
            for l in range(levels):
                c = costs[base + by_cost[l]]
                u = utilities[base + by_cost[l]]
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
                hull_l[top] = by_cost[l]
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
