"""One partition's part of each round: small functions of its queries that return a few numbers.

Each function takes a :class:`Part` (the partition's curves and where they sit
in the whole dataset) and returns plain numbers or small arrays, which the
driver sums or pools. They call the kernel's per-query entry points, so the
arithmetic per query is the single-machine arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from .. import _kernel
from .._exact import _Queries
from .._rounding import best_idle, best_single
from ..curves import SurgeCurves
from ..pricing import _breakeven, integer_bounds, utility_of
from .plan import Replay, Step, before_key, best_responses, demand_curvatures

#: evenly spaced break-even prices a partition reports from inside the search's bracket
BRACKET_SAMPLE = 64
_FIELDS = ("tau", "alpha", "beta", "weight", "min_tokens", "max_tokens")


@dataclass
class Part:
    """A partition's curves, the global position of its first query, and its own place among the partitions."""

    curves: SurgeCurves
    offset: int
    position: int = 0

    @cached_property
    def breakeven(self) -> NDArray[np.float64]:
        return _breakeven(self.curves)[0]

    @cached_property
    def index(self) -> NDArray[np.int64]:
        return np.arange(self.offset, self.offset + len(self.curves), dtype=np.int64)

    def rows(self, mask: NDArray[np.bool_]) -> dict[str, NDArray]:
        """The queries at ``mask``: their parameters, break-even prices and global indices."""
        rows = {name: getattr(self.curves, name)[mask] for name in _FIELDS}
        rows["breakeven"] = self.breakeven[mask]
        rows["index"] = self.index[mask]
        return rows

    def replay(self, steps: list[Step]) -> Replay:
        return Replay(self.curves, self.index, self.breakeven).run(steps)


def summary(part: Part) -> dict:
    """Size, form, fundable count, highest break-even price, demand at price 0, shared parameters."""
    c, be = part.curves, part.breakeven
    fundable = np.flatnonzero(be > 0)
    out = {"n": len(c), "form": c.form, "fundable": int(fundable.shape[0]), "max_breakeven": float(be.max()) if len(c) else 0.0}
    out["shared"] = None
    if len(c) and c.is_shared:
        out["shared"] = (float(c.scale[0]), float(c.beta[0]))
    total = 0.0
    if fundable.shape[0]:
        _, total, _ = best_responses(c, be > 0, 0.0)
    out["demand_at_zero"] = total
    return out


def fundable_rows(part: Part) -> dict[str, NDArray]:
    """The queries with a positive break-even price (the market's rows)."""
    return part.rows(part.breakeven > 0)


def sample_rows(part: Part, stride: int, ranks: list[int]) -> dict[str, NDArray]:
    """The fundable queries whose rank among all fundable queries is a multiple of ``stride``.

    ``ranks[k]`` is how many fundable queries the partitions before the k-th
    hold: the sample is ``allocate``'s own (every ``stride``-th fundable query).
    """
    fundable = np.flatnonzero(part.breakeven > 0)
    first = (-ranks[part.position]) % stride
    mask = np.zeros(len(part.curves), dtype=bool)
    mask[fundable[first::stride]] = True
    return part.rows(mask)


def tau_column(part: Part) -> NDArray[np.float64]:
    """The thresholds (all the shared-parameter solution needs)."""
    return np.asarray(part.curves.tau)


def market_demand(part: Part, prices: list[float], lo: float, hi: float) -> dict:
    """At each price: demand of the queries whose break-even price is above it, its slope, their count and
    the last of them in the order (its key). Also evenly spaced break-even prices inside ``(lo, hi]``."""
    be = part.breakeven
    out: dict = {"count": [], "demand": [], "slope": [], "last": []}
    for price in prices:
        above = be > price
        _, total, slope = best_responses(part.curves, above, price)
        count = int(above.sum())
        last = None
        if count:  # the last of them in the order: the lowest break-even price, of those the highest index
            lowest = float(be[above].min())
            last = (lowest, int(part.index[above & (be == lowest)].max()))
        for key, value in (("count", count), ("demand", total), ("slope", slope), ("last", last)):
            out[key].append(value)
    inside = np.sort(be[(be > lo) & (be <= hi)])
    out["inside_sample"] = inside[:: max(1, inside.shape[0] // BRACKET_SAMPLE)]
    return out


def window_rows(part: Part, top_price: float, top_index: int, lo: float) -> dict[str, NDArray]:
    """The queries from the key ``(top_price, top_index)`` on whose break-even price is above ``lo``."""
    be = part.breakeven
    mask = (be > lo) & ~before_key(be, part.index, top_price, top_index)
    return part.rows(mask)


def rows_before(part: Part, cut_price: float, cut_index: int) -> dict[str, NDArray]:
    """The fundable queries before the key ``(cut_price, cut_index)``."""
    return part.rows(before_key(part.breakeven, part.index, cut_price, cut_index))


def prefix_at(part: Part, probes: list[tuple[float, float, int]]) -> dict[str, NDArray]:
    """For each ``(price, cut_price, cut_index)``: the queries before the key, each responding at the price.

    Their demand, its slope, their utility and positive surplus: the market's
    prefix passes (each query before the key is funded, whatever the price).
    Also their summed lower bounds and largest marginal utility (a jump's
    funded option needs them).
    """
    c = part.curves
    out = {key: np.zeros(len(probes)) for key in ("demand", "slope", "curvature", "value", "surplus", "lower", "top_marginal")}
    for k, (price, cut_price, cut_index) in enumerate(probes):
        sub = c.subset(before_key(part.breakeven, part.index, cut_price, cut_index))
        grants, total, slope = best_responses(sub, np.ones(len(sub), dtype=bool), price)
        values = np.empty(len(sub))
        _kernel.kernel.utility(sub.form_code, sub.tau, sub.scale, sub.beta, grants, values)
        with np.errstate(invalid="ignore"):  # an uncapped cumulative grant at price 0 is infinite
            surplus = values - price * grants
        out["demand"][k], out["slope"][k], out["value"][k] = total, slope, values.sum()
        out["curvature"][k] = demand_curvatures(sub, grants, price).sum()
        out["surplus"][k] = surplus[surplus > 0].sum()
        out["lower"][k] = integer_bounds(sub)[0].sum()
        marginal = sub.scale if c.form == "surge" else sub.scale / (sub.beta * math.e)
        out["top_marginal"][k] = marginal.max() if len(sub) else 0.0
    return out


def filled(part: Part, steps: list[Step]) -> dict:
    """After the steps (a Fill last): tokens spent, their utility and the surplus of the continuous grants."""
    replay = part.replay(steps)
    return {"spent": int(replay.tokens.sum()), "value": _value(part.curves, replay.tokens),
            "surplus": replay.surplus}


def funded_rows(part: Part, steps: list[Step]) -> dict[str, NDArray]:
    """The funded queries after the steps (a Fill last), with their continuous grants."""
    replay = part.replay(steps)
    assert replay.continuous is not None
    mask = replay.continuous > 0
    rows = part.rows(mask)
    rows["continuous"] = replay.continuous[mask]
    return rows


def gains_summary(part: Part, steps: list[Step]) -> dict:
    """The next pass's candidates with a positive gain: how many, evenly spaced gains among them, the active count."""
    replay = part.replay(steps)
    _, gains = replay.candidates()
    positive = np.sort(gains[gains > 0])
    step = max(1, positive.shape[0] // BRACKET_SAMPLE)
    return {"positive": int(positive.shape[0]), "sample": positive[::step], "active": int(replay.active.shape[0])}


def gain_counts(part: Part, steps: list[Step], cuts: NDArray[np.float64], lo: float, hi: float) -> dict:
    """Positive gains above each cut and at least each cut; evenly spaced gains inside ``(lo, hi]``."""
    replay = part.replay(steps)
    _, gains = replay.candidates()
    positive = np.sort(gains[gains > 0])
    above = positive.shape[0] - np.searchsorted(positive, cuts, side="right")
    at_least = positive.shape[0] - np.searchsorted(positive, cuts, side="left")
    inside = positive[(positive > lo) & (positive <= hi)]
    step = max(1, inside.shape[0] // BRACKET_SAMPLE)
    return {"above": above, "at_least": at_least, "sample": inside[::step]}


def gains_inside(part: Part, steps: list[Step], lo: float, hi: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The positive gains inside ``(lo, hi]`` and their queries' global indices."""
    replay = part.replay(steps)
    candidates, gains = replay.candidates()
    inside = (gains > 0) & (gains > lo) & (gains <= hi)
    return gains[inside], part.index[candidates[inside]]


def nth_with_gain_at(part: Part, steps: list[Step], gain: float, offset: int, nth: int) -> int:
    """Global index of the ``nth`` (from 0) candidate whose gain equals ``gain``, in the partition at ``offset``.

    The other partitions answer -1.
    """
    if part.offset != offset or not len(part.curves):
        return -1
    replay = part.replay(steps)
    candidates, gains = replay.candidates()
    return int(part.index[candidates[np.flatnonzero(gains == gain)[nth]]])


def pass_gains(part: Part, steps: list[Step]) -> float:
    """Summed gains of the tokens the last step (a Pass) handed out here."""
    before = part.replay(steps[:-1])
    candidates, gains = before.candidates()
    raised = part.replay(steps).tokens[candidates] > before.tokens[candidates]
    return float(gains[raised].sum())


def active_rows(part: Part, steps: list[Step]) -> dict[str, NDArray]:
    """The active queries after the steps, with their grants."""
    replay = part.replay(steps)
    mask = np.zeros(len(part.curves), dtype=bool)
    mask[replay.active] = True
    rows = part.rows(mask)
    rows["tokens"] = replay.tokens[mask]
    return rows


def best_idle_query(part: Part, steps: list[Step], leftover: int) -> tuple[float, int, float]:
    """The abandoned query here worth most with ``leftover`` tokens: ``(value, global index, grant)``."""
    replay = part.replay(steps)
    position, grant, value = best_idle(part.curves, replay.tokens, leftover)
    return value, (int(part.index[position]) if position >= 0 else -1), grant


def total_utility(part: Part, steps: list[Step]) -> tuple[float, int]:
    """Utility and tokens of this partition's grants after the steps."""
    tokens = part.replay(steps).tokens
    return _value(part.curves, tokens), int(tokens.sum())


def least_losses(part: Part, steps: list[Step], budget: int, price: float, reach: float) -> dict:
    """The exact step's view of this partition at ``price``: the dual peaks, the best single query.

    The queries the pruning bound keeps (loss below ``reach``) are the ones
    ``clear_fast._exact`` examines; the best single query among them is the
    exact step's first try.
    """
    queries = _Queries(part.curves, budget, price, reach)
    best, grant, value = best_single(part.curves, budget, queries.ids)
    return {"peak": float(queries.peak.sum()), "single": (value, int(part.index[best]) if best >= 0 else -1, grant)}


def search_rows(part: Part, budget: int, price: float, reach: float, widest: float) -> dict[str, NDArray]:
    """The queries whose least loss is below ``widest``, with the arrays the whole-token search takes."""
    q = _Queries(part.curves, budget, price, reach)
    least_loss = q.peak - q.best_funded
    keep = np.flatnonzero(least_loss < widest)
    ids = q.ids[keep]
    c = part.curves
    out = {name: np.asarray(getattr(q, name))[keep] for name in
           ("tau", "scale", "beta", "lower", "top", "low_turn", "high_turn", "peak")}
    out.update(index=part.index[ids], key_tau=c.tau[ids], key_scale=c.scale[ids], key_beta=c.beta[ids],
               key_min=c.min_tokens[ids], key_max=c.max_tokens[ids])
    return out


def grants(part: Part, steps: list[Step]) -> NDArray[np.int64]:
    """This partition's whole-token grants."""
    return part.replay(steps).tokens.astype(np.int64)


def _value(curves: SurgeCurves, tokens: NDArray[np.float64]) -> float:
    funded = np.flatnonzero(tokens)
    return float(utility_of(curves, funded, tokens[funded]).sum())
