# cython: language_level=3
"""Market clearing: the one price at which the queries' demand meets the budget.

The top layer of the compiled kernel, over market_rows.pxd (the packed rows
and prefix passes) and curve.pxd. clear_fast.allocate validates the curves,
computes break-even prices and picks the order; clear_price trusts all of it
and never raises for data. It returns the same result as the twin's
clear_price (clear_fast/_reference/market.py, which states the mathematics:
break-even prices s_j, the demands F_j and G_j, jumps), found with fewer passes:

1. with the caller's price bracket, one evaluation of demand inside it (with
   its slope and curvature) guesses the marginal position, and exact values of
   F prove it (galloping from the guess if needed): four passes over the rows
   in all when it holds, else steps 2-4 with the bracket;
2. a starting price from an evenly spaced sample of the sorted queries, or
   the caller's price bracket, then regula falsi on market demand until the
   price is met or only a window of break-even prices (jumps) remains in the bracket;
3. in that window, the marginal position from the last evaluation, checked
   exactly, then galloping and bisection over positions as the twin does;
4. at that position, a continuous clearing or a jump, each settled by one
   second-order step when the price barely moves, else solved exactly.
"""

from libc.math cimport exp, fabs, log, sqrt, INFINITY

from .curve cimport SURGE
from .lambert cimport E
from .market_rows cimport (
    BREAKEVEN, BETA, LOWER, SCALE, PrefixAt, count_above, demand_as_row_joins, every_nth_row, fill, fill_grants,
    grant_curvature, newton_move, pack_rows, prefix_at, prefix_demand, prefix_demand_curved, row_grant, row_utility,
    solve_prefix,
)

# a relative price move below which one second-order step from a break-even price is exact to far below a
# token: its error is about (the marginal grant) * (the move)^2, under a thousandth of a token
cdef double NEWTON_EXACT_WITHIN = 1e-3
# regula falsi stops once at most this many break-even prices (jumps) remain inside its bracket
cdef Py_ssize_t MAX_JUMPS_IN_BRACKET = 1 << 16
# rows of the sample a starting price comes from (with at least twice as many queries)
cdef Py_ssize_t SAMPLE_ROWS = 4096
# the position returned when no query is marginal
cdef Py_ssize_t NO_POSITION = -1


cdef struct Bracket:
    double lo  # demand is above the budget at this price...
    double hi  # ...and within it at this one
    double excess_lo  # demand minus budget at lo (inf while no such price is known)
    double excess_hi  # demand minus budget at hi


cdef struct Evaluation:
    # the market search's last evaluation: a price, the demand of the rows funded there (the first
    # `funded`) and that demand's smooth slope and second derivative
    double price
    double demand
    double slope
    double curvature
    Py_ssize_t funded


cdef struct Clearing:
    ClearingKind kind
    double price
    Py_ssize_t position
    double bound


def clear_price(int form, const double[::1] tau, const double[::1] scale, const double[::1] beta,
                const double[::1] min_tokens, const double[::1] max_tokens, const double[::1] breakeven_price,
                const long long[::1] order, double budget, double[::1] tokens_out, double lo_hint=0.0,
                double hi_hint=0.0):
    """Clear the market: ``(kind, price, position, bound)``; writes each query's continuous grant.

    ``order`` lists the fundable queries by decreasing break-even price; the
    result and its meaning are those of the twin's ``clear_price``.

    With a price bracket ``lo_hint < hi_hint`` (from a sample), ``order`` need
    only hold the queries whose break-even price is above a point somewhat
    below ``lo_hint``, those above ``hi_hint`` first in any order; the bracket
    is checked (demand above the budget at ``lo_hint``, within it at
    ``hi_hint``) and ``ClearingKind.BRACKET_MISSED`` is returned when it fails,
    for the caller to retry with the full order.
    """
    cdef Py_ssize_t i, n = tau.shape[0], m = order.shape[0]
    cdef double[:, ::1] rows
    cdef double start, surplus
    cdef bint bracketed, ample, cleared
    cdef Bracket bracket
    cdef Clearing result
    with nogil:
        for i in range(n):
            tokens_out[i] = 0.0
    if m == 0:
        return ClearingKind.AMPLE, 0.0, NO_POSITION, 0.0
    rows = pack_rows(order, tau, scale, beta, min_tokens, max_tokens, breakeven_price)
    if hi_hint > lo_hint > 0.0:
        with nogil:
            cleared = _clear_by_proven_guess(form, rows, order, budget, lo_hint, hi_hint, tokens_out, &result)
        if cleared:
            return result.kind, result.price, result.position, result.bound
        with nogil:
            bracketed = _bracket_from_hints(form, rows, budget, lo_hint, hi_hint, &bracket, &start)
        if not bracketed:
            return ClearingKind.BRACKET_MISSED, 0.0, NO_POSITION, 0.0
    else:
        with nogil:
            ample = _fill_if_ample(form, rows, order, budget, tokens_out, &surplus)
        if ample:
            return ClearingKind.AMPLE, 0.0, NO_POSITION, surplus
        start = _start_from_sample(form, rows, budget, &bracket)
    with nogil:
        _clear_from(form, rows, order, budget, start, &bracket, tokens_out, &result)
    return result.kind, result.price, result.position, result.bound


cdef bint _fill_if_ample(int form, const double[:, ::1] rows, const long long[::1] order, double budget,
                         double[::1] tokens_out, double* surplus) noexcept nogil:
    """If the budget covers demand at price 0, fill those grants and their surplus; say whether it does."""
    cdef double slope
    if prefix_demand(form, rows, rows.shape[0], 0.0, &slope) > budget:
        return False
    surplus[0] = fill(form, rows, order, rows.shape[0], 0.0, tokens_out)
    return True


cdef bint _clear_by_proven_guess(int form, const double[:, ::1] rows, const long long[::1] order, double budget,
                                 double lo_hint, double hi_hint, double[::1] tokens_out, Clearing* result) noexcept nogil:
    """Clear from one evaluation between the hints: guess the marginal position, prove it, settle there.

    The bracketed search spends two passes checking the hints before it
    looks for the price. Here one pass at the hints' middle (with the demand's
    slope and curvature) guesses the position, and exact values of F prove it:
    ``F_0 <= F_1 <= ...``, so ``F_p <= budget < F_{p+1}`` makes p the marginal
    position whatever the bracket. With ``s_p <= hi_hint`` and
    ``s_{p+1} > lo_hint`` it also proves the hints bracket the price (demand
    at ``hi_hint`` is at most ``F_p``, at ``lo_hint`` at least ``F_{p+1}``),
    so the answer is exactly the bracketed search's. Returns False, having
    written nothing, when a step of the proof fails: the caller then runs the
    bracketed search.
    """
    cdef Py_ssize_t m = rows.shape[0], c_hi = count_above(rows, hi_hint), j, lo_j, hi_j, mid, step
    cdef Evaluation start
    cdef PrefixAt before
    # the positions p = j - 1 past the unordered rows above hi_hint, with a row j after them
    if c_hi + 1 >= m or rows[m - 1, BREAKEVEN] > lo_hint:
        return False
    start.price = sqrt(lo_hint * hi_hint)
    start.funded = count_above(rows, start.price)
    start.demand = prefix_demand_curved(form, rows, start.funded, start.price, &start.slope, &start.curvature)
    j = _guess_position(form, rows, budget, c_hi, m - 1, &start)
    prefix_at(form, rows, j - 1, rows[j - 1, BREAKEVEN], &before)
    if before.demand <= budget:  # F_{j-1} <= budget: gallop up until F exceeds it
        lo_j = j - 1
        hi_j = j
        step = 1
        while demand_as_row_joins(form, rows, hi_j) <= budget:
            if hi_j == m - 1:
                return False  # the price is below every ordered row's break-even price
            lo_j = hi_j
            hi_j = lo_j + step if lo_j + step < m else m - 1
            step *= 2
    else:  # F_{j-1} > budget: gallop down until F fits it
        hi_j = j - 1
        lo_j = hi_j - 1
        step = 1
        while True:
            if lo_j < c_hi:
                lo_j = c_hi
            if demand_as_row_joins(form, rows, lo_j) <= budget:
                break
            if lo_j == c_hi:
                return False  # the price is above hi_hint
            hi_j = lo_j
            lo_j = hi_j - step
            step *= 2
    while hi_j - lo_j > 1:  # F_{lo_j} <= budget < F_{hi_j}
        mid = (lo_j + hi_j) // 2
        if demand_as_row_joins(form, rows, mid) > budget:
            hi_j = mid
        else:
            lo_j = mid
    if rows[hi_j, BREAKEVEN] <= lo_hint:
        return False
    _settle_at(form, rows, order, budget, hi_j - 1, &before, tokens_out, result)
    return True


cdef bint _bracket_from_hints(int form, const double[:, ::1] rows, double budget, double lo_hint, double hi_hint,
                              Bracket* bracket, double* start) noexcept nogil:
    """Check that the hints bracket the price; if so set the bracket and a start by linear interpolation."""
    cdef double slope
    bracket.lo = lo_hint
    bracket.hi = hi_hint
    bracket.excess_lo = prefix_demand(form, rows, count_above(rows, lo_hint), lo_hint, &slope) - budget
    bracket.excess_hi = prefix_demand(form, rows, count_above(rows, hi_hint), hi_hint, &slope) - budget
    if bracket.excess_lo <= 0.0 or bracket.excess_hi > 0.0 or count_above(rows, lo_hint) >= rows.shape[0]:
        return False
    start[0] = lo_hint + bracket.excess_lo * (hi_hint - lo_hint) / (bracket.excess_lo - bracket.excess_hi)
    return True


cdef double _start_from_sample(int form, const double[:, ::1] rows, double budget, Bracket* bracket):
    """A starting price, and the whole price range as the bracket.

    With many rows, the price that clears an evenly spaced sample of them (a
    few thousand) at the budget scaled down alike; else the middle row's
    break-even price.
    """
    cdef Py_ssize_t m = rows.shape[0], stride, samples
    cdef double start
    cdef double[:, ::1] sample
    cdef Evaluation ignored
    stride = m // SAMPLE_ROWS if m >= 2 * SAMPLE_ROWS else 1
    if stride > 1:
        sample = every_nth_row(rows, stride)
    with nogil:
        bracket.lo = 0.0
        bracket.hi = rows[0, BREAKEVEN]
        start = rows[m // 2, BREAKEVEN] if rows[m // 2, BREAKEVEN] > 0.0 else 0.5 * bracket.hi
        if stride > 1:
            samples = sample.shape[0]
            bracket.excess_lo = INFINITY
            bracket.excess_hi = -budget * samples / m
            _search_market(form, sample, budget * samples / m, 1e-6 * budget * samples / m, start, 1,
                           bracket, &ignored)
            start = bracket.hi
            bracket.lo = 0.0
            bracket.hi = rows[0, BREAKEVEN]
        bracket.excess_lo = INFINITY
        bracket.excess_hi = -budget
    return start


cdef void _clear_from(int form, const double[:, ::1] rows, const long long[::1] order, double budget, double start,
                      Bracket* bracket, double[::1] tokens_out, Clearing* result) noexcept nogil:
    """Search from ``start`` within the bracket; clear where demand meets the budget, or in the window left."""
    cdef Evaluation last
    if _search_market(form, rows, budget, 1e-9 * budget, start, MAX_JUMPS_IN_BRACKET, bracket, &last):
        result.kind = ClearingKind.CONTINUOUS
        result.price = bracket.hi
        result.position = NO_POSITION
        result.bound = result.price * budget + fill(
            form, rows, order, count_above(rows, result.price), result.price, tokens_out)
    else:
        _settle_in_window(form, rows, order, budget, bracket, &last, tokens_out, result)


cdef bint _search_market(int form, const double[:, ::1] rows, double budget, double tolerance, double start,
                         Py_ssize_t max_jumps, Bracket* bracket, Evaluation* last) noexcept nogil:
    """Narrow the bracket around the price where market demand meets the budget.

    Market demand counts the rows whose break-even price is above the price,
    so it is continuous between break-even prices and jumps down at each; with
    many queries the jumps dominate its slope, which rules out Newton on the
    smooth part. Regula falsi with the Illinois modification uses only demand
    values, so it sees the jumps' average effect and converges superlinearly.
    The bracket keeps demand > budget at ``lo`` and <= budget at ``hi``.
    Returns True when demand is within ``tolerance`` of the budget (the price
    is then ``bracket.hi``), False once at most ``max_jumps`` break-even prices
    lie inside the bracket (the caller settles those, position by position).
    ``last`` gets the last evaluation.
    """
    cdef double excess, lam = start, step = 0.05, width_before = INFINITY, slope
    cdef Py_ssize_t c_lo, c_hi
    cdef int k, moved = 0  # +1: lo moved last, -1: hi moved last
    for k in range(200):
        if not (bracket.lo < lam < bracket.hi):
            lam = sqrt(bracket.lo * bracket.hi) if bracket.lo > 0.0 else 0.5 * bracket.hi
        last.funded = count_above(rows, lam)
        excess = prefix_demand_curved(form, rows, last.funded, lam, &slope, &last.curvature) - budget
        last.price = lam
        last.demand = excess + budget
        last.slope = slope
        if fabs(excess) <= tolerance:
            bracket.hi = lam
            return True
        if excess > 0.0:
            bracket.lo = lam
            bracket.excess_lo = excess
            if moved == 1:
                bracket.excess_hi *= 0.5  # Illinois: the end kept twice has its value halved
            moved = 1
        else:
            bracket.hi = lam
            bracket.excess_hi = excess
            if moved == -1:
                bracket.excess_lo *= 0.5
            moved = -1
        c_lo = count_above(rows, bracket.lo)
        c_hi = count_above(rows, bracket.hi)
        if c_lo - c_hi <= max_jumps and c_lo != c_hi or c_lo - c_hi == 1 and bracket.hi - bracket.lo <= 1e-13 * bracket.hi:
            return False  # (a lone jump left at float resolution ends the search whatever the window)
        if c_lo == c_hi and bracket.hi - bracket.lo <= 1e-13 * bracket.hi:
            return True  # no jump inside and the bracket is at float resolution
        if bracket.excess_lo == INFINITY:
            lam = lam * exp(-step)  # no price above the budget yet: step down, twice as far each time
            step *= 2.0
        elif k % 3 == 2 and bracket.hi - bracket.lo > 0.5 * width_before:
            # regula falsi stalled: bisect, over the jumps inside the bracket when there are several
            lam = rows[(c_lo + c_hi) // 2, BREAKEVEN] if c_lo - c_hi > 2 else sqrt(bracket.lo * bracket.hi)
        else:
            # regula falsi in log-price (demand runs like -log(price) or powers of it)
            lam = exp(log(bracket.lo) + bracket.excess_lo * (log(bracket.hi) - log(bracket.lo)) / (
                bracket.excess_lo - bracket.excess_hi))
        if k % 3 == 2:
            width_before = bracket.hi - bracket.lo
    return True


cdef void _settle_in_window(int form, const double[:, ::1] rows, const long long[::1] order, double budget,
                            const Bracket* bracket, const Evaluation* last, double[::1] tokens_out,
                            Clearing* result) noexcept nogil:
    """Clear the market at the marginal position inside the search's final bracket."""
    cdef PrefixAt before
    cdef Py_ssize_t p = _marginal_position(form, rows, budget, bracket, last, &before)
    _settle_at(form, rows, order, budget, p, &before, tokens_out, result)


cdef void _settle_at(int form, const double[:, ::1] rows, const long long[::1] order, double budget, Py_ssize_t p,
                     PrefixAt* before, double[::1] tokens_out, Clearing* result) noexcept nogil:
    """Clear the market at the marginal position p (``before``: the first p rows at s_p, if its count is p)."""
    cdef double s_p = rows[p, BREAKEVEN], grant_p, slope_p
    if p != before.count:
        prefix_at(form, rows, p, s_p, before)
    grant_p = row_grant(form, rows, p, s_p, &slope_p)
    if budget >= before.demand + grant_p:
        _clear_continuously(form, rows, order, budget, p, before, grant_p, slope_p, tokens_out, result)
        return
    # a jump at s_p: leave row p out (the others take its tokens), or fund it at a higher price
    result.price = s_p
    result.position = p
    result.bound = s_p * budget + before.surplus
    if not _settle_jump_by_one_step(form, rows, order, budget, p, before, grant_p, slope_p, tokens_out, result):
        result.kind = _settle_jump_exactly(form, rows, order, budget, p, before, grant_p, slope_p, tokens_out)


cdef Py_ssize_t _marginal_position(int form, const double[:, ::1] rows, double budget, const Bracket* bracket,
                                   const Evaluation* last, PrefixAt* before) noexcept nogil:
    """The marginal position p: one less than the smallest j with ``F_j > budget``.

    That j lies in [c_hi, c_lo], the rows above the bracket's ends:
    F_{c_hi - 1} <= demand at hi <= budget and F_{c_lo} >= demand at lo >
    budget. A guess from the last evaluation (demand is nearly linear in price
    this close) is checked exactly; usually two passes settle what bisection
    takes several for. ``before`` gets the first ``j - 1`` rows at their own
    price for the guessed j: the caller reuses it when that is p.
    """
    cdef Py_ssize_t c_lo = count_above(rows, bracket.lo), c_hi = count_above(rows, bracket.hi)
    cdef Py_ssize_t lo_j = c_hi - 1 if c_hi > 0 else 0, hi_j = c_lo, j, mid, step
    j = _guess_position(form, rows, budget, lo_j, hi_j, last)
    prefix_at(form, rows, j - 1, rows[j - 1, BREAKEVEN], before)
    if before.demand <= budget:
        if demand_as_row_joins(form, rows, j) > budget:
            return j - 1  # the guess was right
        # the guess was low: gallop up from it
        lo_j = j
        step = 2
        while lo_j + step < hi_j and demand_as_row_joins(form, rows, lo_j + step) <= budget:
            lo_j += step
            step *= 2
        if lo_j + step < hi_j:
            hi_j = lo_j + step
    else:  # the guess was high: gallop down from it
        hi_j = j - 1
        step = 2
        while hi_j - step > lo_j and demand_as_row_joins(form, rows, hi_j - step) > budget:
            hi_j -= step
            step *= 2
        if hi_j - step > lo_j:
            lo_j = hi_j - step
    before.count = -1  # computed for another position
    while hi_j - lo_j > 1:
        mid = (lo_j + hi_j) // 2
        if demand_as_row_joins(form, rows, mid) > budget:
            hi_j = mid
        else:
            lo_j = mid
    return hi_j - 1


cdef Py_ssize_t _guess_position(int form, const double[:, ::1] rows, double budget, Py_ssize_t lo_j,
                                Py_ssize_t hi_j, const Evaluation* last) noexcept nogil:
    """The first position in (lo_j, hi_j] whose F_j seems to exceed the budget, from the last evaluation.

    F_j is about the last evaluation's demand moved to the new price (to second order),
    plus the rows from its funded count c to j (or minus those from j to c),
    each at its own break-even price. Only a guess, in O(hi_j - lo_j): the
    caller checks it exactly.
    """
    cdef Py_ssize_t j, k, c = last.funded
    cdef double estimate, slope, move, joined = 0.0
    # the rows that separate position lo_j from c: joined above c, left below it
    for k in range(c, lo_j):
        joined += row_grant(form, rows, k, rows[k, BREAKEVEN], &slope)
    for k in range(lo_j, c):
        joined -= row_grant(form, rows, k, rows[k, BREAKEVEN], &slope)
    for j in range(lo_j + 1, hi_j + 1):
        if j >= rows.shape[0]:
            return j
        joined += row_grant(form, rows, j - 1, rows[j - 1, BREAKEVEN], &slope)  # one more row in the prefix
        move = rows[j, BREAKEVEN] - last.price
        estimate = last.demand + move * (last.slope + 0.5 * move * last.curvature) + joined
        if estimate > budget:
            return j
    return hi_j


cdef void _clear_continuously(int form, const double[:, ::1] rows, const long long[::1] order, double budget,
                              Py_ssize_t p, const PrefixAt* before, double grant_p, double slope_p,
                              double[::1] tokens_out, Clearing* result) noexcept nogil:
    """The price between s_{p+1} and s_p where the first p + 1 rows demand the budget; fill their grants.

    With many queries the budget sits within a few tokens of F_p or G_p, so the
    price moves by a relative 1e-6 or so: one second-order step from s_p is then
    exact to far below a token. Small or far-off cases take the exact passes.
    """
    cdef Py_ssize_t j = p + 1
    cdef double s_p = rows[p, BREAKEVEN], s_j = rows[j, BREAKEVEN] if j < rows.shape[0] else 0.0
    cdef double curvature = before.curvature + grant_curvature(slope_p, s_p, rows[p, BETA])
    # (a flat demand gives no Newton step: the impossible price -1 sends it to the exact passes)
    cdef double lam = s_p + newton_move(before.demand + grant_p - budget, before.slope + slope_p, curvature) if (
        before.slope + slope_p < 0.0) else -1.0
    if not (lam > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam > s_j):
        lam = solve_prefix(form, rows, j, budget, s_j, s_p, s_p, before.demand + grant_p, before.slope + slope_p,
                           NULL)
    result.kind = ClearingKind.CONTINUOUS
    result.price = lam
    result.position = NO_POSITION
    result.bound = lam * budget + fill(form, rows, order, j, lam, tokens_out)


cdef bint _settle_jump_by_one_step(int form, const double[:, ::1] rows, const long long[::1] order, double budget,
                                   Py_ssize_t p, const PrefixAt* before, double grant_p, double slope_p,
                                   double[::1] tokens_out, Clearing* result) noexcept nogil:
    """Settle the jump at s_p when both options' prices are one Newton step from it; False if they are not.

    Leaving row p out or funding it moves the price by a relative 1e-6 or so
    when there are many queries (at most NEWTON_EXACT_WITHIN here): each
    option's price is one second-order step from s_p, and its utility follows
    to second order from the optimality condition u'(b) = price, which makes
    the utility's slope in the price ``price * D'`` and its curvature
    ``D' + price * D''`` for a demand D.
    """
    cdef double s_p = rows[p, BREAKEVEN], value_out, value_in, move_out, move_in
    cdef double slope_in = before.slope + slope_p
    cdef double curvature_in = before.curvature + grant_curvature(slope_p, s_p, rows[p, BETA])
    cdef double lam_out = s_p + newton_move(before.demand - budget, before.slope, before.curvature) if (
        before.slope < 0.0) else -1.0
    cdef double lam_in = s_p + newton_move(before.demand + grant_p - budget, slope_in, curvature_in) if (
        slope_in < 0.0) else INFINITY
    if not (lam_out > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam_in < s_p * (1.0 + NEWTON_EXACT_WITHIN)):
        return False
    move_out = lam_out - s_p
    move_in = lam_in - s_p
    value_out = before.value + move_out * (s_p * before.slope + 0.5 * move_out * (
        before.slope + s_p * before.curvature))
    value_in = before.value + row_utility(form, rows, p, grant_p) + move_in * (s_p * slope_in + 0.5 * move_in * (
        slope_in + s_p * curvature_in))
    if value_in > value_out:
        fill_grants(form, rows, order, p + 1, lam_in, tokens_out)
        result.kind = ClearingKind.JUMP_IN
    else:
        fill_grants(form, rows, order, p, lam_out, tokens_out)
        result.kind = ClearingKind.JUMP_OUT
    return True


cdef ClearingKind _settle_jump_exactly(int form, const double[:, ::1] rows, const long long[::1] order,
                                       double budget, Py_ssize_t p, const PrefixAt* before, double grant_p,
                                       double slope_p, double[::1] tokens_out) noexcept nogil:
    """Compare leaving row p out with funding it at a higher price, each solved exactly; fill the better."""
    cdef double s_p = rows[p, BREAKEVEN], lam_out, lam_in = 0.0, value_in = -1.0, floor_in = 0.0
    cdef double top = 0.0, marginal_max
    cdef PrefixAt out, funded
    cdef Py_ssize_t k
    lam_out = solve_prefix(form, rows, p, budget, 0.0, s_p, s_p, before.demand, before.slope, &out)
    for k in range(p + 1):
        floor_in += rows[k, LOWER]
        # above the largest marginal utility every response sits at its lower bound
        marginal_max = rows[k, SCALE] if form == SURGE else rows[k, SCALE] / (rows[k, BETA] * E)
        if marginal_max > top:
            top = marginal_max
    if floor_in <= budget:
        lam_in = solve_prefix(form, rows, p + 1, budget, s_p, top, s_p, before.demand + grant_p,
                              before.slope + slope_p, &funded)
        value_in = funded.value
        # a response that jumps to its lower bound can skip over the budget: check feasibility
        if funded.demand > budget * (1.0 + 1e-12):
            value_in = -1.0
    if value_in > out.value:
        fill_grants(form, rows, order, p + 1, lam_in, tokens_out)
        return ClearingKind.JUMP_IN
    fill_grants(form, rows, order, p, lam_out, tokens_out)
    return ClearingKind.JUMP_OUT
