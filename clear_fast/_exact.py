"""The exact step of :func:`clear_fast.allocate`: certify the clearing's answer, or search whole tokens.

The bound
---------
For any price ``lam >= 0`` and whole-token grants ``b`` with ``sum b <= B``::

    sum_i U_i(b_i) = lam B + sum_i s_i(b_i) - lam (B - sum b),   s_i(b) = U_i(b) - lam b,  s_i(0) = 0

so with ``S_i = max_b s_i(b)`` over the query's whole-token grants and 0, the
optimum is at most ``UB = lam B + sum_i S_i`` (the dual bound, over whole
tokens). More: an allocation worth more than ``UB - theta`` has
``sum_i (S_i - s_i(b_i)) < theta``, so *each* query's loss ``S_i - s_i(b_i)`` is
below ``theta``. Price-based pruning follows: for each query only the grants
whose loss is below ``theta`` can appear in such an allocation; a query whose
every non-zero grant loses ``theta`` or more stays abandoned, and one with
``S_i >= theta`` (leaving it out loses too much) must be funded.

The step
--------
1. The market clearing's answer (value ``V``) and its price. If ``UB - V`` is
   within the tolerance ``max(rtol * V, lam)`` (one token at the margin is worth
   ``lam``), the answer is certified: at a large batch this is all that runs.
2. Otherwise a better starting answer is tried (the best single query given
   the whole budget, where clearing fails on scarce budgets), each query's
   least loss is computed (vectorised, O(n), after a cheaper bound has set
   most of a large batch aside), and the queries whose least loss is below
   ``UB - V - tolerance`` go to the kernel's ``token_search``
   (clear_fast/_reference/exact_search.py has its mathematics): rounds of
   exact dynamic programming over whole tokens, each restricted to the grants
   whose loss is below its threshold. After a round with threshold ``theta``
   the optimum is at most ``max(best found, UB - theta)``; the thresholds grow
   until that meets the tolerance.
3. The work is capped (:data:`WORK_CAP` cells, one grant tried against one budget
   state), and the memory (the kernel's ``MAX_STATES`` table states kept to read
   an answer back): at either cap the best answer so far is returned with the
   bound the completed rounds proved, and ``optimal`` is False.

The surge declines past its peak, so grants beyond a query's best whole-token
grant are never needed (fewer tokens, more utility); the cumulative curve is
convex then concave in tokens, and grants on both sides are candidates: the
grant size is searched, not just who is funded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import _kernel
from ._rounding import best_single, spend_leftover
from .curves import SurgeCurves
from .pricing import integer_bounds, utility_of, whole_peak

#: most cells (one option tried against one budget state) the search may use in all its rounds
WORK_CAP = 1 << 26
SEARCH_SKIPPED = "not needed"
SEARCH_DONE = "completed"
SEARCH_CAPPED = "stopped at the work cap"


def tolerance(rtol: float, achieved: float, price: float) -> float:
    """``max(rtol * achieved, price)``: what counts as optimal (``achieved`` is a lower bound on the optimum)."""
    return max(rtol * max(achieved, 0.0), price)


def closes(upper: float, achieved: float, tol: float) -> bool:
    """Whether the certified gap is within the tolerance (with room for float rounding of the bound)."""
    return upper - achieved <= tol + 1e-12 * abs(upper)


@dataclass(frozen=True)
class Settled:
    """What the exact step decided (fields as in :class:`clear_fast.Allocation`)."""

    tokens: NDArray[np.int64]
    utility: float
    upper_bound: float
    optimal: bool
    search: str
    tolerance: float
    #: each query's least loss of funding at the price (inf: never fundable); None if no search ran
    losses: NDArray[np.float64] | None = None
    #: the threshold the last completed round searched below
    threshold: float = 0.0
    #: the dual bound over whole tokens at the price, that the losses are measured from
    dual: float = 0.0


def least_loss_bound(curves: SurgeCurves, lower: NDArray[np.float64], price: float) -> NDArray[np.float64]:
    """A lower bound on each query's least loss ``S - max_b (U(b) - price b)``, from its parameters alone (O(n)).

    Below ``x*`` tokens past the threshold the curve lies under ``g(x)``: ``a x`` for the
    surge (its slope is at most ``a``), ``a x^2 / 2`` for the cumulative (its slope is at
    most ``a x``); ``g(x*)`` is the curve's ceiling ``U_max``. ``g(x) - price x`` is convex,
    so on ``[lower, tau + x*]`` the surplus is at most its value at an end, and beyond
    ``tau + x*`` at most ``U_max - price b``. So no grant's surplus exceeds
    ``max(min(g(lower - tau), U_max) - price lower, U_max - price max(lower, tau + x*))``;
    when that is negative the query is best left out and loses at least its opposite.
    """
    ceiling = curves.peak_value
    x = np.maximum(lower - curves.tau, 0.0)
    if curves.form == "surge":
        under, x_star = curves.scale * x, 1.0 / (curves.beta * math.e)
    else:
        under, x_star = 0.5 * curves.scale * x * x, math.sqrt(2.0) / curves.beta
    best = np.maximum(
        np.minimum(under, ceiling) - price * lower, ceiling - price * np.maximum(lower, curves.tau + x_star)
    )
    return np.maximum(-best, 0.0)


class _Queries:
    """The fundable queries' curves at one price, with their whole-token bounds and surplus peaks."""

    def __init__(self, curves: SurgeCurves, budget: int, price: float, reach: float) -> None:
        lower, upper = integer_bounds(curves)
        upper = np.minimum(upper, float(budget))
        self.least_loss_bound = least_loss_bound(curves, lower, price)
        self.fits = (lower <= upper) & (curves.scale > 0)  # fundable within this budget at all
        # a query that loses `reach` or more even by this bound is never part of an answer worth looking for
        ids = np.flatnonzero(self.fits & (self.least_loss_bound < reach))
        self.ids, self.curves, self.price, self.form = ids, curves, price, curves.form_code
        self.tau = np.ascontiguousarray(curves.tau[ids])
        self.scale = np.ascontiguousarray(curves.scale[ids])
        self.beta = np.ascontiguousarray(curves.beta[ids])
        self.lower = lower[ids]
        # grants past the surge's whole-token peak buy less for more: the domain stops there
        self.top = np.minimum(whole_peak(curves, ids), upper[ids])
        self.low_turn, self.high_turn = self._turning_points()
        probes = [self.lower, np.floor(self.high_turn), np.ceil(self.high_turn)]
        probes = [np.clip(p, self.lower, self.top) for p in probes]
        surpluses = [self.surplus(p) for p in probes]
        self.best_funded = np.max(surpluses, axis=0)  # the best surplus of any non-zero grant
        self.peak = np.maximum(self.best_funded, 0.0)  # S_i

    def value(self, grants: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty(grants.shape[0])
        _kernel.kernel.utility(self.form, self.tau, self.scale, self.beta, np.ascontiguousarray(grants), out)
        return out

    def surplus(self, grants: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.value(grants) - self.price * grants

    def _turning_points(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Where ``s(b) = U(b) - price b`` turns, clipped to ``[lower, top]``: it falls, rises, falls.

        Surge: ``U' = a (1 - beta x) e^(-beta x)`` falls from ``a``, so ``s`` rises until
        ``U' = price`` at ``x = (1 - W0(e price / a)) / beta`` and falls after. Cumulative:
        ``U' = a x e^(-beta x)`` rises then falls, so ``s`` falls to a minimum at the
        convex-side root ``x = -W0(-price beta / a) / beta``, rises to a maximum at the
        concave-side root ``x = -W_{-1}(-price beta / a) / beta``, and falls after.
        """
        n = self.ids.shape[0]
        lam = self.price
        if self.form == 0:
            w = np.zeros(n)
            rising = lam < self.scale
            if lam > 0:
                with np.errstate(over="ignore"):  # a tiny scale: the query's surplus only falls, the value is unused
                    z = np.minimum(math.e * lam / self.scale, math.e)
                _kernel.kernel.lambert_w(np.ascontiguousarray(z), 0, w)
            high = np.where(rising, self.tau + (1.0 - w) / self.beta, self.lower)
            low = self.lower
        else:
            with np.errstate(over="ignore"):  # a tiny scale: no turning point, the surplus only falls
                z = -lam * self.beta / self.scale
            turns = z > -math.exp(-1.0)
            z = np.ascontiguousarray(np.where(turns, z, -0.25))
            w0, wm1 = np.empty(n), np.empty(n)
            _kernel.kernel.lambert_w(z, 0, w0)
            _kernel.kernel.lambert_w(z, -1, wm1)
            low = np.where(turns, self.tau - w0 / self.beta, self.top)
            high = np.where(turns, self.tau - wm1 / self.beta, self.top)
        low = np.clip(low, self.lower, self.top)
        return low, np.clip(high, low, self.top)

    def order(self, rows: NDArray[np.intp]) -> NDArray[np.intp]:
        """``rows`` in a canonical order (by the queries' data, not their positions): ties only between equal queries."""
        c, i = self.curves, self.ids[rows]
        return rows[np.lexsort((c.max_tokens[i], c.min_tokens[i], c.beta[i], c.scale[i], c.tau[i]))]


def _single_query(curves: SurgeCurves, budget: int, ids: NDArray[np.intp]) -> NDArray[np.int64]:
    """The best answer that funds one query: each query's best grant within the budget, the best of them.

    Only the queries at ``ids`` are tried: the others lose too much against the bound to beat the answer in hand.
    """
    tokens = np.zeros(len(curves), dtype=np.int64)
    best, grant, value = best_single(curves, budget, ids)
    if value > 0:
        tokens[best] = grant
    return tokens


def _total(curves: SurgeCurves, tokens: NDArray[np.int64]) -> float:
    funded = np.flatnonzero(tokens)
    return float(utility_of(curves, funded, tokens[funded].astype(np.float64)).sum())


def settle(
    curves: SurgeCurves,
    budget: int,
    tokens: NDArray[np.int64],
    achieved: float,
    price: float,
    bound: float,
    rtol: float,
    max_cells: float | None = None,
) -> Settled:
    """Certify ``tokens`` (worth ``achieved``; ``bound`` from the dual at ``price``) or search for better.

    Returns the answer with its proven upper bound; ``optimal`` says whether
    the gap is within ``max(rtol * utility, price)``.
    """
    tol = tolerance(rtol, achieved, price)
    if closes(bound, achieved, tol):
        return Settled(tokens, achieved, bound, True, SEARCH_SKIPPED, tol)

    queries = _Queries(curves, budget, price, bound - achieved)
    upper = price * budget + float(queries.peak.sum())  # the dual bound over whole tokens
    if closes(upper, achieved, tolerance(rtol, achieved, price)):
        return Settled(tokens, achieved, min(bound, max(upper, achieved)), True, SEARCH_SKIPPED,
                       tolerance(rtol, achieved, price))
    alone = _single_query(curves, budget, queries.ids)
    if _total(curves, alone) > achieved:  # the leftover is handed out only when this answer is kept
        tokens = spend_leftover(curves, alone, budget)
        achieved = _total(curves, tokens)
    least_loss = queries.peak - queries.best_funded
    losses = np.where(queries.fits, queries.least_loss_bound, math.inf)
    losses[queries.ids] = least_loss
    # no round searches past this threshold: the rest can never be funded in a better answer
    widest = upper - achieved - tolerance(rtol, achieved, price)
    rows = queries.order(np.flatnonzero(least_loss < widest + 1e-10 * abs(upper)))
    grants = np.zeros(rows.shape[0])
    code, value, proven, threshold, _ = _kernel.kernel.token_search(
        queries.form, queries.tau[rows], queries.scale[rows], queries.beta[rows], queries.lower[rows],
        queries.top[rows], queries.low_turn[rows], queries.high_turn[rows], queries.peak[rows],
        float(budget), price, upper, achieved, rtol, float(WORK_CAP if max_cells is None else max_cells), grants,
    )
    if value > achieved:
        better = np.zeros(len(curves), dtype=np.int64)
        better[queries.ids[rows]] = grants.astype(np.int64)
        tokens = spend_leftover(curves, better, budget)
        achieved = _total(curves, tokens)
    proven = min(bound, max(proven, achieved))
    tol = tolerance(rtol, achieved, price)
    status = SEARCH_CAPPED if code == _kernel.kernel.SearchStatus.CAPPED else SEARCH_DONE
    return Settled(tokens, achieved, proven, closes(proven, achieved, tol), status, tol, losses, threshold, upper)
