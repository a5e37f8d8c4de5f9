"""``allocate_partitioned``: ``allocate`` over a partitioned dataset, in rounds of small messages.

The driver follows ``allocate`` step for step and keeps only scalars and the
few queries a step has to look at one by one:

1. a summary round (sizes, break-even prices, demand at price 0, a sample);
2. the market clearing (:mod:`.clearing`): price, funded queries, dual bound;
3. the fill: grants rounded down, then the leftover tokens to the largest
   gains of one more token (:mod:`.rounds`), as many passes as it takes;
4. the certificate: the dual bound against the utility; where it does not
   close, the exact step of ``allocate`` (``clear_fast._exact``): the best single
   query, then the whole-token search over the queries the bound cannot rule
   out, gathered to the driver;
5. a last round in which each partition replays the recipe for its grants.

When every query shares its parameters and has no bounds, ``allocate`` solves
by one sort of the thresholds; the driver gathers that one column and runs
``allocate`` itself (8 bytes a query).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .. import _kernel
from .._checks import as_budget, as_nonnegative_number, require_number
from .._exact import SEARCH_CAPPED, SEARCH_DONE, SEARCH_SKIPPED, WORK_CAP, closes, tolerance
from .._kernel import ClearingKind
from ..allocate import CLEARINGS, allocate
from ..curves import SurgeCurves
from . import partition_ops as ops
from .._rounding import round_grants
from .clearing import Clearing, clear
from .plan import Assign, Step
from .rounds import Engine, Rounds, gathered, rows_as_curves, select_pass, spend_leftover


@dataclass(frozen=True)
class PartitionedAllocation:
    """The answer of :func:`allocate_partitioned`: everything of :class:`clear_fast.Allocation` but the grants.

    The grants stay with the partitions: :meth:`grants_of` gives a partition's
    (``steps`` is the recipe each partition replays). ``rounds`` counts the
    engine's map calls, the last one (the grants) included when it ran.
    """

    shadow_price: float
    utility: float
    upper_bound: float
    gap: float
    optimal: bool
    tolerance: float
    search: str
    budget: int
    spent: int
    clearing: str
    marginal: int
    n: int
    rounds: int
    steps: list[Step] = field(repr=False)
    #: global position of each partition's first query
    offsets: tuple[int, ...] = field(default=(), repr=False)
    shared_tokens: NDArray[np.int64] | None = field(default=None, repr=False)

    def grants_of(self, curves: SurgeCurves, offset: int) -> NDArray[np.int64]:
        """Whole-token grants of the partition whose first query has global position ``offset``."""
        if self.shared_tokens is not None:
            return self.shared_tokens[offset : offset + len(curves)]
        return ops.grants(ops.Part(curves, offset), self.steps)


def allocate_partitioned(engine: Engine, budget: int, *, rtol: float = 1e-3) -> PartitionedAllocation:
    """Split a token budget across the queries of every partition, exactly as :func:`clear_fast.allocate` would.

    Parameters
    ----------
    engine : callable
        ``engine(fn) -> list``: calls ``fn(position, curves)`` on each partition
        (its place in the dataset and its queries as :class:`clear_fast.SurgeCurves`, all of one form) and
        returns the results in partition order. ``lambda fn: [fn(k, c) for k, c in enumerate(parts)]``
        is one; :func:`allocate_ray` and :func:`allocate_dask` build theirs on Ray and Dask.
    budget : int
        Total tokens (a whole number >= 0).
    rtol : float
        As in :func:`clear_fast.allocate`.

    Returns
    -------
    PartitionedAllocation
        The price, utility, certificate and round count; the grants, equal to
        ``allocate(concatenated curves, budget).tokens``, come from its
        :meth:`~PartitionedAllocation.grants_of` on each partition.

    Raises
    ------
    TypeError, ValueError
        On a bad ``budget`` or ``rtol`` (as :func:`clear_fast.allocate`), or partitions of different forms.
    """
    if not callable(engine):
        raise TypeError(f"`engine` must be a callable engine(fn) -> list over the partitions, got {engine!r}")
    budget = as_budget(budget)
    rtol = as_nonnegative_number("rtol", require_number("rtol", rtol))
    rounds = Rounds(engine)
    summaries = rounds.run(ops.summary)
    forms = {s["form"] for s in summaries if s["n"]}
    if len(forms) > 1:
        raise ValueError(f"every partition must have curves of one form, got {sorted(forms)}")
    form = forms.pop() if forms else "surge"
    sizes = [s["n"] for s in summaries]
    rounds.offsets = [int(x) for x in np.concatenate(([0], np.cumsum(sizes)[:-1]))] if sizes else []
    n = int(sum(sizes))
    if n == 0:
        return _answer(rounds, budget, 0, [], 0.0, ClearingKind.AMPLE, -1, 0.0, 0.0, rtol)
    shared = {s["shared"] for s in summaries if s["n"]}
    if budget > 0 and len(shared) == 1 and None not in shared and next(iter(shared))[0] > 0:
        return _shared(rounds, budget, form, shared.pop(), n, rtol)
    if budget == 0:
        price = max(s["max_breakeven"] for s in summaries)
        return _answer(rounds, budget, n, [Assign(reset=True)], price, ClearingKind.AMPLE, -1, 0.0, 0.0, rtol)

    clearing = clear(rounds, summaries, budget, form)
    steps: list[Step] = [clearing.fill]
    filled = _sum_dicts(rounds.run(ops.filled, steps))
    bound = clearing.bound if clearing.bound is not None else clearing.price * budget + filled["surplus"]
    achieved, leftover = filled["value"], budget - filled["spent"]
    if leftover < 0:  # float tolerance overspent: the single-machine rounding on the funded queries, gathered
        steps, achieved = _round_gathered(rounds, steps, budget, form)
    elif leftover > 0:
        step, given = select_pass(rounds, steps, leftover)
        steps.append(step)
        achieved += sum(rounds.run(ops.pass_gains, steps))
        leftover -= given
        if leftover > 0:
            steps, achieved = _finish_leftover(rounds, steps, leftover, achieved, form)
    bound = max(float(bound), achieved)
    return _settle(rounds, budget, n, steps, achieved, clearing, bound, rtol, form)


def _sum_dicts(found: list[dict]) -> dict:
    return {key: sum(f[key] for f in found) for key in found[0]}


def _finish_leftover(rounds: Rounds, steps: list[Step], leftover: int, achieved: float, form: str) -> tuple[list[Step], float]:
    """``finish_leftover``: the leftover passes and abandoned queries; the utility recomputed if they changed grants."""
    before = len(steps)
    steps, _ = spend_leftover(rounds, steps, leftover, form)
    if len(steps) > before + 1:  # more than the ActivateFunded marker: grants changed
        achieved = sum(v for v, _ in rounds.run(ops.total_utility, steps))
    return steps, achieved


def _round_gathered(rounds: Rounds, steps: list[Step], budget: int, form: str) -> tuple[list[Step], float]:
    """``round_market_grants`` when flooring overspent: the general rounding on the gathered funded queries."""
    rows = gathered(rounds.run(ops.funded_rows, steps))
    curves = rows_as_curves(rows, form)
    tokens = round_grants(curves, rows["continuous"], budget)
    values = np.empty(len(curves))
    _kernel.kernel.utility(curves.form_code, curves.tau, curves.scale, curves.beta, tokens.astype(np.float64), values)
    steps = [*steps, Assign(rows["index"], tokens, reset=True)]
    spent = int(tokens.sum())
    if spent < budget:
        return _finish_leftover(rounds, steps, budget - spent, float(values.sum()), form)
    return steps, float(values.sum())


def _settle(rounds: Rounds, budget: int, n: int, steps: list[Step], achieved: float, clearing: Clearing,
            bound: float, rtol: float, form: str) -> PartitionedAllocation:
    """``clear_fast._exact.settle`` over the partitions."""
    price = float(clearing.price)
    args = (clearing.kind, clearing.marginal)
    if closes(bound, achieved, tolerance(rtol, achieved, price)):
        return _answer(rounds, budget, n, steps, price, *args, achieved, bound, rtol)
    reach = bound - achieved
    views = rounds.run(ops.least_losses, steps, budget, price, reach)
    upper = price * budget + sum(v["peak"] for v in views)
    if closes(upper, achieved, tolerance(rtol, achieved, price)):
        return _answer(rounds, budget, n, steps, price, *args, achieved, min(bound, max(upper, achieved)), rtol)
    value, index, grant = max((v["single"] for v in views), key=lambda s: (s[0], -s[1]))
    if index >= 0 and value > 0 and value > achieved:  # the best single query beats the clearing's answer
        steps = [*steps, Assign(np.array([index]), np.array([grant]), reset=True)]
        achieved = value
        if grant < budget:
            steps, achieved = _finish_leftover(rounds, steps, budget - grant, value, form)
    widest = upper - achieved - tolerance(rtol, achieved, price)
    rows = gathered(rounds.run(ops.search_rows, budget, price, reach, widest + 1e-10 * abs(upper)))
    order = np.lexsort((rows["index"], rows["key_max"], rows["key_min"], rows["key_beta"], rows["key_scale"],
                        rows["key_tau"]))
    grants = np.zeros(order.shape[0])
    code, found, proven, _, _ = _kernel.kernel.token_search(
        0 if form == "surge" else 1,
        *(np.ascontiguousarray(rows[k][order]) for k in
          ("tau", "scale", "beta", "lower", "top", "low_turn", "high_turn", "peak")),
        float(budget), price, upper, achieved, rtol, float(WORK_CAP), grants,
    )
    if found > achieved:
        picked = grants > 0
        steps = [*steps, Assign(rows["index"][order][picked], grants[picked].astype(np.int64), reset=True)]
        spent = int(grants.sum())
        if spent < budget:
            steps, _ = spend_leftover(rounds, steps, budget - spent, form)
        achieved = sum(v for v, _ in rounds.run(ops.total_utility, steps))
    proven = min(bound, max(proven, achieved))
    status = SEARCH_CAPPED if code == _kernel.kernel.SearchStatus.CAPPED else SEARCH_DONE
    return _answer(rounds, budget, n, steps, price, *args, achieved, proven, rtol, search=status)


def _shared(rounds: Rounds, budget: int, form: str, params: tuple[float, float], n: int, rtol: float) -> PartitionedAllocation:
    """Shared parameters: gather the thresholds and run ``allocate``'s sort-and-scan on the driver."""
    scale, beta = params
    tau = np.concatenate(rounds.run(ops.tau_column))
    answer = allocate(SurgeCurves(tau, scale, beta, form=form), budget, rtol=rtol)
    return PartitionedAllocation(
        shadow_price=answer.shadow_price, utility=answer.utility, upper_bound=answer.upper_bound, gap=answer.gap,
        optimal=answer.optimal, tolerance=answer.tolerance, search=answer.search, budget=budget, spent=answer.spent,
        clearing=answer.clearing, marginal=answer.marginal, n=n, rounds=rounds.count, steps=[],
        offsets=tuple(rounds.offsets),
        shared_tokens=answer.tokens,
    )


def _answer(rounds: Rounds, budget: int, n: int, steps: list[Step], price: float, kind: ClearingKind, marginal: int,
            achieved: float, bound: float, rtol: float, search: str = SEARCH_SKIPPED) -> PartitionedAllocation:
    tol = tolerance(rtol, achieved, price)
    spent = sum(t for _, t in rounds.run(ops.total_utility, steps)) if steps else 0
    return PartitionedAllocation(
        shadow_price=float(price), utility=achieved, upper_bound=bound, gap=bound - achieved,
        optimal=closes(bound, achieved, tol), tolerance=tol, search=search, budget=budget, spent=int(spent),
        clearing=CLEARINGS[kind], marginal=marginal, n=n, rounds=rounds.count, steps=steps,
        offsets=tuple(rounds.offsets),
    )
