"""Allocation that knows its thresholds are guesses.

A predicted threshold comes with a spread: ``log tau ~ Normal(log tau_hat, s)``.
Plugging ``tau_hat`` into :func:`clear_fast.allocate` treats the guess as the
truth: a query whose threshold was underestimated gets a grant that stops just
short of where it starts to pay, and one whose threshold was overestimated is
abandoned. Here each query's grant is instead chosen against its *expected*
utility over that distribution: each query gets a grid of candidate grants,
the expected utility of each grant is computed by quadrature over ``log tau``, and the multiple-choice knapsack solver
(:func:`clear_fast.allocate_levels`) picks one grant per query (or none).
Averaging over ``tau`` also smooths the kink at the threshold, so the expected
curve is closer to concave and the knapsack's rounding loses less.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_budget, as_float_array, as_integer_at_least, require_instance
from ._exact import SEARCH_SKIPPED
from ._grant_views import GrantViews
from .curves import SurgeCurves
from .levels import LevelAllocation, allocate_levels

_Z_RANGE = 8.0  # standard normal mass beyond 8 is 6e-16: nothing is lost by stopping there
_TAIL = 2.5  # candidate grants cover tau_hat * exp(+-2.5 spread): 99% of the predictive mass
_WIDTHS_PAST = {"surge": 3.0, "cumulative": 8.0}  # and this many 1/beta beyond it (where utility has levelled)


def expected_utility(curves: SurgeCurves, spread: ArrayLike, tokens: ArrayLike, *, nodes: int = 24) -> NDArray[np.float64]:
    """Expected weighted utility at ``tokens`` when each threshold is lognormal around ``curves.tau``.

    Parameters
    ----------
    curves : SurgeCurves, length n
        Curves whose ``tau`` is the predicted median threshold.
    spread : float or array_like, shape (n,)
        Standard deviation of ``log tau`` (>= 0; 0 gives the plain utility).
    tokens : array_like, shape (n,) or (n, L)
        Grants (>= 0), one per query or ``L`` candidates per query.
    nodes : int
        Quadrature nodes (>= 1).

    Returns
    -------
    ndarray, shape like ``tokens``
        ``E[w U(b; tau)]`` with ``log tau ~ Normal(log curves.tau, spread)``. Grants above
        ``max_tokens`` are valued at the cap; grants below ``min_tokens`` at 0.

    Notes
    -----
    With ``tau = tau_hat exp(s z)``, ``z ~ Normal(0, 1)``, the utility at grant ``b`` is
    zero for ``z > log(b / tau_hat) / s`` and smooth below. So the expectation is
    Gauss-Legendre quadrature of ``U(b; tau(z)) phi(z)`` on ``[-8, log(b / tau_hat) / s]``:
    a smooth integrand on a finite interval, accurate to about 1e-6 relative with 24
    nodes. O(n L nodes).
    """
    require_instance("curves", curves, SurgeCurves)
    n = len(curves)
    spreads = as_float_array("spread", spread, n, minimum=0.0)
    grants = np.array(tokens, dtype=np.float64, copy=True)
    if grants.ndim not in (1, 2) or grants.shape[0] != n:
        raise ValueError(f"`tokens` must have shape ({n},) or ({n}, L), got {grants.shape}")
    if not np.all(np.isfinite(grants)) or np.any(grants < 0):
        raise ValueError("`tokens` must be finite and >= 0")
    count = as_integer_at_least("nodes", nodes, 1)
    t, w = np.polynomial.legendre.leggauss(count)
    shape = grants.shape
    b = grants.reshape(n, -1) if n else grants.reshape(0, max(grants.shape[1:] or (1,)))
    usable = b >= curves.min_tokens[:, None]
    b = np.minimum(b, curves.max_tokens[:, None])
    s = spreads[:, None]
    certain = s == 0
    # utility is 0 once tau passes the grant, at z = log(b / tau_hat) / s: integrate up to that kink only,
    # so the quadrature sees a smooth integrand (Gauss-Hermite across the kink converges slowly)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a tiny spread sends the kink to +-inf: clipped
        kink = np.where(certain, 0.0, np.log(np.maximum(b, 1e-300) / curves.tau[:, None]) / np.where(certain, 1.0, s))
    top = np.clip(kink, -_Z_RANGE, _Z_RANGE)
    half = (top + _Z_RANGE) / 2.0  # (n, L)
    z = -_Z_RANGE + half[:, :, None] * (t + 1.0)  # (n, L, K)
    h = half[:, :, None] * w * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    z = np.where(certain[:, :, None], 0.0, z)
    h = np.where(certain[:, :, None], w / 2.0, h)  # zero spread: every node is tau_hat, weights sum to 1
    tau = curves.tau[:, None, None] * np.exp(s[:, :, None] * z)  # (n, L, K)
    beta = curves.beta[:, None, None]
    x = np.maximum(b[:, :, None] - tau, 0.0)
    decay = np.exp(-beta * x)
    if curves.form == "surge":
        values = curves.scale[:, None, None] * x * decay
    else:
        values = curves.scale[:, None, None] / beta**2 * (-np.expm1(-beta * x) - beta * x * decay)
    out = np.where(usable, (values * h).sum(axis=2), 0.0)
    return out.reshape(shape)


@dataclass(frozen=True, eq=False)
class UncertainAllocation(GrantViews):
    """The answer of :func:`allocate_uncertain`.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n,)
        Grant per query (0 = abandoned); ``sum(tokens) <= budget``.
    funded, abandoned : ndarray of bool, shape (n,)
        Queries with a grant, and without one.
    spent : int
        Tokens granted in total.
    expected_utility : ndarray of float64, shape (n,)
        Each query's expected utility at its grant.
    total_expected_utility : float
        Their sum: the objective that was maximised.
    upper_bound : float
        No choice among the candidate grants does better in expectation (proven).
    shadow_price : float
        Expected utility per token at the margin.
    budget : int
    levels : LevelAllocation
        The knapsack's own answer (chosen candidate per query).
    gap : float
        ``upper_bound - total_expected_utility`` (>= 0).
    optimal : bool
        True when the answer is proven optimal among the candidate grants, within
        ``tolerance``.
    tolerance : float
        ``max(rtol * total_expected_utility, shadow_price)``.
    search : str
        As in :class:`clear_fast.LevelAllocation`.
    """

    tokens: NDArray[np.int64]
    expected_utility: NDArray[np.float64]
    total_expected_utility: float
    upper_bound: float
    shadow_price: float
    budget: int
    levels: LevelAllocation
    gap: float = 0.0
    optimal: bool = True
    tolerance: float = 0.0
    search: str = SEARCH_SKIPPED
    spent: int = field(init=False)


def candidate_grants(curves: SurgeCurves, spread: ArrayLike, *, levels: int = 48) -> NDArray[np.int64]:
    """Whole-token candidate grants per query, shape (n, levels), spanning where its utility changes.

    From ``max(min_tokens, tau_hat exp(-2.5 s))`` to ``tau_hat exp(2.5 s)`` plus a few curve
    widths (``1/beta``), capped at ``max_tokens``; evenly spaced, rounded down to whole tokens.
    """
    n = len(curves)
    spreads = as_float_array("spread", spread, n, minimum=0.0)
    count = as_integer_at_least("levels", levels, 2)
    low = np.maximum(curves.min_tokens, curves.tau * np.exp(-_TAIL * spreads))
    high = np.minimum(curves.max_tokens, curves.tau * np.exp(_TAIL * spreads) + _WIDTHS_PAST[curves.form] / curves.beta)
    high = np.maximum(high, low)
    share = np.linspace(0.0, 1.0, count)
    grid = low[:, None] + share[None, :] * (high - low)[:, None]
    # a grant below min_tokens is worthless, so round those up to the minimum (never past the cap)
    whole = np.floor(grid)
    return np.maximum(whole, np.minimum(np.ceil(curves.min_tokens), np.floor(curves.max_tokens))[:, None]).astype(np.int64)


def allocate_uncertain(
    curves: SurgeCurves, spread: ArrayLike, budget: int, *, levels: int = 48, nodes: int = 24, rtol: float = 1e-3
) -> UncertainAllocation:
    """Allocate a budget to maximise expected utility when thresholds are uncertain.

    Parameters
    ----------
    curves : SurgeCurves, length n
        Curves with the predicted (median) thresholds.
    spread : float or array_like, shape (n,)
        Standard deviation of each query's ``log tau`` (>= 0), as returned by a
        predictor's ``predict`` or in :attr:`clear_fast.fit.FitResult.log_tau_spread`.
    budget : int
        Total tokens (a whole number >= 0).
    levels : int
        Candidate grants per query (>= 2).
    nodes : int
        Quadrature nodes for the expectation over ``log tau``.
    rtol : float
        Relative tolerance of the optimality proof among the candidate grants
        (>= 0), as in :func:`clear_fast.allocate_levels`.

    Returns
    -------
    UncertainAllocation

    Raises
    ------
    TypeError
        When ``curves`` is not a SurgeCurves.
    ValueError
        On a negative or non-finite spread, a bad budget, or ``levels < 2``.

    Notes
    -----
    With ``spread = 0`` this is plain CLEAR on a grid of grants (use
    :func:`clear_fast.allocate` instead: it solves the continuous problem exactly).
    Cost: O(n levels nodes) for the expectations, then O(n levels log(n levels)).
    """
    require_instance("curves", curves, SurgeCurves)
    total = as_budget(budget)
    spreads = as_float_array("spread", spread, len(curves), minimum=0.0)
    grants = candidate_grants(curves, spreads, levels=levels)
    values = expected_utility(curves, spreads, grants, nodes=nodes)
    if len(curves) == 0:
        empty = allocate_levels(np.zeros((0, grants.shape[1])), np.zeros((0, grants.shape[1])), total, rtol=rtol)
        return UncertainAllocation(np.zeros(0, np.int64), np.zeros(0), 0.0, 0.0, 0.0, total, empty)
    chosen = allocate_levels(grants.astype(np.float64), values, total, rtol=rtol)
    rows = np.arange(len(curves))
    funded = chosen.level >= 0
    tokens = np.where(funded, grants[rows, np.maximum(chosen.level, 0)], 0).astype(np.int64)
    per_query = np.where(funded, values[rows, np.maximum(chosen.level, 0)], 0.0)
    return UncertainAllocation(
        tokens=tokens,
        expected_utility=per_query,
        total_expected_utility=float(per_query.sum()),
        upper_bound=float(chosen.upper_bound),
        shadow_price=float(chosen.shadow_price),
        budget=total,
        levels=chosen,
        gap=chosen.gap,
        optimal=chosen.optimal,
        tolerance=chosen.tolerance,
        search=chosen.search,
    )
