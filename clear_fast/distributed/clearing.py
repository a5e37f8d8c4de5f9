"""The market clearing of ``allocate`` over partitions: the price, who is funded, and the dual bound.

The same decisions as the kernel's ``clear_price`` (clear_fast/_reference/market.py
states them): regula falsi in log-price on market demand, each evaluation one
round; once few break-even prices (jumps) remain inside the bracket, those
queries are gathered, the demand of everything before them is evaluated at
each of their prices in one round, and the driver finds the marginal position
and settles a continuous clearing or a jump with the kernel's rules (one
Newton step when the price barely moves, else the exact solve, each of its
evaluations a round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernel import ClearingKind
from ..curves import SurgeCurves
from . import partition_ops as ops
from .plan import Fill, best_responses
from .rounds import Rounds, gathered, rows_as_curves

#: the search gathers the queries inside its bracket once at most this many remain
WINDOW = 32
#: prices evaluated in each round of the search, besides the regula falsi point and the median jump
SPREAD = 6
#: prices evaluated in each round of an exact solve at a jump (small batches: the others take one Newton step)
SOLVE_SPREAD = 24
#: the search gives up (answering with the bracket's upper end) after this many rounds
MAX_SEARCH_ROUNDS = 64
#: as in the kernel: a relative price move below which one Newton step from a break-even price is exact
NEWTON_EXACT_WITHIN = 1e-4


def _exp(x: float) -> float:
    """``exp`` that overflows to inf, as the kernel's C ``exp`` does."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


@dataclass(frozen=True)
class Clearing:
    """How the market cleared: the kind, the price, the marginal query (global index or -1), the bound, the fill."""

    kind: ClearingKind
    price: float
    marginal: int
    bound: float | None  # None: the fill's surplus gives it (price * budget + surplus)
    fill: Fill


class _Bracket:
    def __init__(self, hi: float, budget: float) -> None:
        self.lo, self.hi = 0.0, hi
        self.excess_lo, self.excess_hi = math.inf, -budget
        self.count_lo: int | None = None
        self.count_hi = 0
        self.last_hi: tuple[float, int] | None = None  # the last query above hi (its key)
        self.guess: float | None = None  # the regula falsi point of the last round
        self.jump_median: float | None = None  # the middle break-even price inside the bracket


def clear(rounds: Rounds, summaries: list[dict], budget: int, form: str) -> Clearing:
    """Clear the market of the partitions (budget > 0, general parameters)."""
    if sum(s["fundable"] for s in summaries) == 0:
        return Clearing(ClearingKind.AMPLE, 0.0, -1, 0.0, Fill(0.0, 0.0, -1))
    if sum(s["demand_at_zero"] for s in summaries) <= budget:
        return Clearing(ClearingKind.AMPLE, 0.0, -1, None, Fill(0.0, 0.0, -1))
    bracket = _Bracket(max(s["max_breakeven"] for s in summaries), float(budget))
    bracket.count_lo = sum(s["fundable"] for s in summaries)
    start = _start_from_sample(summaries, budget, form, bracket.hi)
    if _search(rounds, budget, start, bracket):
        return Clearing(ClearingKind.CONTINUOUS, bracket.hi, -1, None, Fill(bracket.hi, bracket.hi, -1))
    return _settle_in_window(rounds, budget, form, bracket)


def _start_from_sample(summaries: list[dict], budget: int, form: str, top: float) -> float:
    """The price that clears the pooled sample at the budget scaled down alike (the kernel's own start)."""
    from .. import _kernel

    rows = gathered([s["sample"] for s in summaries])
    sample = rows_as_curves(rows, form)
    fundable = sum(s["fundable"] for s in summaries)
    order = np.argsort(-rows["breakeven"], kind="stable").astype(np.int64)
    tokens = np.empty(len(sample))
    kind, price, _, _ = _kernel.kernel.clear_price(
        sample.form_code, sample.tau, sample.scale, sample.beta, sample.min_tokens, sample.max_tokens,
        np.ascontiguousarray(rows["breakeven"]), order, float(budget) * len(sample) / fundable, tokens,
    )
    return float(price) if kind != ClearingKind.AMPLE and 0.0 < price < top else 0.5 * top


def _search(rounds: Rounds, budget: int, start: float, bracket: _Bracket) -> bool:
    """Regula falsi in log-price on market demand, as the kernel's, with more prices per round.

    Each round evaluates the regula falsi point and a few prices spread over
    the bracket (or stepping down from it while no price with demand above
    the budget is known), and the median break-even price inside it. True when
    demand meets the budget within 1e-9 of it (the price is ``bracket.hi``);
    False once at most :data:`WINDOW` break-even prices lie inside the bracket.
    """
    tolerance = 1e-9 * budget
    lam = start
    for _ in range(MAX_SEARCH_ROUNDS):
        prices = _spread(bracket, lam)
        found = rounds.run(ops.market_demand, prices, bracket.lo, bracket.hi)
        for k, price in enumerate(prices):
            count = sum(f["count"][k] for f in found)
            excess = sum(f["demand"][k] for f in found) - budget
            if abs(excess) <= tolerance:
                bracket.hi = price
                return True
            if excess > 0.0 and price > bracket.lo:
                bracket.lo, bracket.excess_lo, bracket.count_lo = price, excess, count
            elif excess <= 0.0 and price < bracket.hi:
                bracket.hi, bracket.excess_hi, bracket.count_hi = price, excess, count
                lasts = [f["last"][k] for f in found if f["last"][k] is not None]
                bracket.last_hi = min(lasts, key=lambda key: (key[0], -key[1])) if lasts else None
        jumps = bracket.count_lo - bracket.count_hi
        if 0 < jumps <= WINDOW or jumps == 1 and bracket.hi - bracket.lo <= 1e-13 * bracket.hi:
            return False
        if jumps == 0 and bracket.hi - bracket.lo <= 1e-13 * bracket.hi:
            return True
        inside = np.sort(np.concatenate([f["inside_sample"] for f in found]))
        inside = inside[(inside > bracket.lo) & (inside <= bracket.hi)]
        lam = float(inside[inside.shape[0] // 2]) if inside.shape[0] > 2 else math.sqrt(bracket.lo * bracket.hi)
        if bracket.lo > 0.0 and bracket.excess_lo < math.inf:
            lam_rf = _exp(math.log(bracket.lo) + bracket.excess_lo * (math.log(bracket.hi) - math.log(bracket.lo)) / (
                bracket.excess_lo - bracket.excess_hi))
            bracket.guess = lam_rf
        bracket.jump_median = lam
        lam = bracket.guess if bracket.guess is not None else lam
    return True  # pragma: no cover - far past any case seen


def _spread(bracket: _Bracket, lam: float) -> list[float]:
    """The prices of one search round: ``lam``, the median jump inside the bracket, and a spread over it."""
    lo, hi = bracket.lo, bracket.hi
    prices = [lam] if lo < lam < hi else []
    median = bracket.jump_median
    if median is not None and lo < median < hi:
        prices.append(median)
    if bracket.excess_lo == math.inf or lo <= 0.0:  # no price with demand above the budget yet: step down
        top = min(lam, hi) if lam > 0 else hi
        prices += [top * _exp(-0.05 * 4.0**k) for k in range(SPREAD)]
    else:
        span = math.log(hi) - math.log(lo)
        prices += [lo * _exp(span * (k + 1) / (SPREAD + 1)) for k in range(SPREAD)]
    return sorted({p for p in prices if lo < p < hi and p > 0.0})


class _Prefix:
    """Demand (and more) of the first ``count`` queries at a price: the part before the window from the
    partitions (one round per new price), the window's own queries on the driver."""

    def __init__(self, rounds: Rounds, top: tuple[float, int], window: SurgeCurves, start: int) -> None:
        self.rounds, self.top, self.window, self.start = rounds, top, window, start
        self.known: dict[float, dict] = {}

    def evaluate(self, prices: list[float]) -> None:
        new = sorted({p for p in prices if p not in self.known})
        if not new:
            return
        found = self.rounds.run(ops.prefix_at, self.top[0], self.top[1], new)
        for k, price in enumerate(new):
            self.known[price] = {key: sum(float(f[key][k]) for f in found)
                                 for key in ("demand", "slope", "value", "surplus")}
        self.lower = sum(f["lower"] for f in found)
        self.top_marginal = max(f["top_marginal"] for f in found)

    def at(self, count: int, price: float) -> dict:
        """The first ``count`` queries (global positions) responding at ``price``."""
        self.evaluate([price])
        out = dict(self.known[price])
        local = count - self.start
        if local > 0:
            funded = np.zeros(len(self.window), dtype=bool)
            funded[:local] = True
            grants, total, slope = best_responses(self.window, funded, price)
            values = np.empty(len(self.window))
            from .. import _kernel

            w = self.window
            _kernel.kernel.utility(w.form_code, w.tau, w.scale, w.beta, grants, values)
            with np.errstate(invalid="ignore"):  # an uncapped cumulative grant at price 0 is infinite
                surplus = (values - price * grants)[funded]
            out["demand"] += total
            out["slope"] += slope
            out["value"] += float(values[funded].sum())
            out["surplus"] += float(surplus[surplus > 0].sum())
        return out

    def solve(self, count: int, budget: float, lo: float, hi: float, lam: float, total: float, slope: float) -> float:
        """The kernel's ``solve_prefix`` (the price in ``[lo, hi]`` where the first ``count`` queries demand the
        budget, demand within it by at most 1e-9 of it), with a Newton step and a spread of prices each round."""
        tolerance = 1e-9 * (budget if budget > 1.0 else 1.0)
        for _ in range(MAX_SEARCH_ROUNDS):
            if total > budget:
                lo = lam
            else:
                hi = lam
                if budget - total <= tolerance or lam == 0.0:
                    return lam
            if hi - lo <= 1e-15 * hi:
                return hi
            candidate = lam * _exp(-(total - budget) / (lam * slope)) if slope < 0.0 and lam > 0.0 else -1.0
            if lo > 0.0:
                span = math.log(hi) - math.log(lo)
                prices = [lo * _exp(span * (k + 1) / (SOLVE_SPREAD + 1)) for k in range(SOLVE_SPREAD)]
            else:
                prices = [0.0] + [hi * _exp(-0.05 * 2.0**k) for k in range(SOLVE_SPREAD)]
            if lo < candidate < hi:
                prices.append(candidate)
            prices = sorted({p for p in prices if lo <= p < hi})
            self.evaluate(prices)
            at = {p: self.at(count, p) for p in prices}
            fits = [p for p in prices if at[p]["demand"] <= budget and budget - at[p]["demand"] <= tolerance]
            if fits:
                return max(fits)
            over = [p for p in prices if at[p]["demand"] > budget]
            under = [p for p in prices if at[p]["demand"] <= budget]
            lo = max(over, default=lo)
            hi = min(under, default=hi)
            lam = candidate if lo < candidate < hi else (hi if under else lo)
            now = self.at(count, lam)
            total, slope = now["demand"], now["slope"]
        return hi  # pragma: no cover


def _settle_in_window(rounds: Rounds, budget: int, form: str, bracket: _Bracket) -> Clearing:
    """Gather the queries inside the bracket and settle the marginal position among them."""
    top = bracket.last_hi if bracket.count_hi > 0 and bracket.last_hi is not None else (math.inf, 0)
    start = bracket.count_hi - 1 if bracket.count_hi > 0 else 0  # global position of the window's first query
    rows = gathered(rounds.run(ops.window_rows, top[0], top[1], bracket.lo))
    order = np.lexsort((rows["index"], -rows["breakeven"]))
    rows = {key: value[order] for key, value in rows.items()}
    window = rows_as_curves(rows, form)
    s = rows["breakeven"]
    prefix = _Prefix(rounds, top, window, start)
    prefix.evaluate(list(s))
    count_lo = start + len(window)
    # the smallest global position j in [max(count_hi, 1), count_lo] with F_j > budget
    j = count_lo
    for g in range(max(bracket.count_hi, 1), count_lo):
        if prefix.at(g, float(s[g - start]))["demand"] > budget:
            j = g
            break
    p = j - 1
    w = p - start
    s_p = float(s[w])
    before = prefix.at(p, s_p)
    single = np.zeros(len(window), dtype=bool)
    single[w] = True
    grants, grant_p, slope_p = best_responses(window, single, s_p)
    key_p = (s_p, int(rows["index"][w]))
    if budget >= before["demand"] + grant_p:
        s_j = float(s[w + 1]) if w + 1 < len(window) else bracket.lo
        demand, slope = before["demand"] + grant_p, before["slope"] + slope_p
        lam = s_p + (budget - demand) / slope if slope < 0.0 else -1.0
        if not (lam > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam > s_j):
            lam = prefix.solve(p + 1, float(budget), s_j, s_p, s_p, demand, slope)
        return Clearing(ClearingKind.CONTINUOUS, lam, -1, None, Fill(lam, key_p[0], key_p[1] + 1))
    bound = s_p * budget + before["surplus"]
    marginal = key_p[1]
    lam_out = s_p + (budget - before["demand"]) / before["slope"] if before["slope"] < 0.0 else -1.0
    slope_in = before["slope"] + slope_p
    lam_in = s_p + (budget - before["demand"] - grant_p) / slope_in if slope_in < 0.0 else math.inf
    if lam_out > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam_in < s_p * (1.0 + NEWTON_EXACT_WITHIN):
        value_out = before["value"] + s_p * before["slope"] * (lam_out - s_p)
        utility_p = np.empty(1)
        from .. import _kernel

        _kernel.kernel.utility(window.form_code, window.tau[w:w + 1], window.scale[w:w + 1], window.beta[w:w + 1],
                               np.array([grant_p]), utility_p)
        value_in = before["value"] + float(utility_p[0]) + s_p * slope_in * (lam_in - s_p)
    else:
        lam_out = prefix.solve(p, float(budget), 0.0, s_p, s_p, before["demand"], before["slope"])
        value_out = prefix.at(p, lam_out)["value"]
        floor_in = prefix.lower + float(np.ceil(window.lower[: w + 1]).sum())
        marginal_max = window.scale if form == "surge" else window.scale / (window.beta * math.e)
        top_marginal = max(prefix.top_marginal, float(marginal_max[: w + 1].max()))
        value_in = -1.0
        if floor_in <= budget:
            lam_in = prefix.solve(p + 1, float(budget), s_p, top_marginal, s_p, before["demand"] + grant_p, slope_in)
            funded = prefix.at(p + 1, lam_in)
            value_in = funded["value"] if funded["demand"] <= budget * (1.0 + 1e-12) else -1.0
    if value_in > value_out:
        return Clearing(ClearingKind.JUMP_IN, s_p, marginal, bound, Fill(lam_in, key_p[0], key_p[1] + 1))
    return Clearing(ClearingKind.JUMP_OUT, s_p, marginal, bound, Fill(lam_out, key_p[0], key_p[1]))
