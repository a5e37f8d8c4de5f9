"""Random instances split into partitions, the plain-list engine, and the grants read back."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast.distributed import PartitionedAllocation


def split(curves: cf.SurgeCurves, cuts: list[int]) -> list[cf.SurgeCurves]:
    """The curves in partitions ending at ``cuts`` (positions, any order, repeats give empty partitions)."""
    bounds = [0, *sorted(min(c, len(curves)) for c in cuts), len(curves)]
    return [curves.subset(np.arange(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]


def list_engine(parts: list[cf.SurgeCurves]):
    """The reference engine: every partition in turn, in this process."""
    return lambda fn: [fn(k, c) for k, c in enumerate(parts)]


def grants_of(answer: PartitionedAllocation, parts: list[cf.SurgeCurves]) -> np.ndarray:
    offsets = np.cumsum([0, *(len(p) for p in parts)])[:-1]
    return np.concatenate([answer.grants_of(p, int(o)) for p, o in zip(parts, offsets)] or [np.zeros(0, np.int64)])


@st.composite
def instances(draw, max_n: int = 60):
    """Curves of both forms, shared or per-query parameters, weights, bounds; a budget; partition cuts."""
    n = draw(st.integers(0, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    form = draw(st.sampled_from(["surge", "cumulative"]))
    shared = draw(st.booleans())
    if shared:
        tau = np.round(rng.uniform(0, 120, n), draw(st.sampled_from([0, 1, 6])))  # rounded: equal thresholds
        curves = cf.SurgeCurves.from_peak(tau, draw(st.floats(0.2, 1.0)), draw(st.floats(10, 80)), form=form)
    else:
        weights, bounds = draw(st.booleans()), draw(st.booleans())
        tau = rng.uniform(0, 120, n)
        width = rng.uniform(10, 80, n)
        peak = rng.uniform(0.2, 1.0, n)
        if draw(st.booleans()):  # repeated queries: equal gains and break-even prices
            pick = rng.integers(0, max(1, n // 3), n)
            tau, width, peak = tau[pick], width[pick], peak[pick]
        weight = rng.choice([0.5, 1.0, 2.0], n) if weights else None
        max_tokens = min_tokens = None
        if bounds:
            max_tokens = np.where(rng.random(n) < 0.3, np.round(rng.uniform(40, 300, n)), np.inf)
            min_tokens = np.minimum(np.where(rng.random(n) < 0.3, rng.uniform(0, 150, n), 0.0), max_tokens)
        curves = cf.SurgeCurves.from_peak(tau, peak, width, weight=weight, min_tokens=min_tokens,
                                          max_tokens=max_tokens, form=form)
    everybody = int(np.ceil(np.where(np.isfinite(curves.peak_tokens), curves.peak_tokens, 2000.0).sum())) + 1
    budget = draw(st.one_of(
        st.just(0),
        st.integers(1, 200),  # funds almost nobody
        st.integers(0, max(1, everybody)),
        st.just(everybody),  # funds everybody (at their peak, or 2000 tokens each for an uncapped cumulative)
    ))
    cuts = draw(st.lists(st.integers(0, n), max_size=6))
    return curves, budget, cuts
