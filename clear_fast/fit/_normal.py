"""The standard normal CDF and its inverse in numpy (scipy is not a run-time dependency)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

_erf = np.frompyfunc(math.erf, 1, 1)

# Acklam's rational approximation to the inverse normal CDF (relative error < 1.2e-9),
# refined by one Halley step against math.erf.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_LOW = 0.02425


def normal_cdf(x: ArrayLike) -> NDArray[np.float64]:
    """``Phi(x)``, elementwise."""
    values = np.asarray(x, dtype=np.float64)
    erf = np.asarray(_erf(values / math.sqrt(2.0)), dtype=np.float64)
    return 0.5 * (1.0 + erf)


def normal_quantile(q: ArrayLike) -> NDArray[np.float64]:
    """``Phi^{-1}(q)`` for ``q`` in (0, 1), elementwise (``-inf``/``inf`` at 0 and 1)."""
    q = np.asarray(q, dtype=np.float64)
    out = np.empty_like(q)
    low, high = q < _LOW, q > 1 - _LOW
    mid = ~(low | high)
    r = q[mid] - 0.5
    s = r * r
    out[mid] = (((((_A[0] * s + _A[1]) * s + _A[2]) * s + _A[3]) * s + _A[4]) * s + _A[5]) * r / (
        ((((_B[0] * s + _B[1]) * s + _B[2]) * s + _B[3]) * s + _B[4]) * s + 1
    )
    for mask, sign, tail in ((low, 1.0, q), (high, -1.0, 1 - q)):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.sqrt(-2 * np.log(tail[mask]))
            out[mask] = sign * (((((_C[0] * t + _C[1]) * t + _C[2]) * t + _C[3]) * t + _C[4]) * t + _C[5]) / (
                (((_D[0] * t + _D[1]) * t + _D[2]) * t + _D[3]) * t + 1
            )
    out[q <= 0] = -np.inf
    out[q >= 1] = np.inf
    finite = np.isfinite(out)
    error = normal_cdf(out[finite]) - q[finite]
    step = error * math.sqrt(2 * math.pi) * np.exp(out[finite] ** 2 / 2)
    out[finite] = out[finite] - step / (1 + out[finite] * step / 2)
    return out
