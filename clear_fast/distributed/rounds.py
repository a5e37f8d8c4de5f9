"""Rounds over the partitions: the engine's ``map``, counted, and the leftover passes built on it.

An engine is one callable, ``map(fn) -> list``: it calls ``fn(position, curves)``
on every partition (``position`` its place in the dataset's order,
``curves`` its queries as :class:`clear_fast.SurgeCurves`) and returns the results in
partition order. A plain list comprehension is an engine; so are Ray tasks
over a dataset's blocks and Dask tasks over a dataframe's partitions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._rounding import one_more_token_passes
from ..curves import SurgeCurves
from . import partition_ops as ops
from .plan import ActivateFunded, Assign, Pass, Step

Engine = Callable[[Callable[[int, SurgeCurves], Any]], Sequence[Any]]

#: queries the driver gathers at most to settle a cut or run passes itself
GATHER_LIMIT = 1 << 16


class Rounds:
    """The engine with the partitions' offsets, counting every round it runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.offsets: list[int] = []

    def run(self, op: Callable[..., Any], *args: Any) -> list[Any]:
        """``op(Part, *args)`` on every partition, in partition order (one round)."""
        self.count += 1
        results = list(self.engine(_Call(op, self.offsets, args)))
        if self.offsets and len(results) != len(self.offsets):
            raise RuntimeError(f"the engine returned {len(results)} results for {len(self.offsets)} partitions")
        return results


class _Call:
    """A picklable ``fn(position, curves)`` that wraps the partition and calls the building block."""

    def __init__(self, op: Callable[..., Any], offsets: list[int], args: tuple) -> None:
        self.op, self.offsets, self.args = op, offsets, args

    def __call__(self, position: int, curves: SurgeCurves) -> Any:
        offset = self.offsets[position] if self.offsets else 0
        return self.op(ops.Part(curves, offset, position), *self.args)


def pooled(results: list[dict], key: str) -> np.ndarray:
    """The arrays under ``key`` of every partition's rows, end to end."""
    return np.concatenate([r[key] for r in results])


def gathered(results: list[dict]) -> dict[str, np.ndarray]:
    """Rows from every partition as one table, in global order."""
    return {key: pooled(results, key) for key in results[0]}


def rows_as_curves(rows: dict[str, np.ndarray], form: str) -> SurgeCurves:
    return SurgeCurves._trusted(form=form, **{k: np.ascontiguousarray(rows[k], dtype=np.float64) for k in
                                              ("tau", "alpha", "beta", "weight", "min_tokens", "max_tokens")})


def select_pass(rounds: Rounds, steps: list[Step], leftover: int) -> tuple[Pass, int]:
    """The next leftover pass: one more token to the ``leftover`` largest positive gains (the first on ties).

    Returns the pass and how many tokens it hands out. Each partition's count
    and evenly spaced gains give cuts; counts above the cuts bracket the
    ``leftover``-th largest gain, ever more tightly, until the gains inside the
    bracket are few enough to gather and settle exactly (or it is one value
    shared by many queries, settled by their order).
    """
    summaries = rounds.run(ops.gains_summary, steps)
    positive = sum(s["positive"] for s in summaries)
    if positive <= leftover:
        return Pass(), positive
    lo, hi = 0.0, np.inf  # more than `leftover` gains above lo, fewer than `leftover` above hi
    above_lo, above_hi = positive, 0
    cuts = np.unique(np.concatenate([s["sample"] for s in summaries]))
    for _ in range(64):
        counts = rounds.run(ops.gain_counts, steps, cuts, lo, hi)
        above = sum(c["above"] for c in counts)
        at_least = sum(c["at_least"] for c in counts)
        exact = np.flatnonzero((above < leftover) & (at_least >= leftover))
        if exact.shape[0]:  # the cut is one of these gains: the first queries that have it take the rest
            k = int(exact[0])
            need = leftover - int(above[k]) - 1
            ties = np.array([int(c["at_least"][k] - c["above"][k]) for c in counts])
            position = int(np.searchsorted(np.cumsum(ties), need, side="right"))
            nth = need - int(ties[:position].sum())
            index = _nth_with_gain(rounds, steps, float(cuts[k]), position, nth)
            return Pass(float(cuts[k]), index), leftover
        below = np.flatnonzero(above >= leftover)
        if below.shape[0]:
            lo, above_lo = float(cuts[below[-1]]), int(above[below[-1]])
        over = np.flatnonzero(above < leftover)
        if over.shape[0]:
            hi, above_hi = float(cuts[over[0]]), int(above[over[0]])
        if above_lo - above_hi <= GATHER_LIMIT:
            found = rounds.run(ops.gains_inside, steps, lo, hi)
            gains = np.concatenate([f[0] for f in found])
            index = np.concatenate([f[1] for f in found])
            last = np.lexsort((index, -gains))[leftover - above_hi - 1]
            return Pass(float(gains[last]), int(index[last])), leftover
        sample = np.concatenate([c["sample"] for c in counts])
        cuts = np.unique(sample[(sample > lo) & (sample <= hi)])
    raise RuntimeError("the leftover cut was not settled within its rounds")  # pragma: no cover


def _nth_with_gain(rounds: Rounds, steps: list[Step], gain: float, position: int, nth: int) -> int:
    """The global index of partition ``position``'s ``nth`` candidate with this gain (one round)."""
    return max(rounds.run(ops.nth_with_gain_at, steps, gain, rounds.offsets[position], nth))


def spend_leftover(rounds: Rounds, steps: list[Step], leftover: int, form: str) -> tuple[list[Step], int]:
    """The single-machine ``spend_leftover`` over the partitions: passes, then the best abandoned query, again.

    Passes over many active queries run as rounds; once few are active they
    are gathered and the passes run on the driver, the same code on the same
    numbers. Returns the steps and the tokens still left.
    """
    steps = [*steps, ActivateFunded()]
    while leftover > 0:
        active = sum(s["active"] for s in rounds.run(ops.gains_summary, steps))
        while leftover > 0 and active > GATHER_LIMIT:
            step, given = select_pass(rounds, steps, leftover)
            steps.append(step)
            leftover -= given
            active = given
        if leftover > 0 and active:
            rows = gathered(rounds.run(ops.active_rows, steps))
            grants = rows["tokens"].astype(np.float64)
            here, leftover = one_more_token_passes(rows_as_curves(rows, form), grants, np.arange(len(grants)), leftover)
            steps.append(Assign(rows["index"], grants.astype(np.int64), active=rows["index"][here]))
        if leftover <= 0:
            break
        best = max(rounds.run(ops.best_idle_query, steps, leftover), key=lambda b: (b[0], -b[1]))
        value, index, grant = best
        if not value > 0:
            break
        steps.append(Assign(np.array([index]), np.array([int(grant)]), active=np.array([index])))
        leftover -= int(grant)
    return steps, leftover
