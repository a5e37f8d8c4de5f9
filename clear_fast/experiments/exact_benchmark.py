"""The exact step's benchmark: small scarce batches, the adversarial regime, and what the certificate costs at scale.

In one process on one machine, on the solver benchmark's curves
(:func:`clear_fast.experiments.solver_benchmark.make_curves`, per-query parameters):

* small scarce batches: 10, 30 and 100 queries at 30-150 tokens per query, both
  forms, ``seeds`` instances each; the median and the worst time of
  ``allocate`` (each instance timed as the median of ``repeats`` calls), beside
  the market clearing alone: ``allocate`` with a tolerance so wide that the
  clearing's own answer always stands, which is what ``allocate`` returned before
  the exact step; and how often a search ran and the answer was proven optimal;
* the adversarial regime: a million queries and a budget of one or five times
  the median threshold, so a handful are funded, at the default tolerance and
  at ``rtol=0``: the time, and whether the answer is proven optimal or with what gap;
* scale: a million queries at 300 tokens per query, ``allocate`` beside the
  clearing alone: what certifying the answer adds.

Times are CPU seconds of the calling thread (the machine may be shared); what
carries over to another machine are the ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .solver_benchmark import BUDGET_PER_QUERY, CASES, cpu_seconds, make_curves, median_seconds

#: a tolerance so wide that the clearing's answer always stands: allocate as it was before the exact step
CLEARING_ONLY = 1e9
SCARCE_SIZES = (10, 30, 100)
SCARCE_BUDGETS = (30, 60, 100, 150)
FORMS = ("surge", "cumulative")


@dataclass(frozen=True)
class ScarceRow:
    """Small batches on a scarce budget: ``seeds`` instances of one size and budget per query."""

    form: str
    n: int
    per_query: int
    instances: int
    median_ms: float
    worst_ms: float
    clearing_median_ms: float
    clearing_worst_ms: float
    searched_share: float
    optimal_share: float
    #: how much utility the exact step adds over the clearing alone (median of the ratios)
    utility_over_clearing: float
    #: the least share of the exact step's utility the clearing alone reached
    clearing_worst_share: float


@dataclass(frozen=True)
class AdversarialRow:
    """A million queries, a budget that funds a handful."""

    form: str
    parameters: str
    n: int
    budget: int
    rtol: float
    seconds: float
    funded: int
    optimal: bool
    search: str
    gap_percent: float


@dataclass(frozen=True)
class ScaleRow:
    """``allocate`` beside the clearing alone at scale."""

    form: str
    parameters: str
    n: int
    allocate_s: float
    clearing_s: float
    allocate_over_clearing: float
    search: str


def _timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median CPU time of ``repeats`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        started = cpu_seconds()
        result = call()
        times.append(cpu_seconds() - started)
    return statistics.median(times), result


def scarce_batches(
    sizes: Sequence[int] = SCARCE_SIZES,
    budgets: Sequence[int] = SCARCE_BUDGETS,
    seeds: int = 20,
    repeats: int = 3,
    progress: Callable[[ScarceRow], None] | None = None,
) -> list[ScarceRow]:
    """Time ``allocate`` and the clearing alone on small batches with scarce budgets."""
    import clear_fast as cf

    rows = []
    for form in FORMS:
        for n in sizes:
            for per_query in budgets:
                ours, clearing, searched, optimal, gains = [], [], 0, 0, []
                for seed in range(seeds):
                    curves = make_curves(form, "per-query", n, seed=seed)
                    budget = per_query * n
                    seconds, result = _timed(lambda: cf.allocate(curves, budget), repeats)
                    before_seconds, before = _timed(lambda: cf.allocate(curves, budget, rtol=CLEARING_ONLY), repeats)
                    ours.append(seconds)
                    clearing.append(before_seconds)
                    searched += result.search != "not needed"
                    optimal += result.optimal
                    gains.append(before.utility / result.utility if result.utility > 0 else 1.0)
                row = ScarceRow(
                    form=form, n=n, per_query=per_query, instances=seeds,
                    median_ms=1e3 * statistics.median(ours), worst_ms=1e3 * max(ours),
                    clearing_median_ms=1e3 * statistics.median(clearing), clearing_worst_ms=1e3 * max(clearing),
                    searched_share=searched / seeds, optimal_share=optimal / seeds,
                    utility_over_clearing=float(np.median([1.0 / g if g > 0 else np.inf for g in gains])),
                    clearing_worst_share=float(min(gains)),
                )
                rows.append(row)
                if progress:
                    progress(row)
    return rows


def adversarial(
    n: int = 1_000_000,
    multiples: Sequence[float] = (1.0, 5.0),
    rtols: Sequence[float] = (1e-3, 0.0),
    progress: Callable[[AdversarialRow], None] | None = None,
) -> list[AdversarialRow]:
    """Budgets of a few median thresholds for ``n`` queries, at each tolerance: time and what is proven."""
    import clear_fast as cf

    rows = []
    for form, parameters in CASES:
        curves = make_curves(form, parameters, n)
        for multiple in multiples:
            budget = int(multiple * float(np.median(curves.tau)))
            for rtol in rtols:
                cf.allocate(curves.subset(np.arange(min(n, 100))), budget)  # warm-up
                seconds, result = _timed(lambda: cf.allocate(curves, budget, rtol=rtol), 1)
                row = AdversarialRow(
                    form=form, parameters=parameters, n=n, budget=budget, rtol=rtol, seconds=seconds,
                    funded=int(result.funded.sum()), optimal=bool(result.optimal), search=result.search,
                    gap_percent=100.0 * result.gap / result.upper_bound if result.upper_bound else 0.0,
                )
                rows.append(row)
                if progress:
                    progress(row)
    return rows


def certificate_cost(n: int = 1_000_000, repeats: int = 7, progress: Callable[[ScaleRow], None] | None = None
                     ) -> list[ScaleRow]:
    """``allocate`` against the clearing alone at ``n`` queries and 300 tokens per query, calls interleaved."""
    import clear_fast as cf

    rows = []
    for form, parameters in CASES:
        curves = make_curves(form, parameters, n)
        budget = BUDGET_PER_QUERY * n
        result = cf.allocate(curves, budget)  # warm-up
        ours, clearing = [], []
        for _ in range(repeats):  # interleaved, so a drift of the machine's speed hits both
            ours.append(median_seconds(lambda: cf.allocate(curves, budget), 1))
            clearing.append(median_seconds(lambda: cf.allocate(curves, budget, rtol=CLEARING_ONLY), 1))
        row = ScaleRow(
            form=form, parameters=parameters, n=n, allocate_s=statistics.median(ours),
            clearing_s=statistics.median(clearing),
            allocate_over_clearing=statistics.median(a / b for a, b in zip(ours, clearing)), search=result.search,
        )
        rows.append(row)
        if progress:
            progress(row)
    return rows


def as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows as plain values for JSON."""
    return [asdict(row) for row in rows]
