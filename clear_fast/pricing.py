"""Curves at a grant or at a price: utility, best response, break-even price.

These are the per-query building blocks the allocator and the online pacer
share. Token grants are whole numbers; a funded grant lies in
``[ceil(max(tau, min_tokens)), floor(max_tokens)]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernel
from ._checks import as_float_array, as_nonnegative_number, require_instance
from .curves import SurgeCurves


def integer_bounds(curves: SurgeCurves) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Smallest and largest whole-token grant of each funded query (``lower > upper``: never fundable)."""
    lower = np.ceil(curves.lower)
    upper = np.floor(curves.max_tokens)  # floor(inf) stays inf
    return lower, upper


def utility(curves: SurgeCurves, tokens: ArrayLike) -> NDArray[np.float64]:
    """Weighted utility ``w_i U_i(tokens_i)`` of each query.

    Parameters
    ----------
    curves : SurgeCurves, n queries
    tokens : array_like, shape (n,)
        Grants in tokens (>= 0; need not be whole numbers).

    Returns
    -------
    ndarray of float64, shape (n,)
        Zero below each threshold. Caps are not applied here: the curve is
        evaluated where asked.
    """
    curves = require_instance("curves", curves, SurgeCurves)
    grants = as_float_array("tokens", tokens, len(curves), minimum=0.0, allow_inf=True)
    out = np.empty(len(curves))
    if len(curves):
        _kernel.kernel.utility(curves.form_code, curves.tau, curves.scale, curves.beta, grants, out)
    return out


def utility_of(curves: SurgeCurves, ids: NDArray[np.intp], tokens: NDArray[np.float64]) -> NDArray[np.float64]:
    """Utility of the queries at ``ids`` at ``tokens`` (internal: trusted inputs, no validation)."""
    out = np.empty(ids.shape[0])
    if ids.shape[0]:
        _kernel.kernel.utility(
            curves.form_code,
            np.ascontiguousarray(curves.tau[ids]),
            np.ascontiguousarray(curves.scale[ids]),
            np.ascontiguousarray(curves.beta[ids]),
            np.ascontiguousarray(tokens, dtype=np.float64),
            out,
        )
    return out


def breakeven_price(curves: SurgeCurves) -> NDArray[np.float64]:
    """Price per token above which each query is better abandoned.

    Returns
    -------
    ndarray of float64, shape (n,)
        ``max_b w U(b) / b`` over the query's feasible whole-token grants: the
        slope of the steepest ray from the origin that touches its curve. 0 for
        a query that can never be funded (its cap below its threshold).

    Notes
    -----
    Surge form, no bounds: ``a W e^(W - 1)`` with
    ``W = 1 / (1 + t/2 + sqrt(t + t^2/4))``, ``t = beta tau``. Cumulative form:
    the tangency ``e^y = 1 + y + y^2 + t y`` solved by Newton's method.
    """
    return _breakeven(require_instance("curves", curves, SurgeCurves))[0]


def _breakeven(curves: SurgeCurves) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    price = np.empty(len(curves))
    tangent = np.empty(len(curves))
    if len(curves):
        _kernel.kernel.breakeven(
            curves.form_code, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens,
            price, tangent,
        )
    return price, tangent


def best_response(curves: SurgeCurves, price: float) -> NDArray[np.int64]:
    """Each query's best whole-token grant at a price per token, or 0 to abandon it.

    Parameters
    ----------
    curves : SurgeCurves, n queries
    price : float
        Price per token (>= 0), in units of weighted utility.

    Returns
    -------
    ndarray of int64, shape (n,)
        The grant maximising ``w U(b) - price * b`` over whole tokens in the
        query's bounds, 0 where that surplus is not positive. At price 0 an
        uncapped cumulative curve wants unboundedly many tokens: that is an error.
    """
    curves = require_instance("curves", curves, SurgeCurves)
    lam = as_nonnegative_number("price", price)
    n = len(curves)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    be, _ = _breakeven(curves)
    lower, upper = integer_bounds(curves)
    continuous = np.empty(n)
    _kernel.kernel.demand(
        curves.form_code, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens, be, lam,
        continuous,
    )
    if not np.all(np.isfinite(continuous)):
        i = int(np.argmax(~np.isfinite(continuous)))
        raise ValueError(
            f"at price 0 query {i} (cumulative form, no max_tokens) wants unboundedly many tokens; "
            "give a positive `price` or set `max_tokens`"
        )
    funded = continuous > 0
    down = np.where(funded, np.maximum(np.floor(continuous), lower), 0.0)
    up = np.where(funded, np.minimum(np.ceil(continuous), upper), 0.0)
    surplus_down = utility(curves, down) - lam * down
    surplus_up = utility(curves, up) - lam * up
    pick = np.where(surplus_up > surplus_down, up, down)
    best = np.maximum(surplus_up, surplus_down)
    pick[~funded | (best <= 0)] = 0
    return pick.astype(np.int64)
