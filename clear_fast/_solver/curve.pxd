# cython: language_level=3
"""One query's curve: its utility, its best grant at a price, its tangent point, its bounds.

The second layer of the compiled kernel, above lambert.pxd: inline scalar
functions of one query's parameters, shared by every module that loops over
queries (curve.pyx, market_rows.pyx, shared_params.pyx), so each inlines them.
They trust their inputs and never raise. The twin, with the mathematics, is
clear_fast/_reference/curve.py.

Parameters, as everywhere in the kernel: ``form`` (SURGE or CUMULATIVE),
``tau`` the threshold, ``a`` the weighted slope at onset (``weight * alpha``),
``beta`` the decay, ``lam`` a price per token (the lambda of the dual),
``x = b - tau`` the tokens past the threshold of a grant ``b``.
"""

from libc.math cimport ceil, exp, expm1, fabs, floor, log, log1p, sqrt, isinf

from .lambert cimport E, INV_E, cumulative_root, lambert_w0

# the curve forms, as SurgeCurves.form_code numbers them
cdef enum CurveForm:
    SURGE = 0
    CUMULATIVE = 1


cdef inline double utility_past_threshold(int form, double a, double beta, double x) noexcept nogil:
    """Utility ``x`` tokens past the threshold (0 for ``x <= 0``)."""
    cdef double y
    if x <= 0.0:
        return 0.0
    if form == SURGE:
        return a * x * exp(-beta * x)
    y = beta * x
    return a / (beta * beta) * (-expm1(-y) - y * exp(-y))


cdef inline double utility_at(int form, double tau, double a, double beta, double tokens) noexcept nogil:
    """Utility of a grant of ``tokens`` (which may be inf: the curve's limit)."""
    if isinf(tokens):
        return a / (beta * beta) if form == CUMULATIVE else 0.0
    return utility_past_threshold(form, a, beta, tokens - tau)


cdef inline double best_grant(int form, double tau, double a, double beta, double lower, double upper,
                              double lam, double* slope) noexcept nogil:
    """Best grant in [lower, upper] at price lam, ignoring abandonment; slope gets d grant / d lam."""
    cdef double w, grant, z, surplus_lower
    slope[0] = 0.0
    if form == SURGE:
        if lam >= a:
            return lower  # lower >= tau always: the Python layer passes ceil(max(tau, min_tokens))
        w = lambert_w0(E * lam / a)
        grant = tau + (1.0 - w) / beta
    else:
        if lam <= 0.0:
            return upper
        z = -lam * beta / a
        if z <= -INV_E:
            return lower
        w = cumulative_root(lam, beta, a)
        grant = tau - w / beta
    if grant <= lower:
        grant = lower
    elif grant >= upper:
        grant = upper
    elif lam > 0.0 and w != -1.0:
        slope[0] = -(w / lam) / (beta * (1.0 + w))  # (w / lam first: lam * beta can underflow to 0)
    if form == CUMULATIVE and grant > lower:
        # the left end wins only when worth funding at this price (see the twin for why)
        surplus_lower = utility_at(form, tau, a, beta, lower) - lam * lower
        if surplus_lower > 0.0 and surplus_lower > utility_at(form, tau, a, beta, grant) - lam * grant:
            slope[0] = 0.0
            return lower
    return grant


cdef inline double tangent_point(int form, double tau, double beta) noexcept nogil:
    """Unbounded grant where the steepest ray from the origin touches the curve."""
    cdef double t = beta * tau, w_bar, y, g, phi, dphi, y_next
    cdef int k
    if form == SURGE:
        w_bar = 1.0 / (1.0 + 0.5 * t + sqrt(t + 0.25 * t * t))
        return tau + (1.0 - w_bar) / beta
    y = 2.0 + 1.5 * log1p(t)
    for k in range(100):
        g = 1.0 + y + y * y + t * y
        phi = y - log(g)
        dphi = 1.0 - (1.0 + 2.0 * y + t) / g
        y_next = y - phi / dphi
        if y_next <= 1.0:
            y_next = 0.5 * (y + 1.0)
        if fabs(y_next - y) <= 1e-14 * y:
            y = y_next
            break
        y = y_next
    return tau + y / beta


cdef inline void grant_bounds(double tau, double min_tokens, double max_tokens, double* lower,
                              double* upper) noexcept nogil:
    """Whole-token bounds of a funded grant: ceil(max(tau, min_tokens)) and floor(max_tokens)."""
    lower[0] = ceil(tau if tau > min_tokens else min_tokens)
    upper[0] = floor(max_tokens)
