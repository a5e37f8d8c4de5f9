"""Streams of queries over a period, and a runner that feeds them to a pacer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import clear_fast as cf
from clear_fast.runtime import Pacer
from clear_fast.workloads import make_stream

PERIOD = 3600.0


def joined(*parts: cf.SurgeCurves) -> cf.SurgeCurves:
    """One SurgeCurves of several, in order (traffic whose mix shifts at each join)."""
    column = lambda name: np.concatenate([getattr(part, name) for part in parts])  # noqa: E731
    return cf.SurgeCurves(column("tau"), column("alpha"), column("beta"), weight=column("weight"), form=parts[0].form)


def shifting(first: str, second: str, n: int, seed: int) -> cf.SurgeCurves:
    """``n`` queries: the first half drawn from one stream shape, the second half from another."""
    return joined(make_stream(first, n // 2, seed=seed).curves, make_stream(second, n - n // 2, seed=seed + 1).curves)


def arrival_times(n: int, seed: int) -> np.ndarray:
    """``n`` arrivals spread uniformly at random over the period, in order."""
    return np.sort(np.random.default_rng(seed).uniform(0.0, PERIOD, n))


def rising_arrival_times(n: int, seed: int) -> np.ndarray:
    """``n`` arrivals whose rate rises linearly through the period (a quarter of them in its first half)."""
    return np.sort(PERIOD * np.sqrt(np.random.default_rng(seed).uniform(0.0, 1.0, n)))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Run:
    caps: np.ndarray
    used: np.ndarray
    budget: int
    spent_at_half: int

    @property
    def spend_share(self) -> float:
        return float(self.used.sum()) / self.budget


def feed(curves: cf.SurgeCurves, per_query: float, *, sample: cf.SurgeCurves, seed: int = 0,
         usage_share: float = 1.0, burst: int = 1, times: np.ndarray | None = None, **options) -> Run:
    """Quote every query as it arrives and record its usage at once (``usage_share`` of its cap)."""
    n = len(curves)
    budget = int(per_query * n)
    times = arrival_times(n, seed) if times is None else times
    clock = Clock()
    pacer = Pacer(budget, PERIOD, sample=sample, expected_queries=n, clock=clock, **options)
    caps = np.zeros(n, dtype=np.int64)
    spent_at_half = -1
    for start in range(0, n, burst):
        group = np.arange(start, min(start + burst, n))
        clock.now = times[group[0]]
        if spent_at_half < 0 and clock.now >= PERIOD / 2:
            spent_at_half = int(np.floor(caps[:start] * usage_share).sum())
        caps[group] = pacer.quote(curves.subset(group)).tokens
        pacer.record(int(np.floor(caps[group] * usage_share).sum()))
    return Run(caps, np.floor(caps * usage_share).astype(np.int64), budget, spent_at_half)


def hindsight(curves: cf.SurgeCurves, budget: int) -> cf.Allocation:
    """The offline optimum: every query of the period known in advance."""
    return cf.allocate(curves, budget)


def accuracy(curves: cf.SurgeCurves, caps: np.ndarray) -> float:
    """Mean expected accuracy in percentage points (the curves are accuracy at a cap)."""
    return 100.0 * float(cf.utility(curves, caps).mean())
