"""The exact search: the twin of clear_fast/_solver/exact_search.pyx.

When the market clearing's answer is not certified by the dual bound, the
Python layer (``clear_fast/_exact.py`` for curves, ``clear_fast/_exact_levels.py``
for levels) hands the queries the bound cannot settle to one of the two entry
points here:

* :func:`token_search`: each query's grants are whole tokens on its curve;
* :func:`level_search`: each query picks one of a few options (effort levels,
  or candidate grants of ``allocate_uncertain``) whose costs need not be whole.

The bound (for either)
----------------------
For a price ``lam >= 0`` and any choice with total cost at most ``B``::

    value = lam B + sum_q s_q - lam (B - cost),   s_q = value_q - lam cost_q  (0 for "nothing")

so ``upper = lam B + sum_q S_q`` bounds the optimum (``S_q``: the most ``s_q``
can be). A choice worth more than ``upper - theta`` has every query's loss
``S_q - s_q`` below ``theta``. So a search *round* with threshold ``theta``
keeps, per query, the options losing less than ``theta`` (a query with
``S_q >= theta`` must be funded: leaving it out loses ``S_q``) and finds the
best choice among them exactly; after it the optimum is at most
``max(best found, upper - theta)``.

The rounds
----------
The tolerance is ``max(rtol * value, lam)``: relative, or one token's worth at
the margin. Rounds start at ``theta = (upper - value - tolerance) / 16`` (few
options survive a small threshold, so a round is cheap, and it often finds
the optimum already) and grow fourfold, never past ``upper - value -
tolerance``, at which the answer is certified. Work is counted in cells (one
option tried against one state of the table) and capped by ``max_cells``
over all rounds; memory by :data:`MAX_STATES` (the states a round keeps to
read its answer back; for levels also the states it tries for one query). A
round that would pass either stops, and what the completed rounds proved is
returned.

Each round is a multiple-choice knapsack solved by dynamic programming,
pruned by the same bound: with ``T_q`` the most query ``q``'s kept options can
add to ``value - lam * extra cost``, a partial choice worth ``v`` at cost ``c``
can reach at most ``v + lam (budget - c) + sum of T_q over the queries not yet
decided``; a state that cannot pass ``upper - theta`` is dropped.

Conventions shared with the compiled kernel: inputs are trusted (the Python
layer validates, orders the queries canonically and computes the turning
points); ties go to "not funded", then the cheaper option, then the state
with fewer tokens.
"""

from __future__ import annotations

import enum
import math

import numpy as np

from .curve import utility_past_threshold as _u


class SearchStatus(enum.IntEnum):
    """How a search ended (the compiled kernel's cpdef enum, value for value)."""

    DONE = 0  # every round ran to its end
    CAPPED = 1  # a round would have passed the work cap: nothing it found counts


_FIRST_ROUND = 1.0 / 16.0
_GROWTH = 4.0
#: memory: the most table states a round keeps for reading its answer back (and, for levels, tries at once)
MAX_STATES = 1 << 21


def _closes(proven, achieved, tol):
    """Whether the certified gap is within the tolerance (with room for float rounding of the bound)."""
    return proven - achieved <= tol + 1e-12 * abs(proven)


def _deepen(upper, achieved, rtol, price, max_cells, run_round):
    """The rounds of a search. ``run_round(theta, target, cells_left)`` returns ``(status, value, cells, choice)``.

    Returns ``(status, value, proven, threshold, cells, choice)``: the best value
    (``achieved`` unless a round beat it, then ``choice`` is that round's), the
    proven upper bound, the last completed round's threshold and the cells used.
    """
    tol = max(rtol * max(achieved, 0.0), price)
    proven = upper
    slack = 1e-10 * abs(upper)  # the options kept and the states pruned err on the inclusive side
    theta = _FIRST_ROUND * (upper - achieved - tol)
    threshold = 0.0
    cells = 0.0
    status = SearchStatus.DONE
    choice = None
    while not _closes(proven, achieved, tol):
        theta = min(theta, upper - achieved - tol)
        code, found, used, picked = run_round(theta + slack, upper - theta - slack, max_cells - cells)
        cells += used
        if code == SearchStatus.CAPPED:
            status = SearchStatus.CAPPED
            break
        if found > achieved:
            achieved, choice = found, picked
            tol = max(rtol * achieved, price)
        threshold = theta
        proven = min(proven, max(achieved, upper - theta))
        theta *= _GROWTH
    return status, achieved, max(proven, achieved), threshold, cells, choice


def _reserves(costs_of, values_of, required, price):
    """``T_q`` per query: the most it can add to ``value - price * cost`` (0, nothing, when it is optional)."""
    reserves = []
    for q in range(len(costs_of)):
        best = -math.inf if required[q] else 0.0
        for c, v in zip(costs_of[q], values_of[q]):
            best = max(best, v - price * c)
        reserves.append(best)
    return reserves


# ---------------------------------------------------------------------------------------------
# Whole-token grants on curves
# ---------------------------------------------------------------------------------------------


def _grant_options(form, tau, a, beta, lower, top, low, high, level, price):
    """Whole-token grants ``b`` in ``[lower, top]`` with ``s(b) = U(b) - price b > level``, ascending.

    ``s`` falls on ``[lower, low]``, rises on ``[low, high]`` and falls on
    ``[high, top]``, so the grants above the level are a run from ``lower`` and
    a run around ``high``: each is walked from its known end until it fails.
    """

    def s(b):
        return _u(form, a, beta, b - tau) - price * b

    grants = []
    b = lower
    while b <= math.floor(low) and s(b) > level:
        grants.append(b)
        b += 1.0
    first_end = grants[-1] if grants else lower - 1.0
    start = max(math.floor(high), first_end + 1.0)
    around = []
    b = start
    while first_end < b <= top and s(b) > level:
        around.append(b)
        b -= 1.0
    around.reverse()
    b = start + 1.0
    while b <= top and s(b) > level:
        around.append(b)
        b += 1.0
    return grants + around


def _token_round(starts_grants, values_of, required, budget, price, target, max_cells):
    """One round: best whole-token grants among the options, worth more than ``target``.

    ``starts_grants[q]`` lists query q's options (ascending), ``values_of[q]`` their
    utilities. The required queries' smallest grants are set aside first, so
    the table runs over the ``cap = budget - sum of those`` tokens left; an
    option's extra cost is its grant less that base (its whole grant for an
    optional query). ``best[s]`` over the queries processed so far is the most
    value with at most ``s`` extra tokens; adding query ``q`` sets
    ``new[s] = max(best[s] if optional, max_k best[s - extra_k] + value_k)``,
    on the window of states the bound keeps: O(options x window) per query.
    """
    m = len(starts_grants)
    base = [starts_grants[q][0] if required[q] else 0.0 for q in range(m)]
    cap = int(budget - sum(base))
    if cap < 0:
        return SearchStatus.DONE, -math.inf, 0.0, None
    extras = [[g - base[q] for g in starts_grants[q]] for q in range(m)]
    reserves = _reserves(extras, values_of, required, price)
    rest = sum(reserves)

    s = np.arange(cap + 1, dtype=np.float64)
    best = np.zeros(cap + 1)
    best[best + price * (cap - s) + rest <= target] = -math.inf
    alive = np.flatnonzero(best > -math.inf)
    if alive.shape[0] == 0:
        return SearchStatus.DONE, -math.inf, 0.0, None
    lo, hi = int(alive[0]), int(alive[-1])
    cells = 0.0
    stored = 0
    history = []  # per query: first state of the stored window, the option chosen per state (-1: not funded)
    for q in range(m):
        count = len(extras[q])
        cells += (count + (0 if required[q] else 1)) * (hi - lo + 1)
        if cells > max_cells:
            return SearchStatus.CAPPED, -math.inf, cells, None
        new = np.full(cap + 1, -math.inf)
        choice = np.full(cap + 1, -1, dtype=np.int64)
        if not required[q]:
            new[lo : hi + 1] = best[lo : hi + 1]
        for k in range(count):
            e = int(extras[q][k])
            if lo + e > cap:
                break  # options are ascending: the rest do not fit either
            top = min(hi, cap - e)
            shifted = best[lo : top + 1] + values_of[q][k]
            window = new[lo + e : top + e + 1]
            better = shifted > window
            window[better] = shifted[better]
            choice[lo + e : top + e + 1][better] = k
        rest -= reserves[q]
        new[new + price * (cap - s) + rest <= target] = -math.inf
        alive = np.flatnonzero(new > -math.inf)
        if alive.shape[0] == 0:
            return SearchStatus.DONE, -math.inf, cells, None
        lo, hi = int(alive[0]), int(alive[-1])
        stored += hi - lo + 1
        if stored > MAX_STATES:
            return SearchStatus.CAPPED, -math.inf, cells, None
        history.append((lo, choice[lo : hi + 1].copy()))
        best = new

    at = int(np.argmax(best))  # the first of equal values: the fewest tokens
    value = float(best[at])
    grants = [0.0] * m
    for q in range(m - 1, -1, -1):
        offset, choice = history[q]
        k = int(choice[at - offset])
        if k >= 0:
            grants[q] = starts_grants[q][k]
            at -= int(extras[q][k])
    return SearchStatus.DONE, value, cells, grants


def token_search(
    form, tau, scale, beta, lower, top, low, high, peak, budget, price, upper, achieved, rtol, max_cells, grants_out
):
    """Search whole-token grants of the queries the bound could not settle.

    Parameters
    ----------
    form : int
        0 surge, 1 cumulative.
    tau, scale, beta : float64 arrays, shape (m,)
        The queries' curves (``scale = weight * alpha``), in the order to process them.
    lower, top : float64 arrays
        Each query's smallest and largest useful whole-token grant (``top <= budget``).
    low, high : float64 arrays
        Where ``s(b) = U(b) - price b`` turns on ``[lower, top]``: it falls to
        ``low``, rises to ``high`` and falls after.
    peak : float64 array
        ``S_q``: the most ``s`` reaches over the query's whole-token grants and 0.
    budget : float
        Whole tokens available to these queries.
    price : float
        The shadow price of the bound (>= 0).
    upper : float
        ``price * budget + sum of S`` over all queries (the others add 0 to it).
    achieved : float
        The value of the answer in hand.
    rtol : float
        Relative tolerance.
    max_cells : float
        Work cap over all rounds.
    grants_out : float64 array, shape (m,)
        Receives the grants when a round beats ``achieved`` (0: not funded).

    Returns
    -------
    (status, value, proven, threshold, cells)
        ``SearchStatus.DONE`` or ``SearchStatus.CAPPED``; the best value (``achieved`` if no
        round beat it, and then ``grants_out`` is untouched); the proven upper
        bound; the last completed round's threshold; the cells used.
    """
    m = len(tau)

    def run_round(theta, target, cells_left):
        rows, options, values, required = [], [], [], []
        for q in range(m):
            level = peak[q] - theta
            grants = _grant_options(form, tau[q], scale[q], beta[q], lower[q], top[q], low[q], high[q], level, price)
            if not grants:
                continue
            rows.append(q)
            options.append(grants)
            values.append([_u(form, scale[q], beta[q], g - tau[q]) for g in grants])
            required.append(peak[q] >= theta)
        code, value, cells, grants = _token_round(options, values, required, budget, price, target, cells_left)
        picked = None
        if grants is not None:
            picked = [0.0] * m
            for row, grant in zip(rows, grants):
                picked[row] = grant
        return code, value, cells, picked

    status, value, proven, threshold, cells, choice = _deepen(upper, achieved, rtol, price, max_cells, run_round)
    if choice is not None:
        for q in range(m):
            grants_out[q] = choice[q]
    return status, value, proven, threshold, cells


# ---------------------------------------------------------------------------------------------
# Effort levels (costs need not be whole)
# ---------------------------------------------------------------------------------------------


def _level_round(costs_of, values_of, required, budget, price, target, max_cells):
    """One round over effort levels: the Pareto front of (cost, value) pairs, query by query.

    The states after each query are the partial choices no other beats: cost
    ascending, each worth strictly more than every cheaper one. Adding a
    query tries each kept option on each state, drops what exceeds the budget
    or cannot pass ``target`` by the bound, and keeps the new front. Exact for
    any real costs; O(states x options) per query plus a sort.
    """
    m = len(costs_of)
    reserves = _reserves(costs_of, values_of, required, price)
    rest = sum(reserves)
    cost = np.zeros(1)
    value = np.zeros(1)
    if not value[0] + price * (budget - cost[0]) + rest > target:
        return SearchStatus.DONE, -math.inf, 0.0, None
    cells = 0.0
    stored = 0
    history = []  # per query: the parent state and the option (-1: none) of each state kept
    for q in range(m):
        options = list(range(len(costs_of[q]))) if required[q] else [-1, *range(len(costs_of[q]))]
        cells += len(options) * cost.shape[0]
        if cells > max_cells or len(options) * cost.shape[0] > MAX_STATES:
            return SearchStatus.CAPPED, -math.inf, cells, None
        rest -= reserves[q]
        parts = []
        for rank, k in enumerate(options):
            c = cost + (costs_of[q][k] if k >= 0 else 0.0)
            v = value + (values_of[q][k] if k >= 0 else 0.0)
            keep = (c <= budget) & (v + price * (budget - c) + rest > target)
            parents = np.flatnonzero(keep)
            parts.append((c[keep], v[keep], np.full(parents.shape[0], rank), parents))
        c, v, rank, parent = (np.concatenate(column) for column in zip(*parts))
        if c.shape[0] == 0:
            return SearchStatus.DONE, -math.inf, cells, None
        order = np.lexsort((parent, rank, -v, c))  # cost up; at equal cost the best value first
        c, v, rank, parent = c[order], v[order], rank[order], parent[order]
        running = np.maximum.accumulate(v)
        front = np.ones(c.shape[0], dtype=bool)
        front[1:] = v[1:] > running[:-1]  # strictly better than everything before it
        cost, value = c[front], v[front]
        stored += cost.shape[0]
        if stored > MAX_STATES:
            return SearchStatus.CAPPED, -math.inf, cells, None
        history.append((parent[front], np.array(options)[rank[front]]))

    at = int(np.argmax(value))  # values rise along the front: the last state is the best
    best = float(value[at])
    picked = [-1] * m
    for q in range(m - 1, -1, -1):
        parents, options = history[q]
        picked[q] = int(options[at])
        at = int(parents[at])
    return SearchStatus.DONE, best, cells, picked


def level_search(starts, costs, values, budget, price, upper, achieved, rtol, max_cells, chosen_out):
    """Search effort levels of the queries the bound could not settle.

    Parameters
    ----------
    starts : int64 array, shape (m + 1,)
        Query ``q``'s options are ``[starts[q], starts[q + 1])`` of ``costs`` and
        ``values``, cost ascending (the Python layer drops options worth
        nothing or dearer than the budget).
    costs, values : float64 arrays
    budget, price, upper, achieved, rtol, max_cells
        As in :func:`token_search`; ``upper`` counts every query's ``S_q``.
    chosen_out : int64 array, shape (m,)
        Receives the chosen option's index into ``costs`` (-1: none) when a round
        beats ``achieved``.

    Returns
    -------
    (status, value, proven, threshold, cells)
        As in :func:`token_search`.
    """
    m = len(starts) - 1
    peaks = []
    for q in range(m):
        best = 0.0
        for k in range(starts[q], starts[q + 1]):
            best = max(best, values[k] - price * costs[k])
        peaks.append(best)

    def run_round(theta, target, cells_left):
        rows, kept, costs_of, values_of, required = [], [], [], [], []
        for q in range(m):
            level = peaks[q] - theta
            ids = [k for k in range(starts[q], starts[q + 1]) if values[k] - price * costs[k] > level]
            if not ids:
                continue
            rows.append(q)
            kept.append(ids)
            costs_of.append([costs[k] for k in ids])
            values_of.append([values[k] for k in ids])
            required.append(peaks[q] >= theta)
        code, value, cells, picked = _level_round(costs_of, values_of, required, budget, price, target, cells_left)
        choice = None
        if picked is not None:
            choice = [-1] * m
            for row, ids, k in zip(rows, kept, picked):
                choice[row] = ids[k] if k >= 0 else -1
        return code, value, cells, choice

    status, value, proven, threshold, cells, choice = _deepen(upper, achieved, rtol, price, max_cells, run_round)
    if choice is not None:
        for q in range(m):
            chosen_out[q] = choice[q]
    return status, value, proven, threshold, cells
