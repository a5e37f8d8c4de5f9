"""``allocate``: one budget of tokens, many queries, one shadow price.

The layering: this module validates, picks the exact shared-parameter path or
the general market-clearing path of the kernel, rounds to whole tokens and
assembles an :class:`Allocation` with its optimality certificate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from . import _kernel
from ._checks import as_budget, as_nonnegative_number, require_instance, require_number
from ._exact import SEARCH_DONE, SEARCH_SKIPPED, settle
from ._grant_views import GrantViews
from ._kernel import ClearingKind
from ._rounding import finish_leftover, round_grants, round_market_grants
from .curves import SurgeCurves
from .pricing import _breakeven

#: how the market cleared (``Allocation.clearing``)
CLEARINGS = {
    ClearingKind.AMPLE: "ample",
    ClearingKind.CONTINUOUS: "continuous",
    ClearingKind.JUMP_OUT: "jump, marginal query left out",
    ClearingKind.JUMP_IN: "jump, marginal query funded",
}


@dataclass(frozen=True, eq=False)
class Allocation(GrantViews):
    """The answer of :func:`allocate`.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n,)
        Grant per query; 0 means abandoned (never send it to the model).
    funded, abandoned : ndarray of bool, shape (n,)
        Queries with a grant, and without one (``tokens > 0`` and ``tokens == 0``).
    spent : int
        Tokens granted in total (``<= budget``).
    shadow_price : float
        The price per token that clears the market: the minimiser of the dual
        function. 0 when the budget covers every query's best grant.
    utility : float
        ``sum_i w_i U_i(tokens_i)`` of the whole-token grants.
    upper_bound : float
        A proven bound: no allocation of this budget does better. The dual bound
        ``lambda B + sum_i max(0, max_b w_i U_i(b) - lambda b)`` at the shadow
        price, lowered by the whole-token search when one ran.
    gap : float
        ``upper_bound - utility`` (>= 0): how far from optimal this answer can be.
    optimal : bool
        True when ``gap <= tolerance``: the answer is proven optimal within the tolerance.
    tolerance : float
        ``max(rtol * utility, shadow_price)``: a relative tolerance, or one token's
        value at the margin, whichever is larger.
    search : str
        The whole-token search: "not needed" (the dual bound certified the
        clearing's answer), "completed", or "stopped at the work cap" (then
        ``optimal`` is False and ``gap`` is what was proven).
    breakeven : ndarray of float64, shape (n,)
        Each query's break-even price; a query is abandoned when it is below the
        shadow price (and the marginal query may lose a direct comparison).
    budget : int
    clearing : str
        How the market cleared: "ample", "continuous", or a jump with the marginal
        query left out or funded.
    marginal : int
        Index of the marginal query at a demand jump, else -1.
    """

    tokens: NDArray[np.int64]
    shadow_price: float
    utility: float
    upper_bound: float
    gap: float
    budget: int
    clearing: str
    marginal: int = -1
    optimal: bool = True
    tolerance: float = 0.0
    search: str = SEARCH_SKIPPED
    spent: int = field(init=False)
    _curves: SurgeCurves | None = field(default=None, repr=False)
    _breakeven: NDArray[np.float64] | None = field(default=None, repr=False)
    _losses: NDArray[np.float64] | None = field(default=None, repr=False)
    _threshold: float = field(default=0.0, repr=False)
    _dual: float = field(default=0.0, repr=False)

    @property
    def breakeven(self) -> NDArray[np.float64]:
        """Each query's break-even price (computed on first use where the solve did not need it)."""
        if self._breakeven is None:
            be = np.zeros(len(self)) if self._curves is None else _breakeven(self._curves)[0]
            object.__setattr__(self, "_breakeven", be)
        assert self._breakeven is not None
        return self._breakeven

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def why(self, index: int) -> str:
        """A sentence saying why query ``index`` got what it got."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"`index` {index} out of range for {n} queries")
        i = index % n
        be, lam = float(self.breakeven[i]), self.shadow_price
        searched = self._losses is not None
        if self.tokens[i] > 0:
            if be >= lam or not searched:
                return (
                    f"query {i}: funded with {int(self.tokens[i])} tokens (break-even price {be:.6g} "
                    f">= shadow price {lam:.6g})"
                )
            return (
                f"query {i}: funded with {int(self.tokens[i])} tokens: its break-even price {be:.6g} is below the "
                f"shadow price {lam:.6g}, but whole queries cannot be split at that price, and funding it was "
                "worth more"
            )
        if be <= 0.0:
            return f"query {i}: abandoned: it can never be funded (its cap is below its threshold, or it has no value)"
        if self.budget == 0:
            return f"query {i}: abandoned: the budget is 0"
        if searched:
            assert self._losses is not None
            loss = float(self._losses[i])
            if math.isinf(loss):
                return f"query {i}: abandoned: its smallest grant is more than the whole budget"
            if loss >= self._threshold and (self._threshold > 0 or self.search == SEARCH_DONE):
                return (
                    f"query {i}: abandoned: at the shadow price {lam:.6g} every grant to it gives up at least "
                    f"{loss:.6g} of the dual bound {self._dual:.6g}, so an allocation that funds it is worth at "
                    f"most {self._dual - loss:.6g} (this one: {self.utility:.6g})"
                )
            if self.search == SEARCH_DONE:
                return (
                    f"query {i}: abandoned by the whole-token search: the best of every allocation the bound "
                    "could not rule out leaves it out"
                )
            return (
                f"query {i}: abandoned: the whole-token search stopped at its work cap before settling it; "
                f"this answer is within {self.gap:.6g} of the optimum"
            )
        if i == self.marginal:
            return (
                f"query {i}: abandoned as the marginal query: at its break-even price {be:.6g} the demand "
                "jumps over the budget, and giving its tokens to the others was worth more than funding it"
            )
        if be > lam:
            return (
                f"query {i}: abandoned at the demand jump: its break-even price {be:.6g} is above the shadow "
                f"price {lam:.6g}, but whole-token rounding left no room for its minimum grant"
            )
        return (
            f"query {i}: abandoned: its break-even price {be:.6g} is below the shadow price {lam:.6g}, so "
            "every token it could use buys more elsewhere"
        )


def _empty(budget: int) -> Allocation:
    return Allocation(
        tokens=np.zeros(0, dtype=np.int64),
        shadow_price=0.0,
        utility=0.0,
        upper_bound=0.0,
        gap=0.0,
        budget=budget,
        clearing="ample",
    )


def allocate(curves: SurgeCurves, budget: int, *, rtol: float = 1e-3) -> Allocation:
    """Split a token budget across queries to maximise total (weighted) utility.

    Parameters
    ----------
    curves : SurgeCurves
        The ``n`` queries' utility curves.
    budget : int
        Total tokens (a whole number >= 0).
    rtol : float
        Relative tolerance of the optimality proof (>= 0). The answer is proven
        within ``max(rtol * utility, shadow_price)`` of the best whole-token
        allocation; ``rtol=0`` asks for the optimum to within one token's value.

    Returns
    -------
    Allocation
        Whole-token grants with ``sum(tokens) <= budget`` always, each 0 or within
        ``[ceil(max(tau, min_tokens)), floor(max_tokens)]``, with the shadow price,
        the achieved utility, a proven upper bound on the optimum, and whether
        the gap between them is within the tolerance (``optimal``).

    Raises
    ------
    TypeError
        If ``curves`` is not a SurgeCurves or ``budget`` or ``rtol`` is not a number.
    ValueError
        If ``budget`` is negative, not finite or not whole, or ``rtol`` is negative or not finite.

    Notes
    -----
    First the market clears. General path, O(n log n): break-even prices, one
    sort (with many queries, only of those near the price a sample clears at),
    regula falsi on market demand, the segment or jump that holds the budget
    found exactly among the last few positions, and at a jump an explicit
    comparison of funding the marginal query against giving its tokens to the
    others. Shared ``alpha``, ``beta``, ``weight`` and no bounds (the paper's
    case): the funded set is the ``k`` easiest queries with a common increment
    above their thresholds, found by one sort and one scan. Rounding to whole
    tokens gives leftovers to the largest marginal gains, in as many passes as
    it takes.

    Then the answer is certified: the dual bound at the shadow price is compared
    with the utility, one comparison that settles every large batch. When the
    gap is wider than the tolerance (small batches, scarce budgets: whole
    queries cannot be split at the price), a search over whole tokens finds the
    optimum among the grants the bound cannot rule out (see
    :mod:`clear_fast._exact`). Its work is capped; at the cap the best answer
    found is returned with the bound that was proven and ``optimal=False``.
    """
    curves = require_instance("curves", curves, SurgeCurves)
    budget = as_budget(budget)
    tolerance = as_nonnegative_number("rtol", require_number("rtol", rtol))
    n = len(curves)
    if n == 0:
        return _empty(budget)
    be: NDArray[np.float64] | None = None
    marginal = -1
    shared_path = budget > 0 and curves.is_shared and curves.scale[0] > 0

    if budget == 0:
        be = _breakeven(curves)[0]
        tokens = np.zeros(n, dtype=np.int64)
        price, clearing, bound, achieved = float(be.max()), ClearingKind.AMPLE, 0.0, 0.0
    elif shared_path:
        tokens, price, clearing, bound, achieved = _allocate_shared(curves, budget)
    else:
        be = _breakeven(curves)[0]
        continuous = np.zeros(n)
        clearing, price, position, bound, order = _clear_market(curves, be, budget, continuous)
        marginal = int(order[position]) if position >= 0 else -1
        del order
        tokens, achieved = round_market_grants(curves, continuous, budget)

    bound = max(float(bound), achieved)  # the dual bound is exact up to float rounding; never report a negative gap
    settled = settle(curves, budget, tokens, achieved, float(price), bound, tolerance)
    return Allocation(
        tokens=settled.tokens,
        shadow_price=float(price),
        utility=settled.utility,
        upper_bound=settled.upper_bound,
        gap=settled.upper_bound - settled.utility,
        budget=budget,
        clearing=CLEARINGS[clearing],
        marginal=marginal,
        optimal=settled.optimal,
        tolerance=settled.tolerance,
        search=settled.search,
        _curves=curves,
        _breakeven=be,
        _losses=settled.losses,
        _threshold=settled.threshold,
        _dual=settled.dual,
    )


def _allocate_shared(curves: SurgeCurves, budget: int) -> tuple[NDArray[np.int64], float, ClearingKind, float, float]:
    """The exact sort-and-scan solution when every query shares its parameters.

    The funded queries are the ``k`` easiest, so only the sorted threshold
    values are needed (sorting values is cheaper than sorting indices). The
    kernel then finds ``k``, the common increment and the dual certificate
    from the sorted values, and in one pass over the queries writes the funded
    grants (those below the ``k``-th threshold) with the gain of one more
    token each; the tokens flooring freed go to the largest gains.
    """
    form = curves.form_code
    a, beta = float(curves.scale[0]), float(curves.beta[0])
    tau_sorted = np.sort(curves.tau)
    k, x, price, bound = _kernel.kernel.shared_solve(form, tau_sorted, a, beta, float(budget))
    tokens = np.zeros(len(curves), dtype=np.int64)
    if k == 0:
        return tokens, float(price), _shared_clearing(price), float(bound), 0.0
    kth = float(tau_sorted[k - 1])
    ties = k - int(np.searchsorted(tau_sorted, kth, side="left"))  # equal thresholds: identical queries
    del tau_sorted
    funded = np.empty(k, dtype=np.int64)
    gains = np.empty(k)
    spent, value = _kernel.kernel.shared_grants(form, curves.tau, a, beta, x, kth, ties, tokens, funded, gains)
    spent = int(spent)
    if spent > budget:  # raising grants to ceil(tau) overspent: the general rounding takes tokens back
        tau = curves.tau[funded]
        rows = SurgeCurves._trusted(
            form=curves.form, tau=tau, alpha=np.full(k, curves.alpha[0]), beta=np.full(k, beta),
            weight=np.full(k, curves.weight[0]), min_tokens=np.zeros(k), max_tokens=np.full(k, np.inf),
        )
        grants = round_grants(rows, tau + x, budget, below_lower=True).astype(np.float64)
        tokens[funded] = grants
        spent = int(grants.sum())
        value = float(_kernel.kernel.shared_value(form, tau, a, beta, grants))
    else:  # the tokens flooring freed go to the largest gains, one each
        leftover = min(budget - spent, k)
        if leftover > 0:
            cut = float(np.partition(gains, k - leftover)[k - leftover])  # the leftover-th largest gain
            above = int(np.count_nonzero(gains > cut))
            given, added = _kernel.kernel.shared_hand_out(gains, funded, cut, leftover - above, tokens)
            spent += int(given)
            value += added
    if spent < budget:  # (k grants, not n) tokens are left: more passes, or another query funded
        tokens, value = finish_leftover(curves, tokens, budget, float(value))
    return tokens, float(price), _shared_clearing(price), float(bound), float(value)


def _shared_clearing(price: float) -> ClearingKind:
    """With shared parameters demand is continuous in the price: ample at price 0, else continuous."""
    return ClearingKind.AMPLE if price == 0.0 else ClearingKind.CONTINUOUS

#: below this many fundable queries one full sort is cheap enough
_SAMPLE_FROM = 1 << 16
_SAMPLE_SIZE = 1 << 14
#: relative half-width of the price bracket taken around the sample's price
_BRACKET = 0.03


def _clear_market(
    curves: SurgeCurves, be: NDArray[np.float64], budget: int, continuous: NDArray[np.float64]
) -> tuple[ClearingKind, float, int, float, NDArray[np.int64]]:
    """Run the kernel's market clearing; returns its result and the order it was given.

    With many queries the full sort by break-even price is most of the work, yet
    only the queries whose break-even price is near the clearing price need an
    order: those far above are funded, those far below abandoned. A sample
    (every k-th query, ~16k of them) cleared at the scaled budget gives a price;
    the kernel then gets the queries above a bracket around it, unordered, and
    those inside the bracket sorted. If the bracket misses the price (the kernel
    says so), the full sort is used.
    """
    form = curves.form_code
    arrays = (form, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens, be)
    fundable = np.flatnonzero(be > 0)
    if fundable.shape[0] >= _SAMPLE_FROM:
        sample = fundable[:: fundable.shape[0] // _SAMPLE_SIZE]
        # (only a price comes from the sample: the order of its ties does not matter, so the faster sort)
        sample = np.ascontiguousarray(sample[np.argsort(-be[sample])], dtype=np.int64)
        scaled = budget * sample.shape[0] / fundable.shape[0]
        kind, guess, _, _ = _kernel.kernel.clear_price(*arrays, sample, float(scaled), continuous)
        if kind != ClearingKind.AMPLE and guess > 0:
            lo_hint, hi_hint = guess * (1 - _BRACKET), guess * (1 + _BRACKET)
            above = np.flatnonzero(be > hi_hint)
            # the sorted part reaches a little below the bracket so the kernel finds its edge
            near = np.flatnonzero((be > lo_hint * (1 - _BRACKET)) & (be <= hi_hint))
            near = near[np.argsort(-be[near], kind="stable")]
            order = np.ascontiguousarray(np.concatenate((above, near)), dtype=np.int64)
            result = _kernel.kernel.clear_price(*arrays, order, float(budget), continuous, lo_hint, hi_hint)
            if result[0] != ClearingKind.BRACKET_MISSED:
                return (*result, order)
    order = np.argsort(-be, kind="stable")
    order = np.ascontiguousarray(order[: fundable.shape[0]], dtype=np.int64)
    return (*_kernel.kernel.clear_price(*arrays, order, float(budget), continuous), order)
