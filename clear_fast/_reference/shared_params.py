"""Queries that share their parameters: the twin of clear_fast/_solver/shared_params.pyx.

With one ``a`` and ``beta`` for all and no bounds (the paper's case) every
funded query gets the same increment ``x`` above its own threshold: the
optimality condition ``u'(x) = lam`` does not involve ``tau``. So the funded
set is the ``k`` smallest thresholds, and the problem is one-dimensional in
``k``. The dual is as in market.py; at a price the funded queries are those
whose threshold lies below a cut-off, found by one binary search.
"""

from __future__ import annotations

import math

from .curve import SURGE, utility_past_threshold
from .lambert import INV_E, cumulative_root, lambert_w0


def _x_peak(form, beta):
    """Increment at which a curve peaks (the surge's maximum; the cumulative never stops rising)."""
    return 1.0 / beta if form == SURGE else math.inf


def shared_scan(form, tau_sorted, a, beta, budget):
    """Best number ``k`` of easiest queries to fund and their common increment ``x``.

    With shared parameters the funded set is the ``k`` smallest thresholds and
    each gets ``x = min(x_peak, (budget - sum of their tau) / k)``; scanning every
    ``k`` with a running prefix sum finds the best in O(n), ties to the smallest
    ``k``. (The kernel skips blocks of ``k`` that a bound rules out, for the same answer.)
    """
    best_value = 0.0
    best_k = 0
    best_x = 0.0
    prefix = 0.0
    x_peak = _x_peak(form, beta)
    for k in range(1, len(tau_sorted) + 1):
        prefix += tau_sorted[k - 1]
        remaining = budget - prefix
        if remaining <= 0.0:
            break
        x = min(x_peak, remaining / k)
        value = k * utility_past_threshold(form, a, beta, x)
        if value > best_value:
            best_value, best_k, best_x = value, k, x
    return best_k, best_x


def shared_solve(form, tau_sorted, a, beta, budget):
    """The continuous solution and its certificate: ``(k, x, price, bound)``.

    ``k`` easiest queries funded, each ``x`` tokens past its threshold (the scan
    over ``k``); ``price`` minimises the dual function and ``bound`` is its value
    there, an upper bound on any allocation's utility.
    """
    k, x = shared_scan(form, tau_sorted, a, beta, budget)
    prefix_tau = [0.0]
    for t in tau_sorted:  # a running sum, as the kernel adds them
        prefix_tau.append(prefix_tau[-1] + t)
    price, bound = shared_dual(form, tau_sorted, prefix_tau, a, beta, budget)
    return k, x, price, bound


def utility_and_gain(form, a, beta, after_one, one_less, d):
    """Utility ``d >= 0`` tokens past the threshold and what one more token adds, from one exp.

    ``after_one = exp(-beta)``, ``one_less = -expm1(-beta)``. Surge:
    ``u(d) = a d e^(-beta d)``, so ``u(d+1) - u(d) = a e^(-beta d) (e^-beta - d (1 - e^-beta))``.
    Cumulative: ``u(d) = a / beta^2 (1 - e^-y (1 + y))`` with ``y = beta d``, so
    ``u(d+1) - u(d) = a / beta^2 e^-y ((1 + y)(1 - e^-beta) - beta e^-beta)``.
    """
    if form == SURGE:
        e = math.exp(-beta * d)
        return a * d * e, a * e * (after_one - d * one_less)
    y = beta * d
    e = math.exp(-y)
    scale = a / (beta * beta)
    gain = scale * e * ((1.0 + y) * one_less - beta * after_one)
    if y < 0.5:  # 1 - e^-y loses digits to cancellation here
        return scale * (-math.expm1(-y) - y * e), gain
    return scale * (1.0 - e * (1.0 + y)), gain


def shared_grants(form, tau, a, beta, x, kth, ties, tokens_out, funded_out, gains_out):
    """Whole grants of the funded queries, written into ``tokens_out``; ``(spent, utility)``.

    Funded: every query with ``tau < kth`` and the first ``ties`` with
    ``tau == kth``, listed in ``funded_out``. Each gets ``floor(tau + x)``
    tokens (at least ``ceil(tau)``); ``gains_out`` holds what one more token
    would add to each.
    """
    after_one, one_less = math.exp(-beta), -math.expm1(-beta)
    spent = total = 0.0
    j = 0
    for i in range(len(tau)):
        if tau[i] > kth or (tau[i] == kth and ties <= 0):
            continue
        if tau[i] == kth:
            ties -= 1
        grant = max(float(math.floor(tau[i] + x + 1e-9)), float(math.ceil(tau[i])))
        tokens_out[i] = int(grant)
        funded_out[j] = i
        spent += grant
        value, gains_out[j] = utility_and_gain(form, a, beta, after_one, one_less, grant - tau[i])
        total += value
        j += 1
    return spent, total


def shared_hand_out(gains, funded, cut, ties, tokens):
    """One more token to each funded query whose gain is above ``cut``, and to the first ``ties`` at it.

    Only positive gains take a token. Returns ``(given, added)``.
    """
    given, added = 0, 0.0
    for j in range(len(gains)):
        if gains[j] < cut or (gains[j] == cut and ties <= 0):
            continue
        if gains[j] == cut:
            ties -= 1
        if gains[j] > 0.0:
            tokens[funded[j]] += 1
            given += 1
            added += gains[j]
    return given, added


def shared_value(form, tau, a, beta, tokens):
    """Summed utility of grants ``tokens`` for queries sharing ``a`` and ``beta``."""
    return sum(utility_past_threshold(form, a, beta, tokens[i] - tau[i]) for i in range(len(tau)))


def _shared_threshold(form, a, beta, lam):
    """Largest tau still funded at price ``lam`` (shared parameters), and the increment ``x``."""
    if form == SURGE:
        if lam >= a:
            return -1.0, 0.0
        w = lambert_w0(math.e * lam / a)
        return (1.0 - w) ** 2 / (beta * w), (1.0 - w) / beta
    z = -lam * beta / a
    if z <= -INV_E:
        return -1.0, 0.0
    y = -cumulative_root(lam, beta, a)
    return (math.expm1(y) - y - y * y) / (y * beta), y / beta


def _shared_count(tau_sorted, threshold):
    """How many thresholds are strictly below ``threshold`` (binary search)."""
    lo, hi = 0, len(tau_sorted)
    while lo < hi:
        mid = (lo + hi) // 2
        if tau_sorted[mid] < threshold:
            lo = mid + 1
        else:
            hi = mid
    return lo


def shared_dual(form, tau_sorted, prefix_tau, a, beta, budget):
    """Minimise the dual function for shared parameters. Returns ``(price, bound)``.

    ``prefix_tau[k]`` is the sum of the ``k`` smallest thresholds. At price ``lam``
    the funded queries are those with tau below a threshold, each taking the same
    ``x``, so demand and the dual value cost one binary search each.
    """
    n = len(tau_sorted)

    def at(lam):
        if lam <= 0.0:
            if form == SURGE:
                x = 1.0 / beta
                return n * x + prefix_tau[n], n * utility_past_threshold(form, a, beta, x)
            return math.inf, n * a / (beta * beta)
        threshold, x = _shared_threshold(form, a, beta, lam)
        c = _shared_count(tau_sorted, threshold)
        return c * x + prefix_tau[c], lam * budget + c * (utility_past_threshold(form, a, beta, x) - lam * x) - lam * prefix_tau[c]

    total, value = at(0.0)
    if total <= budget:
        return 0.0, value
    lo = 0.0
    hi = a if form == SURGE else a / (beta * math.e)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if at(mid)[0] > budget:
            lo = mid
        else:
            hi = mid
    candidates = [hi] + ([lo] if lo > 0.0 else [])
    best = min(candidates, key=lambda lam: at(lam)[1])
    return best, at(best)[1]
