# cython: language_level=3
"""Kernel entry points for queries that share their parameters (the paper's case).

When every query has the same ``a`` and ``beta`` and no bounds, each funded
query gets the same increment ``x`` above its own threshold and the funded set
is the ``k`` smallest thresholds, so one sort (done in clear_fast.allocate) and
one scan give the exact answer. Built on curve.pxd and lambert.pxd; trusts its
inputs (``tau_sorted`` ascending, thresholds >= 0) and never raises for data.
The twin, with the mathematics, is clear_fast/_reference/shared_params.py.
"""

from libc.math cimport ceil, exp, expm1, floor, INFINITY
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from .curve cimport SURGE, utility_past_threshold
from .lambert cimport E, INV_E, cumulative_root, lambert_w0

# Sums of the sorted thresholds are kept only at every BLOCK-th position; a sum
# in between adds at most BLOCK - 1 terms, in the order of a running sum, so it
# is bit for bit the running sum (the twin keeps every one).
cdef Py_ssize_t BLOCK = 64
# A block of the scan is skipped when even its bound falls short of a value
# already found; the margin absorbs the rounding of the values compared.
cdef double MARGIN = 1.0 + 1e-12


cdef inline double prefix_at(const double[::1] tau_sorted, const double* block_sums, Py_ssize_t k) noexcept nogil:
    """Sum of the ``k`` smallest thresholds."""
    cdef Py_ssize_t i, start = (k // BLOCK) * BLOCK
    cdef double total = block_sums[k // BLOCK]
    for i in range(start, k):
        total += tau_sorted[i]
    return total


cdef void fill_block_sums(const double[::1] tau_sorted, double* block_sums) noexcept nogil:
    """``block_sums[j]``: the sum of the first ``j * BLOCK`` thresholds, ``j = 0 .. n // BLOCK``."""
    cdef Py_ssize_t i, j, n = tau_sorted.shape[0]
    cdef double total = 0.0
    for j in range(n // BLOCK + 1):
        block_sums[j] = total
        for i in range(j * BLOCK, min((j + 1) * BLOCK, n)):
            total += tau_sorted[i]


cdef inline double value_of_first(int form, double a, double beta, double x_peak, double remaining, Py_ssize_t k,
                                  double* x) noexcept nogil:
    """Utility of funding the ``k`` easiest queries with ``remaining`` tokens past their thresholds; ``x`` gets their increment."""
    x[0] = remaining / k
    if x[0] > x_peak:
        x[0] = x_peak
    return k * utility_past_threshold(form, a, beta, x[0])


cdef void scan(int form, const double[::1] tau_sorted, const double* block_sums, double a, double beta,
               double budget, Py_ssize_t* best_k, double* best_x) noexcept nogil:
    """Best number ``k`` of easiest queries to fund and their common increment: the exact argmax over every ``k``.

    The increment ``x_k = min(x_peak, (budget - prefix_k) / k)`` falls as ``k``
    grows and the utility rises with it, so no ``k`` in a block is worth more
    than the block's last ``k`` times the utility at its first: a first pass
    samples each block's first ``k`` (a value found, and the block's bound), the
    second evaluates only the blocks whose bound reaches the best sample. It
    also stops once no larger ``k`` can do better: ``U(x) <= steepest * x``, so
    funding ``k`` or more is worth at most ``steepest`` times the tokens left
    past the thresholds. Ties go to the smallest ``k``, as a scan of every ``k``.
    """
    cdef Py_ssize_t n = tau_sorted.shape[0], blocks = (n + BLOCK - 1) // BLOCK, j, k, last
    cdef double x_peak = 1.0 / beta if form == SURGE else INFINITY
    cdef double steepest = (a if form == SURGE else a / (beta * E)) * MARGIN
    cdef double sampled = 0.0, best_value = 0.0, first_value, value, x, prefix, remaining
    best_k[0] = 0
    best_x[0] = 0.0
    for j in range(blocks):
        remaining = budget - (block_sums[j] + tau_sorted[j * BLOCK])  # past the thresholds of the block's first k
        if remaining <= 0.0 or remaining * steepest < sampled:
            break
        sampled = max(sampled, value_of_first(form, a, beta, x_peak, remaining, j * BLOCK + 1, &x))
    for j in range(blocks):
        remaining = budget - (block_sums[j] + tau_sorted[j * BLOCK])
        if remaining <= 0.0 or remaining * steepest < best_value:
            break
        last = min((j + 1) * BLOCK, n)
        first_value = value_of_first(form, a, beta, x_peak, remaining, j * BLOCK + 1, &x)
        if first_value / (j * BLOCK + 1) * last * MARGIN < sampled:  # the block's bound
            continue
        prefix = block_sums[j]
        for k in range(j * BLOCK + 1, last + 1):
            prefix += tau_sorted[k - 1]
            remaining = budget - prefix
            if remaining <= 0.0:
                break
            value = value_of_first(form, a, beta, x_peak, remaining, k, &x)
            if value > best_value:
                best_value = value
                best_k[0] = k
                best_x[0] = x


cdef void demand_at(int form, const double[::1] tau_sorted, const double* block_sums, double a, double beta,
                    double budget, double lam, double* total, double* value) noexcept nogil:
    """Demand and dual value at price lam for shared parameters (one binary search)."""
    cdef Py_ssize_t n = tau_sorted.shape[0], lo = 0, hi = n, mid
    cdef double w, y, threshold, x, prefix
    if lam <= 0.0:
        if form == SURGE:
            x = 1.0 / beta
            total[0] = n * x + prefix_at(tau_sorted, block_sums, n)
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
    prefix = prefix_at(tau_sorted, block_sums, lo)
    total[0] = lo * x + prefix
    value[0] = lam * budget + lo * (utility_past_threshold(form, a, beta, x) - lam * x) - lam * prefix


cdef void minimise_dual(int form, const double[::1] tau_sorted, const double* block_sums, double a, double beta,
                        double budget, double* price, double* bound) noexcept nogil:
    """The price that minimises the dual function (bisection on demand), and the dual value there."""
    cdef double total, value, lo = 0.0, hi, mid, value_hi, value_lo
    cdef int step
    demand_at(form, tau_sorted, block_sums, a, beta, budget, 0.0, &total, &value)
    if total <= budget:
        price[0] = 0.0
        bound[0] = value
        return
    hi = a if form == SURGE else a / (beta * E)
    for step in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        demand_at(form, tau_sorted, block_sums, a, beta, budget, mid, &total, &value)
        if total > budget:
            lo = mid
        else:
            hi = mid
    demand_at(form, tau_sorted, block_sums, a, beta, budget, hi, &total, &value_hi)
    price[0] = hi
    bound[0] = value_hi
    if lo > 0.0:
        demand_at(form, tau_sorted, block_sums, a, beta, budget, lo, &total, &value_lo)
        if value_lo < value_hi:
            price[0] = lo
            bound[0] = value_lo


def shared_solve(int form, const double[::1] tau_sorted, double a, double beta, double budget):
    """The continuous solution and its certificate: ``(k, x, price, bound)``.

    ``k`` easiest queries funded, each ``x`` tokens past its threshold (the
    exact scan over ``k``); ``price`` minimises the dual function and
    ``bound`` is its value there, an upper bound on any allocation's utility.
    """
    cdef Py_ssize_t k
    cdef double x, price, bound
    cdef double* block_sums = <double*> malloc((tau_sorted.shape[0] // BLOCK + 1) * sizeof(double))
    if block_sums == NULL:
        raise MemoryError()
    with nogil:
        fill_block_sums(tau_sorted, block_sums)
        scan(form, tau_sorted, block_sums, a, beta, budget, &k, &x)
        minimise_dual(form, tau_sorted, block_sums, a, beta, budget, &price, &bound)
    free(block_sums)
    return k, x, price, bound


cdef inline double utility_and_gain(int form, double a, double beta, double after_one, double one_less,
                                    double d, double* gain) noexcept nogil:
    """Utility ``d >= 0`` tokens past the threshold, and (in ``gain``) what one more token adds; one exp.

    ``after_one = exp(-beta)``, ``one_less = -expm1(-beta)``: the next token's
    factor and its complement, shared by every query.
    """
    cdef double e, y, scale
    if form == SURGE:
        e = exp(-beta * d)
        gain[0] = a * e * (after_one - d * one_less)  # a (d+1) e^-beta(d+1) - a d e^-beta d
        return a * d * e
    y = beta * d
    e = exp(-y)
    scale = a / (beta * beta)
    gain[0] = scale * e * ((1.0 + y) * one_less - beta * after_one)
    if y < 0.5:  # 1 - e^-y loses digits to cancellation here
        return scale * (-expm1(-y) - y * e)
    return scale * (1.0 - e * (1.0 + y))


def shared_grants(int form, const double[::1] tau, double a, double beta, double x, double kth, Py_ssize_t ties,
                  int64_t[::1] tokens_out, int64_t[::1] funded_out, double[::1] gains_out):
    """Whole grants of the funded queries, written into ``tokens_out``; ``(spent, utility)``.

    Funded: every query with ``tau < kth`` and the first ``ties`` with
    ``tau == kth``, listed in ``funded_out``. Each gets ``floor(tau + x)`` tokens (at least ``ceil(tau)``);
    ``gains_out`` holds what one more token would add to each.
    """
    cdef Py_ssize_t i, j = 0, n = tau.shape[0], k = gains_out.shape[0]
    cdef int take, tie
    cdef double grant, spent = 0.0, total = 0.0, gain
    cdef double after_one = exp(-beta), one_less = -expm1(-beta)
    with nogil:
        # Which queries are funded is a coin toss per query to the branch predictor, so the list
        # is written without branches (every index, kept or overwritten by the next), and the
        # costly part runs over it afterwards.
        for i in range(n):
            if j == k:
                break
            tie = tau[i] == kth
            take = (tau[i] < kth) | (tie & (ties > 0))
            ties -= tie & take
            funded_out[j] = i
            j += take
        for j in range(k):
            i = funded_out[j]
            grant = floor(tau[i] + x + 1e-9)
            if grant < ceil(tau[i]):
                grant = ceil(tau[i])
            tokens_out[i] = <int64_t> grant
            spent += grant
            total += utility_and_gain(form, a, beta, after_one, one_less, grant - tau[i], &gain)
            gains_out[j] = gain
    return spent, total


def shared_hand_out(const double[::1] gains, const int64_t[::1] funded, double cut, Py_ssize_t ties,
                    int64_t[::1] tokens):
    """One more token to each funded query whose gain is above ``cut``, and to the first ``ties`` at it.

    Only positive gains take a token. Returns ``(given, added)``: the tokens
    handed out and the utility they add.
    """
    cdef Py_ssize_t j, given = 0
    cdef double added = 0.0
    with nogil:
        for j in range(gains.shape[0]):
            if gains[j] < cut or (gains[j] == cut and ties <= 0):
                continue
            if gains[j] == cut:
                ties -= 1
            if gains[j] > 0.0:
                tokens[funded[j]] += 1
                given += 1
                added += gains[j]
    return given, added


def shared_value(int form, const double[::1] tau, double a, double beta, const double[::1] tokens):
    """Summed utility of grants ``tokens`` for queries sharing ``a`` and ``beta``."""
    cdef Py_ssize_t i, n = tau.shape[0]
    cdef double total = 0.0
    with nogil:
        for i in range(n):
            total += utility_past_threshold(form, a, beta, tokens[i] - tau[i])
    return total
