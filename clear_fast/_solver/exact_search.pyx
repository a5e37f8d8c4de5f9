# cython: language_level=3
"""The exact search: whole-token grants and effort levels, solved exactly, round by round.

The kernel's top layer for allocations the dual bound cannot certify, over
curve.pxd. clear_fast._exact and clear_fast._exact_levels choose the queries
the bound cannot settle, order them canonically and compute each one's
turning points and surplus peak; these entry points run the search rounds
(options below a threshold, an exact multiple-choice knapsack by dynamic
programming pruned by the same bound), trust their inputs and never raise
for data. Buffers are malloc'd and freed here; a failed allocation ends the
search as the work cap does. The twin, with the mathematics, is
clear_fast/_reference/exact_search.py; the two agree number for number (the
same options, the same order of operations, the same ties).
"""

from libc.math cimport fabs, floor, INFINITY
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcpy

from .curve cimport utility_past_threshold


cpdef enum SearchStatus:
    DONE = 0  # every round ran to its end
    CAPPED = 1  # a round would have passed the work cap (or memory ran out): nothing it found counts

cdef double FIRST_ROUND = 1.0 / 16.0
cdef double GROWTH = 4.0
# memory: the most table states a round keeps for reading its answer back (and, for levels, tries at once)
cdef Py_ssize_t MAX_STATES = 1 << 21


# ---------------------------------------------------------------------------------------------
# growable buffers (malloc'd; a failed allocation ends the search as if capped)
# ---------------------------------------------------------------------------------------------

cdef struct Doubles:
    double* data
    Py_ssize_t size
    Py_ssize_t capacity

cdef struct Ints:
    Py_ssize_t* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef inline bint doubles_push(Doubles* buffer, double value) noexcept nogil:
    cdef double* grown
    cdef Py_ssize_t capacity
    if buffer.size == buffer.capacity:
        capacity = 64 if buffer.capacity == 0 else 2 * buffer.capacity
        grown = <double*> realloc(buffer.data, capacity * sizeof(double))
        if grown == NULL:
            return False
        buffer.data, buffer.capacity = grown, capacity
    buffer.data[buffer.size] = value
    buffer.size += 1
    return True


cdef inline bint ints_push(Ints* buffer, Py_ssize_t value) noexcept nogil:
    cdef Py_ssize_t* grown
    cdef Py_ssize_t capacity
    if buffer.size == buffer.capacity:
        capacity = 64 if buffer.capacity == 0 else 2 * buffer.capacity
        grown = <Py_ssize_t*> realloc(buffer.data, capacity * sizeof(Py_ssize_t))
        if grown == NULL:
            return False
        buffer.data, buffer.capacity = grown, capacity
    buffer.data[buffer.size] = value
    buffer.size += 1
    return True


cdef inline bint closes(double proven, double achieved, double tol) noexcept nogil:
    return proven - achieved <= tol + 1e-12 * fabs(proven)


cdef inline double larger(double a, double b) noexcept nogil:
    return a if a >= b else b


# ---------------------------------------------------------------------------------------------
# Whole-token grants on curves
# ---------------------------------------------------------------------------------------------

cdef struct TokenRound:
    # options of the queries that have any: query q's are [start[q], start[q + 1]) of grant / value
    Ints row
    Ints start
    Doubles grant
    Doubles value
    Ints required


cdef inline double surplus_at(int form, double tau, double a, double beta, double price, double b) noexcept nogil:
    return utility_past_threshold(form, a, beta, b - tau) - price * b


cdef bint collect_grants(int form, double tau, double a, double beta, double lower, double top, double low,
                         double high, double level, double price, Doubles* grant, Doubles* value) noexcept nogil:
    """Append the grants with surplus above ``level``, ascending: a run from ``lower``, a run around ``high``."""
    cdef double b = lower, first_end, start
    cdef Py_ssize_t mark, left_end, i, j
    cdef double swap
    while b <= floor(low) and surplus_at(form, tau, a, beta, price, b) > level:
        if not doubles_push(grant, b):
            return False
        b += 1.0
    first_end = b - 1.0
    start = floor(high)
    if first_end + 1.0 > start:
        start = first_end + 1.0
    mark = grant.size
    b = start
    while first_end < b <= top and surplus_at(form, tau, a, beta, price, b) > level:
        if not doubles_push(grant, b):
            return False
        b -= 1.0
    # the walk down from `start` went in descending order: reverse it in place
    i, j = mark, grant.size - 1
    while i < j:
        swap = grant.data[i]
        grant.data[i] = grant.data[j]
        grant.data[j] = swap
        i += 1
        j -= 1
    b = start + 1.0
    while b <= top and surplus_at(form, tau, a, beta, price, b) > level:
        if not doubles_push(grant, b):
            return False
        b += 1.0
    return True


cdef int token_round(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                     const double[::1] lower, const double[::1] top, const double[::1] low,
                     const double[::1] high, const double[::1] peak, double budget, double price, double theta,
                     double target, double cells_left, double* value_out, double* cells_out,
                     double* picked) noexcept nogil:
    """One round (see the twin's _token_round). Returns DONE or CAPPED; ``picked`` gets grants when found."""
    cdef Py_ssize_t m = tau.shape[0], q, k, first, last, count, e, s, lo, hi, top_s, cap, stored, at, new_lo, new_hi
    cdef TokenRound options
    cdef double base_total = 0.0, rest = 0.0, best_reserve, cells = 0.0, shifted, bound_value, best_value
    cdef double* reserves = NULL
    cdef double* extra = NULL
    cdef double* best = NULL
    cdef double* fresh = NULL
    cdef double* swap
    cdef int* choice = NULL
    cdef int* history = NULL
    cdef Py_ssize_t* window_lo = NULL
    cdef Py_ssize_t* window_at = NULL
    cdef Py_ssize_t history_size = 0, history_capacity = 0
    cdef int* grown
    cdef int status = DONE
    cdef bint ok = True
    options.row = Ints(NULL, 0, 0)
    options.start = Ints(NULL, 0, 0)
    options.grant = Doubles(NULL, 0, 0)
    options.value = Doubles(NULL, 0, 0)
    options.required = Ints(NULL, 0, 0)
    value_out[0] = -INFINITY
    cells_out[0] = 0.0

    ok = ints_push(&options.start, 0)
    for q in range(m):
        if not ok:
            break
        first = options.grant.size
        ok = collect_grants(form, tau[q], scale[q], beta[q], lower[q], top[q], low[q], high[q],
                            peak[q] - theta, price, &options.grant, &options.value)
        if not ok or options.grant.size == first:
            continue
        for k in range(first, options.grant.size):
            ok = ok and doubles_push(&options.value, utility_past_threshold(
                form, scale[q], beta[q], options.grant.data[k] - tau[q]))
        ok = ok and ints_push(&options.row, q) and ints_push(&options.start, options.grant.size)
        ok = ok and ints_push(&options.required, 1 if peak[q] >= theta else 0)
    if not ok:
        status = CAPPED
    else:
        count = options.row.size
        for q in range(count):
            if options.required.data[q]:
                base_total += options.grant.data[options.start.data[q]]
        cap = <Py_ssize_t> (budget - base_total) if budget - base_total >= 0.0 else -1
        if cap >= 0:
            reserves = <double*> malloc((count + 1) * sizeof(double))
            extra = <double*> malloc((options.grant.size + 1) * sizeof(double))
            best = <double*> malloc((cap + 1) * sizeof(double))
            fresh = <double*> malloc((cap + 1) * sizeof(double))
            choice = <int*> malloc((cap + 1) * sizeof(int))
            window_lo = <Py_ssize_t*> malloc((count + 1) * sizeof(Py_ssize_t))
            window_at = <Py_ssize_t*> malloc((count + 1) * sizeof(Py_ssize_t))
            ok = (reserves != NULL and extra != NULL and best != NULL and fresh != NULL and choice != NULL
                  and window_lo != NULL and window_at != NULL)
        if cap < 0:
            pass
        elif not ok:
            status = CAPPED
        else:
            for q in range(count):
                first, last = options.start.data[q], options.start.data[q + 1]
                best_reserve = -INFINITY if options.required.data[q] else 0.0
                for k in range(first, last):
                    extra[k] = options.grant.data[k] - (options.grant.data[first] if options.required.data[q] else 0.0)
                    best_reserve = larger(best_reserve, options.value.data[k] - price * extra[k])
                reserves[q] = best_reserve
                rest += best_reserve
            lo, hi = -1, -1
            for s in range(cap + 1):
                best[s] = 0.0
                if best[s] + price * <double> (cap - s) + rest <= target:
                    best[s] = -INFINITY
                elif lo < 0:
                    lo = s
                if best[s] > -INFINITY:
                    hi = s
            for q in range(count):
                if lo < 0:
                    break
                first, last = options.start.data[q], options.start.data[q + 1]
                cells += (last - first + (0 if options.required.data[q] else 1)) * <double> (hi - lo + 1)
                if cells > cells_left:
                    status = CAPPED
                    break
                # the new states reach from lo to hi + the largest extra (or cap)
                top_s = hi + <Py_ssize_t> extra[last - 1]
                if top_s > cap:
                    top_s = cap
                for s in range(lo, top_s + 1):
                    fresh[s] = -INFINITY
                    choice[s] = -1
                if not options.required.data[q]:
                    for s in range(lo, hi + 1):
                        fresh[s] = best[s]
                for k in range(first, last):
                    e = <Py_ssize_t> extra[k]
                    if lo + e > cap:
                        break
                    top_s = hi if hi < cap - e else cap - e
                    for s in range(lo, top_s + 1):
                        shifted = best[s] + options.value.data[k]
                        if shifted > fresh[s + e]:
                            fresh[s + e] = shifted
                            choice[s + e] = <int> (k - first)
                rest -= reserves[q]
                top_s = hi + <Py_ssize_t> extra[last - 1]
                if top_s > cap:
                    top_s = cap
                new_lo, new_hi = -1, -1
                for s in range(lo, top_s + 1):
                    if fresh[s] + price * <double> (cap - s) + rest <= target:
                        fresh[s] = -INFINITY
                    if fresh[s] > -INFINITY:
                        if new_lo < 0:
                            new_lo = s
                        new_hi = s
                lo, hi = new_lo, new_hi
                if lo < 0:
                    break
                stored = hi - lo + 1
                if history_size + stored > MAX_STATES:
                    status = CAPPED
                    break
                if history_size + stored > history_capacity:
                    history_capacity = 2 * (history_size + stored)
                    grown = <int*> realloc(history, history_capacity * sizeof(int))
                    if grown == NULL:
                        status = CAPPED
                        break
                    history = grown
                memcpy(&history[history_size], &choice[lo], stored * sizeof(int))
                window_lo[q] = lo
                window_at[q] = history_size
                history_size += stored
                swap = best
                best = fresh
                fresh = swap
            if status == DONE and lo >= 0:
                at = lo
                best_value = best[lo]
                for s in range(lo + 1, hi + 1):
                    if best[s] > best_value:
                        best_value = best[s]
                        at = s
                value_out[0] = best_value
                for q in range(m):
                    picked[q] = 0.0
                for q in range(count - 1, -1, -1):
                    k = history[window_at[q] + at - window_lo[q]]
                    if k >= 0:
                        first = options.start.data[q]
                        picked[options.row.data[q]] = options.grant.data[first + k]
                        at -= <Py_ssize_t> extra[first + k]
    cells_out[0] = cells
    free(reserves)
    free(extra)
    free(best)
    free(fresh)
    free(choice)
    free(history)
    free(window_lo)
    free(window_at)
    free(options.row.data)
    free(options.start.data)
    free(options.grant.data)
    free(options.value.data)
    free(options.required.data)
    return status


def token_search(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                 const double[::1] lower, const double[::1] top, const double[::1] low, const double[::1] high,
                 const double[::1] peak, double budget, double price, double upper, double achieved, double rtol,
                 double max_cells, double[::1] grants_out):
    """Search whole-token grants of the queries the bound could not settle (see the twin)."""
    cdef Py_ssize_t m = tau.shape[0], q
    cdef double tol = larger(rtol * larger(achieved, 0.0), price)
    cdef double proven = upper, slack = 1e-10 * fabs(upper)
    cdef double theta = FIRST_ROUND * (upper - achieved - tol), threshold = 0.0, cells = 0.0, used, found
    cdef int status = DONE, code
    cdef bint improved = False
    cdef double* picked = <double*> malloc((m + 1) * sizeof(double))
    if picked == NULL:
        return SearchStatus.CAPPED, achieved, larger(proven, achieved), threshold, cells
    with nogil:
        while not closes(proven, achieved, tol):
            if theta > upper - achieved - tol:
                theta = upper - achieved - tol
            code = token_round(form, tau, scale, beta, lower, top, low, high, peak, budget, price, theta + slack,
                               upper - theta - slack, max_cells - cells, &found, &used, picked)
            cells += used
            if code == CAPPED:
                status = CAPPED
                break
            if found > achieved:
                achieved = found
                for q in range(m):
                    grants_out[q] = picked[q]
                tol = larger(rtol * achieved, price)
            threshold = theta
            proven = proven if proven <= larger(achieved, upper - theta) else larger(achieved, upper - theta)
            theta *= GROWTH
    free(picked)
    return SearchStatus(status), achieved, larger(proven, achieved), threshold, cells


# ---------------------------------------------------------------------------------------------
# Effort levels (costs need not be whole)
# ---------------------------------------------------------------------------------------------

cdef struct Candidate:
    double cost
    double value
    Py_ssize_t rank
    Py_ssize_t parent


cdef int by_cost_then_value(const void* left, const void* right) noexcept nogil:
    """Cost up; at equal cost the best value first; then the option tried first, then the parent state."""
    cdef const Candidate* a = <const Candidate*> left
    cdef const Candidate* b = <const Candidate*> right
    if a.cost != b.cost:
        return -1 if a.cost < b.cost else 1
    if a.value != b.value:
        return -1 if a.value > b.value else 1
    if a.rank != b.rank:
        return -1 if a.rank < b.rank else 1
    if a.parent != b.parent:
        return -1 if a.parent < b.parent else 1
    return 0


cdef int level_round(const long long[::1] starts, const double[::1] costs, const double[::1] values,
                     const double* peaks, double budget, double price, double theta, double target,
                     double cells_left, double* value_out, double* cells_out, long long* picked) noexcept nogil:
    """One round over effort levels (see the twin's _level_round): the Pareto front of (cost, value)."""
    cdef Py_ssize_t m = starts.shape[0] - 1, q, k, r, count, states = 1, kept, n_options, i, at
    cdef Ints row, option, option_start, history_parent, history_option, history_start
    cdef Ints required
    cdef double rest = 0.0, reserve, cells = 0.0, c, v, running
    cdef double* reserves = NULL
    cdef double* state_cost = <double*> malloc(sizeof(double))
    cdef double* state_value = <double*> malloc(sizeof(double))
    cdef Candidate* pool = NULL
    cdef Candidate* grown_pool
    cdef double* grown
    cdef Py_ssize_t pool_capacity = 0, k_index
    cdef int status = DONE
    cdef bint ok = state_cost != NULL and state_value != NULL
    row = Ints(NULL, 0, 0)
    option = Ints(NULL, 0, 0)
    option_start = Ints(NULL, 0, 0)
    required = Ints(NULL, 0, 0)
    history_parent = Ints(NULL, 0, 0)
    history_option = Ints(NULL, 0, 0)
    history_start = Ints(NULL, 0, 0)
    value_out[0] = -INFINITY
    cells_out[0] = 0.0
    ok = ok and ints_push(&option_start, 0)
    for q in range(m):
        if not ok:
            break
        kept = option.size
        for k in range(starts[q], starts[q + 1]):
            if values[k] - price * costs[k] > peaks[q] - theta:
                ok = ok and ints_push(&option, k)
        if option.size == kept:
            continue
        ok = ok and ints_push(&row, q) and ints_push(&option_start, option.size)
        ok = ok and ints_push(&required, 1 if peaks[q] >= theta else 0)
    count = row.size
    if ok:
        reserves = <double*> malloc((count + 1) * sizeof(double))
        ok = reserves != NULL
    if not ok:
        status = CAPPED
    else:
        for r in range(count):
            reserve = -INFINITY if required.data[r] else 0.0
            for i in range(option_start.data[r], option_start.data[r + 1]):
                k = option.data[i]
                reserve = larger(reserve, values[k] - price * costs[k])
            reserves[r] = reserve
            rest += reserve
        state_cost[0] = 0.0
        state_value[0] = 0.0
        if not (state_value[0] + price * (budget - state_cost[0]) + rest > target):
            states = 0
        r = 0
        while states > 0 and r < count:
            n_options = option_start.data[r + 1] - option_start.data[r] + (0 if required.data[r] else 1)
            cells += n_options * <double> states
            if cells > cells_left or n_options * states > MAX_STATES:
                status = CAPPED
                break
            rest -= reserves[r]
            if states * n_options > pool_capacity:
                pool_capacity = states * n_options
                grown_pool = <Candidate*> realloc(pool, pool_capacity * sizeof(Candidate))
                if grown_pool == NULL:
                    status = CAPPED
                    break
                pool = grown_pool
            kept = 0
            for i in range(n_options):
                k_index = i - (0 if required.data[r] else 1)  # -1: nothing
                for at in range(states):
                    if k_index < 0:
                        c = state_cost[at] + 0.0
                        v = state_value[at] + 0.0
                    else:
                        k = option.data[option_start.data[r] + k_index]
                        c = state_cost[at] + costs[k]
                        v = state_value[at] + values[k]
                    if c <= budget and v + price * (budget - c) + rest > target:
                        pool[kept].cost = c
                        pool[kept].value = v
                        pool[kept].rank = i
                        pool[kept].parent = at
                        kept += 1
            if kept == 0:
                states = 0
                break
            qsort(pool, kept, sizeof(Candidate), by_cost_then_value)
            grown = <double*> realloc(state_cost, kept * sizeof(double))
            if grown == NULL:
                status = CAPPED
                break
            state_cost = grown
            grown = <double*> realloc(state_value, kept * sizeof(double))
            if grown == NULL:
                status = CAPPED
                break
            state_value = grown
            ok = ints_push(&history_start, history_parent.size)
            states = 0
            running = -INFINITY
            for i in range(kept):
                if i == 0 or pool[i].value > running:
                    state_cost[states] = pool[i].cost
                    state_value[states] = pool[i].value
                    states += 1
                    k_index = pool[i].rank - (0 if required.data[r] else 1)
                    ok = ok and ints_push(&history_parent, pool[i].parent)
                    ok = ok and ints_push(&history_option, -1 if k_index < 0 else option.data[option_start.data[r] + k_index])
                if pool[i].value > running:
                    running = pool[i].value
            if not ok or history_parent.size > MAX_STATES:
                status = CAPPED
                break
            r += 1
        if status == DONE and states > 0:
            at = 0
            for i in range(1, states):
                if state_value[i] > state_value[at]:
                    at = i
            value_out[0] = state_value[at]
            for q in range(m):
                picked[q] = -1
            for r in range(count - 1, -1, -1):
                picked[row.data[r]] = history_option.data[history_start.data[r] + at]
                at = history_parent.data[history_start.data[r] + at]
    cells_out[0] = cells
    free(reserves)
    free(state_cost)
    free(state_value)
    free(pool)
    free(row.data)
    free(option.data)
    free(option_start.data)
    free(required.data)
    free(history_parent.data)
    free(history_option.data)
    free(history_start.data)
    return status


def level_search(const long long[::1] starts, const double[::1] costs, const double[::1] values, double budget,
                 double price, double upper, double achieved, double rtol, double max_cells,
                 long long[::1] chosen_out):
    """Search effort levels of the queries the bound could not settle (see the twin)."""
    cdef Py_ssize_t m = starts.shape[0] - 1, q, k
    cdef double tol = larger(rtol * larger(achieved, 0.0), price)
    cdef double proven = upper, slack = 1e-10 * fabs(upper)
    cdef double theta = FIRST_ROUND * (upper - achieved - tol), threshold = 0.0, cells = 0.0, used, found, best
    cdef int status = DONE, code
    cdef double* peaks = <double*> malloc((m + 1) * sizeof(double))
    cdef long long* picked = <long long*> malloc((m + 1) * sizeof(long long))
    if peaks == NULL or picked == NULL:
        free(peaks)
        free(picked)
        return SearchStatus.CAPPED, achieved, larger(proven, achieved), threshold, cells
    with nogil:
        for q in range(m):
            best = 0.0
            for k in range(starts[q], starts[q + 1]):
                best = larger(best, values[k] - price * costs[k])
            peaks[q] = best
        while not closes(proven, achieved, tol):
            if theta > upper - achieved - tol:
                theta = upper - achieved - tol
            code = level_round(starts, costs, values, peaks, budget, price, theta + slack, upper - theta - slack,
                               max_cells - cells, &found, &used, picked)
            cells += used
            if code == CAPPED:
                status = CAPPED
                break
            if found > achieved:
                achieved = found
                for q in range(m):
                    chosen_out[q] = picked[q]
                tol = larger(rtol * achieved, price)
            threshold = theta
            proven = proven if proven <= larger(achieved, upper - theta) else larger(achieved, upper - theta)
            theta *= GROWTH
    free(peaks)
    free(picked)
    return SearchStatus(status), achieved, larger(proven, achieved), threshold, cells
