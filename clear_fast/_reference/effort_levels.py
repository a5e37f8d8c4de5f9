"""Discrete effort levels: the twin of clear_fast/_solver/effort_levels.pyx.

Each query picks one of L options ``(cost, utility)`` or nothing: a
multiple-choice knapsack. Its LP relaxation is solved exactly by taking, for
each query, the edges of the upper concave hull of its options (with the
origin) in order of decreasing slope across all queries; the first edge that
does not fit, taken fractionally, gives the LP optimum, an upper bound on the
integer one.
"""

from __future__ import annotations


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
