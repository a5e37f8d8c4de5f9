"""Lambert W on both real branches: the twin of clear_fast/_solver/lambert.pyx and lambert.pxd.

``W(z)`` solves ``w exp(w) = z``. On ``[-1/e, 0)`` it has two real branches:
the principal ``W0 >= -1`` and the lower ``W_{-1} <= -1``, meeting at the
branch point ``z = -1/e``, ``w = -1``. The curves' best responses need both:
the surge's on ``W0(e lam / a)``, the cumulative's on ``W_{-1}(-lam beta / a)``.

Near the branch point ``W = -1 + p - p^2/3 + 11 p^3/72 - ...`` with
``p = +-sqrt(2 (e z + 1))`` (plus for W0, minus for W_{-1}); ``e z + 1`` is
formed as ``e ((z + 1/e_hi) + 1/e_lo)`` so no digits cancel. Elsewhere a
starting guess (``log1p`` forms for small z, ``L1 - L2 + L2/L1`` with
``L1 = log|z|``, ``L2 = log|L1|`` for large |z|) is refined by Halley's
method, which converges cubically. The compiled kernel reaches the same
values with fewer logs (a rational fit and Fritsch's iteration); the tests
hold the two to 1e-14 and both to SciPy and mpmath.
"""

from __future__ import annotations

import math

INV_E = math.exp(-1.0)
# 1/e split in two doubles: near the branch point z + 1/e is computed exactly (Sterbenz) before the
# tiny correction, so W keeps full accuracy where the naive e*z + 1 would cancel away its digits.
INV_E_LO = -1.2428753672788363e-17


def halley_refine(w: float, z: float) -> float:
    """Refine ``w`` to solve ``w exp(w) = z`` by Halley's method."""
    for _ in range(30):
        ew = math.exp(w)
        residual = w * ew - z
        wp1 = w + 1.0
        if wp1 == 0.0:
            return w
        denominator = ew * wp1 - (w + 2.0) * residual / (2.0 * wp1)
        if denominator == 0.0:
            return w
        step = residual / denominator
        w -= step
        if abs(step) <= 1e-15 * (1.0 + abs(w)):
            break
    return w


def branch_point_series(p: float) -> float:
    """W near the branch point as a series in ``p = +-sqrt(2 (e z + 1))`` (error ~ p^6)."""
    return -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0 + p * 769.0 / 17280.0))))


def lambert_w0(z: float) -> float:
    """Principal branch W0 on ``[-1/e, inf)``."""
    if z == 0.0:
        return 0.0
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    p_squared = 2.0 * math.e * delta
    if p_squared < 1e-6:  # p < 1e-3: the series alone is exact to double precision
        return branch_point_series(math.sqrt(p_squared))
    if p_squared < 0.5:  # near the branch point: start from the series
        w = branch_point_series(math.sqrt(p_squared))
    elif z < 3.0:
        lz = math.log1p(z)
        w = lz * (1.0 - math.log1p(lz) / (2.0 + lz))
    else:
        l1 = math.log(z)
        l2 = math.log(l1)
        w = l1 - l2 + l2 / l1
    return halley_refine(w, z)


def lambert_wm1_tiny(w: float, log_minus_z: float) -> float:
    """W_{-1} for tiny ``|z|`` by Newton on ``log(-w) + w = log(-z)``, which never forms ``e^w``."""
    for _ in range(20):
        step = (math.log(-w) + w - log_minus_z) / (1.0 + 1.0 / w)
        w -= step
        if abs(step) <= 1e-15 * abs(w):
            break
    return w


def lambert_wm1(z: float) -> float:
    """Lower branch W_{-1} on ``[-1/e, 0)``."""
    if z >= 0.0:  # the limit at 0- (reached when -price * beta / a underflows)
        return -math.inf
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    p_squared = 2.0 * math.e * delta
    if p_squared < 1e-6:
        return branch_point_series(-math.sqrt(p_squared))
    if p_squared < 0.5:
        w = branch_point_series(-math.sqrt(p_squared))
    else:
        l1 = math.log(-z)
        l2 = math.log(-l1)
        w = l1 - l2 + l2 / l1
        if z > -1e-290:  # e^w would be subnormal: solve log(-w) + w = log(-z) instead
            return lambert_wm1_tiny(w, l1)
    return halley_refine(w, z)


def cumulative_root(lam: float, beta: float, a: float) -> float:
    """``W_{-1}(-lam beta / a)``, the cumulative curve's best-response root, for ``lam, beta, a > 0``.

    Where the ratio is tiny (a price or weight near the bottom of the double range) it is
    never formed: ``log(-z)`` is summed from the three logs, so a product that would
    underflow to 0 (and send the grant to infinity) keeps its value.
    """
    z = -lam * beta / a
    if z > -1e-290:
        l1 = math.log(lam) + math.log(beta) - math.log(a)
        l2 = math.log(-l1)
        return lambert_wm1_tiny(l1 - l2 + l2 / l1, l1)
    return lambert_wm1(z)


def lambert_w(z, branch, out):
    """Write ``W_branch(z[i])`` into ``out[i]`` (branch 0 or -1)."""
    scalar = lambert_w0 if branch == 0 else lambert_wm1
    for i in range(len(z)):
        out[i] = scalar(z[i])
