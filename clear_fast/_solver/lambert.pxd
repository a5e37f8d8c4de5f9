# cython: language_level=3
"""Lambert W on both real branches, as inline scalar functions for the other kernel modules.

The bottom layer of the compiled kernel: pure functions of one double, no
state, no errors (inputs outside a branch's domain give its value at the
branch point, -1, or its limit). They live here in the .pxd so that every
module that cimports them inlines them into its own loops. The twin is
clear_fast/_reference/lambert.py, which carries the derivations.
"""

from libc.math cimport exp, fabs, log, log1p, sqrt, INFINITY

cdef extern from *:
    """
    static const double CLEAR_FAST_E = 2.718281828459045;
    static const double CLEAR_FAST_INV_E = 0.36787944117144233;
    /* 1/e split in two doubles: near the branch point z + 1/e is computed exactly (Sterbenz)
       before the tiny correction, so W keeps full accuracy where the naive e*z + 1 would
       cancel away its digits. */
    static const double CLEAR_FAST_INV_E_LO = -1.2428753672788363e-17;
    """
    const double E "CLEAR_FAST_E"
    const double INV_E "CLEAR_FAST_INV_E"
    const double INV_E_LO "CLEAR_FAST_INV_E_LO"


cdef inline double halley_refine(double w, double z) noexcept nogil:
    """Refine ``w`` towards the root of ``w exp(w) = z`` by Halley's method."""
    cdef double ew, residual, wp1, denominator, step
    cdef int k
    for k in range(30):
        ew = exp(w)
        residual = w * ew - z
        wp1 = w + 1.0
        if wp1 == 0.0:
            return w
        denominator = ew * wp1 - (w + 2.0) * residual / (2.0 * wp1)
        if denominator == 0.0:
            return w
        step = residual / denominator
        w -= step
        if fabs(step) <= 1e-15 * (1.0 + fabs(w)):
            break
    return w


cdef inline double branch_point_series(double p) noexcept nogil:
    """W near the branch point as a series in ``p = +-sqrt(2 (e z + 1))``."""
    return -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0 + p * 769.0 / 17280.0))))


cdef inline double fritsch_step(double w, double z) noexcept nogil:
    """One step of Fritsch's iteration for w exp(w) = z (fourth order; needs one log).

    ``zn`` and ``q`` are named as in Fritsch, Shafer and Crowley (1973).
    """
    cdef double zn = log(z / w) - w
    cdef double q = 2.0 * (1.0 + w) * (1.0 + w + 2.0 / 3.0 * zn)
    return w * (1.0 + zn / (1.0 + w) * (q - zn) / (q - 2.0 * zn))


cdef inline double lambert_w0(double z) noexcept nogil:
    """Principal branch W0 on ``[-1/e, inf)``."""
    cdef double p_squared, delta, w, lz, l1, l2
    if z == 0.0:
        return 0.0
    if 0.0 < z <= E:
        # the surge solver's whole range: a least-squares rational fit of W0 on (0, e] (relative error
        # 1.5e-4) and one Fritsch step reach full double precision with a single log
        w = z * (0.9998518385990675 + z * (1.46591884864671 + z * 0.2576309061746526)) / (
            1.0 + z * (2.4619350020747803 + z * (1.2509443968684903 + z * 0.08906042252948825)))
        return fritsch_step(w, z)
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    p_squared = 2.0 * E * delta
    if p_squared < 1e-6:
        return branch_point_series(sqrt(p_squared))
    if p_squared < 0.5:
        w = branch_point_series(sqrt(p_squared))
    elif z < 3.0:
        lz = log1p(z)
        w = lz * (1.0 - log1p(lz) / (2.0 + lz))
    else:
        l1 = log(z)
        l2 = log(l1)
        w = l1 - l2 + l2 / l1
    return halley_refine(w, z)


cdef inline double lambert_wm1_tiny(double w, double log_minus_z) noexcept nogil:
    """W_{-1} for tiny |z| by Newton on log(-w) + w = log(-z), which never forms e^w."""
    cdef double step
    cdef int k
    for k in range(20):
        step = (log(-w) + w - log_minus_z) / (1.0 + 1.0 / w)
        w -= step
        if fabs(step) <= 1e-15 * fabs(w):
            break
    return w


cdef inline double lambert_wm1(double z) noexcept nogil:
    """Lower branch W_{-1} on ``[-1/e, 0)``; -inf at 0 and above (its limit at 0-)."""
    cdef double p_squared, delta, w, l1, l2
    if z >= 0.0:  # reached when -price * beta / a underflows
        return -INFINITY
    delta = (z + INV_E) + INV_E_LO
    if delta <= 0.0:
        return -1.0
    p_squared = 2.0 * E * delta
    if p_squared < 1e-6:
        return branch_point_series(-sqrt(p_squared))
    if p_squared < 0.5:
        w = branch_point_series(-sqrt(p_squared))
        return halley_refine(w, z)
    # away from the branch point the asymptotic guess is within 12%, and two Fritsch steps (fourth
    # order, one log each) reach full double precision
    l1 = log(-z)
    l2 = log(-l1)
    if z > -1e-290:  # (sub)normal underflow territory: solve log(-w) + w = log(-z) instead
        return lambert_wm1_tiny(l1 - l2 + l2 / l1, l1)
    return fritsch_step(fritsch_step(l1 - l2 + l2 / l1, z), z)


cdef inline double cumulative_root(double lam, double beta, double a) noexcept nogil:
    """``W_{-1}(-lam beta / a)``, the cumulative curve's best-response root, for ``lam, beta, a > 0``.

    Where the ratio is tiny (a price or weight near the bottom of the double range) it is
    never formed: ``log(-z)`` is summed from the three logs, so a product that would
    underflow to 0 (and send the grant to infinity) keeps its value.
    """
    cdef double z = -lam * beta / a, l1, l2
    if z > -1e-290:
        l1 = log(lam) + log(beta) - log(a)
        l2 = log(-l1)
        return lambert_wm1_tiny(l1 - l2 + l2 / l1, l1)
    return lambert_wm1(z)
