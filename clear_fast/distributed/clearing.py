"""The market clearing of ``allocate`` over partitions: the price, who is funded, and the dual bound.

It takes ``allocate``'s own path (``clear_fast.allocate._clear_market`` and the
kernel's ``clear_price``, whose mathematics clear_fast/_reference/market.py states):

* fewer fundable queries than ``allocate`` samples from: they are gathered
  and the kernel clears them on the driver, exactly as ``allocate`` does;
* more: ``allocate``'s own sample (every k-th fundable query) is gathered and
  cleared at the scaled budget for a price bracket; then the kernel's
  regula falsi runs with each demand evaluation a round, until demand meets
  the budget or few break-even prices (jumps) remain in the bracket; those
  queries are gathered, the marginal position is found by bisection (several
  positions a round) and the clearing or the jump is settled with the
  kernel's rules (one Newton step when the price barely moves, else its
  safeguarded Newton, each evaluation a round).

If the sample's bracket misses, the search starts from the whole price range
(the kernel's own start then depends on the full sort, which is not taken
here: the price found is the same up to the search's tolerance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _kernel
from .._kernel import ClearingKind
from ..allocate import _BRACKET, _SAMPLE_FROM, _SAMPLE_SIZE, _clear_market
from . import partition_ops as ops
from .plan import Fill, best_responses, demand_curvatures, grant_curvature
from .rounds import Rounds, gathered, rows_as_curves

#: as in the kernel: regula falsi stops once at most this many break-even prices remain in its bracket
MAX_JUMPS_IN_BRACKET = 1 << 16
#: as in the kernel: a relative price move below which one Newton step from a break-even price is exact
NEWTON_EXACT_WITHIN = 1e-3
#: positions tried in each round of the bisection for the marginal position
PROBES = 15
#: queries the driver gathers at most to settle the marginal query's clearing itself
PREFIX_GATHER_LIMIT = 1 << 16
#: rounds of the search before it answers with its bracket's upper end (the kernel's own cap is 200 steps)
MAX_SEARCH_ROUNDS = 200


def _exp(x: float) -> float:
    """``exp`` that overflows to inf, as the kernel's C ``exp`` does."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


@dataclass(frozen=True)
class Clearing:
    """How the market cleared: the kind, the price, the marginal query (global index or -1), the bound, the fill.

    ``bound`` None: the fill's surplus gives it (``price * budget + surplus``).
    """

    kind: ClearingKind
    price: float
    marginal: int
    bound: float | None
    fill: Fill


@dataclass
class _Bracket:
    lo: float
    hi: float
    excess_lo: float
    excess_hi: float
    count_lo: int
    count_hi: int
    last_hi: tuple[float, int] | None = None  # the key of the last query above hi


def clear(rounds: Rounds, summaries: list[dict], budget: int, form: str) -> Clearing:
    """Clear the market of the partitions (budget > 0, general parameters)."""
    fundable = sum(s["fundable"] for s in summaries)
    if fundable < _SAMPLE_FROM:
        return _clear_gathered(rounds, budget, form)
    ranks = np.concatenate(([0], np.cumsum([s["fundable"] for s in summaries])[:-1]))
    stride = fundable // _SAMPLE_SIZE
    sample = _sorted_rows(gathered(rounds.run(ops.sample_rows, stride, [int(r) for r in ranks])))
    curves = rows_as_curves(sample, form)
    tokens = np.empty(len(curves))
    kind, guess, _, _ = _kernel.kernel.clear_price(
        curves.form_code, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens,
        np.ascontiguousarray(sample["breakeven"]), np.arange(len(curves), dtype=np.int64),
        float(budget * len(curves) / fundable), tokens,
    )
    bracket, unordered_above = None, math.inf
    if kind != ClearingKind.AMPLE and guess > 0:
        unordered_above = guess * (1 + _BRACKET)
        bracket = _bracket_from_hints(rounds, budget, guess * (1 - _BRACKET), unordered_above)
    if bracket is None:
        unordered_above = math.inf
        if sum(s["demand_at_zero"] for s in summaries) <= budget:
            return Clearing(ClearingKind.AMPLE, 0.0, -1, None, Fill(0.0, 0.0, -1))
        top = max(s["max_breakeven"] for s in summaries)
        bracket = _Bracket(0.0, top, math.inf, -float(budget), fundable, 0)
        start = 0.5 * top
    else:
        start = bracket.lo + bracket.excess_lo * (bracket.hi - bracket.lo) / (bracket.excess_lo - bracket.excess_hi)
    if _search(rounds, budget, start, bracket):
        return Clearing(ClearingKind.CONTINUOUS, bracket.hi, -1, None, Fill(bracket.hi, bracket.hi, -1))
    return _settle_in_window(rounds, budget, form, bracket, unordered_above)


def _sorted_rows(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows in the market's order: decreasing break-even price, then increasing global index."""
    order = np.lexsort((rows["index"], -rows["breakeven"]))
    return {key: value[order] for key, value in rows.items()}


def _clear_gathered(rounds: Rounds, budget: int, form: str) -> Clearing:
    """Few fundable queries: gather them and clear them with ``allocate``'s own code."""
    rows = gathered(rounds.run(ops.fundable_rows))
    curves = rows_as_curves(rows, form)
    continuous = np.zeros(len(curves))
    kind, price, position, bound, order = _clear_market(curves, np.ascontiguousarray(rows["breakeven"]), budget,
                                                        continuous)
    marginal = int(rows["index"][order[position]]) if position >= 0 else -1
    return Clearing(ClearingKind(kind), float(price), marginal, float(bound),
                    Fill(float(price), 0.0, -1, rows["index"], continuous))


def _demand(rounds: Rounds, prices: list[float]) -> list[tuple[int, float, float, tuple[float, int] | None]]:
    """Market demand at each price: ``(count above, demand, slope, key of the last query above)``."""
    found = rounds.run(ops.market_demand, prices, 0.0, 0.0)
    out = []
    for k in range(len(prices)):
        lasts = [f["last"][k] for f in found if f["last"][k] is not None]
        last = min(lasts, key=lambda key: (key[0], -key[1])) if lasts else None
        out.append((sum(f["count"][k] for f in found), sum(f["demand"][k] for f in found),
                    sum(f["slope"][k] for f in found), last))
    return out


def _bracket_from_hints(rounds: Rounds, budget: int, lo_hint: float, hi_hint: float) -> _Bracket | None:
    """The kernel's check of the sample's bracket (None: it missed)."""
    (c_lo, d_lo, _, _), (c_hi, d_hi, _, last), (in_order, _, _, _) = _demand(
        rounds, [lo_hint, hi_hint, lo_hint * (1 - _BRACKET)])
    if d_lo - budget <= 0.0 or d_hi - budget > 0.0 or c_lo >= in_order:
        return None
    return _Bracket(lo_hint, hi_hint, d_lo - budget, d_hi - budget, c_lo, c_hi, last)


def _search(rounds: Rounds, budget: int, start: float, bracket: _Bracket) -> bool:
    """The kernel's ``_search_market``: regula falsi (Illinois) in log-price, one round per evaluation.

    True when demand is within 1e-9 of the budget (the price is then
    ``bracket.hi``); False once at most :data:`MAX_JUMPS_IN_BRACKET` break-even
    prices lie inside the bracket.
    """
    tolerance = 1e-9 * budget
    lam, step, width_before, moved = start, 0.05, math.inf, 0
    for k in range(MAX_SEARCH_ROUNDS):
        if not bracket.lo < lam < bracket.hi:
            lam = math.sqrt(bracket.lo * bracket.hi) if bracket.lo > 0.0 else 0.5 * bracket.hi
        [(count, demand, _, last)] = _demand(rounds, [lam])
        excess = demand - budget
        if abs(excess) <= tolerance:
            bracket.hi = lam
            return True
        if excess > 0.0:
            bracket.lo, bracket.excess_lo, bracket.count_lo = lam, excess, count
            if moved == 1:
                bracket.excess_hi *= 0.5  # Illinois: the end kept twice has its value halved
            moved = 1
        else:
            bracket.hi, bracket.excess_hi, bracket.count_hi, bracket.last_hi = lam, excess, count, last
            if moved == -1:
                bracket.excess_lo *= 0.5
            moved = -1
        jumps = bracket.count_lo - bracket.count_hi
        width = bracket.hi - bracket.lo
        if 0 < jumps <= MAX_JUMPS_IN_BRACKET or jumps == 1 and width <= 1e-13 * bracket.hi:
            return False
        if jumps == 0 and width <= 1e-13 * bracket.hi:
            return True
        if bracket.excess_lo == math.inf:
            lam *= _exp(-step)  # no price above the budget yet: step down, twice as far each time
            step *= 2.0
        elif k % 3 == 2 and width > 0.5 * width_before:
            lam = _middle_jump(rounds, bracket)
        else:
            lam = _exp(math.log(bracket.lo) + bracket.excess_lo * (math.log(bracket.hi) - math.log(bracket.lo)) / (
                bracket.excess_lo - bracket.excess_hi))
        if k % 3 == 2:
            width_before = bracket.hi - bracket.lo
    return True  # pragma: no cover - the kernel's own cap


def _middle_jump(rounds: Rounds, bracket: _Bracket) -> float:
    """Regula falsi stalled: the middle of the break-even prices inside the bracket (from their pooled sample)."""
    found = rounds.run(ops.market_demand, [], bracket.lo, bracket.hi)
    inside = np.sort(np.concatenate([f["inside_sample"] for f in found]))
    if inside.shape[0] > 2:
        return float(inside[inside.shape[0] // 2])
    return math.sqrt(bracket.lo * bracket.hi)


class _Prefix:
    """The first queries of the market (those before a key), responding at a price.

    From the partitions, one round per batch of ``(price, key)`` probes; or,
    once :meth:`gather` has brought the first queries to the driver, on the
    driver with the kernel's sums in the kernel's order.
    """

    def __init__(self, rounds: Rounds, form: str) -> None:
        self.rounds, self.form = rounds, form
        self.known: dict[tuple[float, float, int], dict] = {}
        self.local: dict[str, np.ndarray] | None = None

    def gather(self, key: tuple[float, int], unordered_above: float) -> None:
        """Bring the queries before ``key`` to the driver, in the kernel's order of them.

        That is the market's order, except that ``allocate`` hands the kernel
        the queries above its bracket (break-even price above ``unordered_above``)
        first and by position: the sums then add in that order too.
        """
        rows = _sorted_rows(gathered(self.rounds.run(ops.rows_before, key[0], key[1])))
        above = rows["breakeven"] > unordered_above
        order = np.concatenate((np.flatnonzero(above)[np.argsort(rows["index"][above], kind="stable")],
                                np.flatnonzero(~above)))
        self.local = {name: values[order] for name, values in rows.items()}
        self.local_key = key

    def evaluate(self, probes: list[tuple[float, float, int]]) -> None:
        new = sorted({p for p in probes if p not in self.known and self._count(p) is None})
        if not new:
            return
        found = self.rounds.run(ops.prefix_at, new)
        for k, probe in enumerate(new):
            self.known[probe] = {key: sum(float(f[key][k]) for f in found)
                                 for key in ("demand", "slope", "curvature", "value", "surplus", "lower")}
            self.known[probe]["top_marginal"] = max(float(f["top_marginal"][k]) for f in found)

    def at(self, price: float, key: tuple[float, int]) -> dict:
        probe = (float(price), float(key[0]), int(key[1]))
        count = self._count(probe)
        if count is not None:
            return self._local_at(count, float(price))
        self.evaluate([probe])
        return self.known[probe]

    def _count(self, probe: tuple[float, float, int]) -> int | None:
        """How many gathered queries lie before the probe's key (None: not all of them are gathered)."""
        if self.local is None:
            return None
        price, index = self.local_key
        if probe[1] < price or probe[1] == price and probe[2] > index:
            return None  # the key lies past the gathered queries
        be, at = self.local["breakeven"], self.local["index"]
        return int(((be > probe[1]) | ((be == probe[1]) & (at < probe[2]))).sum())

    def _local_at(self, count: int, price: float) -> dict:
        """The kernel's ``prefix_at`` on the first ``count`` gathered queries (sums in the kernel's order)."""
        assert self.local is not None
        rows = {key: value[:count] for key, value in self.local.items()}
        curves = rows_as_curves(rows, self.form)
        grants, total, slope = best_responses(curves, np.ones(count, dtype=bool), price)
        values = np.empty(count)
        _kernel.kernel.utility(curves.form_code, curves.tau, curves.scale, curves.beta, grants, values)
        with np.errstate(invalid="ignore"):
            surplus = values - price * grants
        marginal = curves.scale if self.form == "surge" else curves.scale / (curves.beta * math.e)
        return {"demand": total, "slope": slope, "curvature": _running_sum(demand_curvatures(curves, grants, price)),
                "value": _running_sum(values),
                "surplus": _running_sum(surplus[surplus > 0.0]), "lower": _running_sum(np.ceil(curves.lower)),
                "top_marginal": float(marginal.max()) if count else 0.0}

    def solve(self, key: tuple[float, int], budget: float, lo: float, hi: float, lam: float, total: float,
              slope: float) -> float:
        """The kernel's ``solve_prefix`` for the queries before ``key``: safeguarded Newton in log-price."""
        tried_zero = False
        for _ in range(200):
            if total > budget:
                lo = lam
            else:
                hi = lam
                if budget - total <= 1e-9 * (budget if budget > 1.0 else 1.0) or lam == 0.0:
                    return lam
            if hi - lo <= 1e-15 * hi:
                return hi
            candidate = lam * _exp(-(total - budget) / (lam * slope)) if slope < 0.0 and lam > 0.0 else -1.0
            if lo < candidate < hi:
                lam = candidate
            elif lo > 0.0:
                lam = math.sqrt(lo * hi)
            elif not tried_zero:
                lam, tried_zero = 0.0, True
            else:
                lam = hi * 1e-4
            now = self.at(lam, key)
            total, slope = now["demand"], now["slope"]
        return hi  # pragma: no cover


def newton_move(excess: float, slope: float, curvature: float) -> float:
    """The kernel's ``newton_move``: the price move ``d`` with ``excess + slope d + curvature d^2 / 2 = 0``.

    NaN (refused by every caller's range check) when the curvature would change
    the first Newton move by half or more.
    """
    first = -excess / slope
    refined_slope = slope + 0.5 * curvature * first
    if not abs(refined_slope - slope) <= 0.5 * abs(slope):
        return math.nan
    return -excess / refined_slope


def _running_sum(values: np.ndarray) -> float:
    """Left-to-right sum, as the kernel's loops add (numpy's ``sum`` adds pairwise)."""
    return float(np.cumsum(values)[-1]) if values.shape[0] else 0.0


def _settle_in_window(rounds: Rounds, budget: int, form: str, bracket: _Bracket, unordered_above: float) -> Clearing:
    """The kernel's ``_settle_in_window``: the marginal position among the gathered queries inside the bracket."""
    top = bracket.last_hi if bracket.count_hi > 0 and bracket.last_hi is not None else (math.inf, 0)
    start = bracket.count_hi - 1 if bracket.count_hi > 0 else 0  # global position of the window's first query
    rows = _sorted_rows(gathered(rounds.run(ops.window_rows, top[0], top[1], bracket.lo)))
    window = rows_as_curves(rows, form)
    s, index = rows["breakeven"], rows["index"]
    prefix = _Prefix(rounds, form)

    def key(position: int) -> tuple[float, int]:
        return float(s[position - start]), int(index[position - start])

    def demand_as_row_joins(position: int) -> float:  # F_j: the first j queries at the j-th break-even price
        return prefix.at(s[position - start], key(position))["demand"]

    # the smallest position j in (lo_j, hi_j] with F_j > budget: F_lo_j <= budget < F_hi_j
    lo_j, hi_j = max(bracket.count_hi, 1) - 1, start + len(window)
    while hi_j - lo_j > 1:
        probes = sorted({lo_j + (hi_j - lo_j) * (k + 1) // (PROBES + 1) for k in range(PROBES)} - {lo_j, hi_j})
        prefix.evaluate([(float(s[j - start]), *key(j)) for j in probes])
        for j in probes:
            if demand_as_row_joins(j) > budget:
                hi_j = j
                break
            lo_j = j
    p = hi_j - 1
    w = p - start
    s_p, key_p, key_in = float(s[w]), key(p), (float(s[w]), int(index[w]) + 1)
    if p + 1 <= PREFIX_GATHER_LIMIT:  # the first p + 1 queries settle it: on the driver, with the kernel's sums
        prefix.gather((float(s[w + 1]), int(index[w + 1])) if w + 1 < len(window) else (bracket.lo, -1),
                      unordered_above)
    before = prefix.at(s_p, key_p)
    single = np.zeros(len(window), dtype=bool)
    single[w] = True
    _, grant_p, slope_p = best_responses(window, single, s_p)
    curvature_p = grant_curvature(slope_p, s_p, float(window.beta[w]))
    if budget >= before["demand"] + grant_p:
        s_j = float(s[w + 1]) if w + 1 < len(window) else 0.0
        demand, slope = before["demand"] + grant_p, before["slope"] + slope_p
        curvature = before["curvature"] + curvature_p
        lam = s_p + newton_move(demand - budget, slope, curvature) if slope < 0.0 else -1.0
        if not (lam > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam > s_j):
            lam = prefix.solve(key_in, float(budget), s_j, s_p, s_p, demand, slope)
        return Clearing(ClearingKind.CONTINUOUS, lam, -1, None, Fill(lam, *key_in))
    bound = s_p * budget + before["surplus"]
    slope_in, curvature_in = before["slope"] + slope_p, before["curvature"] + curvature_p
    lam_out = s_p + newton_move(before["demand"] - budget, before["slope"], before["curvature"]) if (
        before["slope"] < 0.0) else -1.0
    lam_in = s_p + newton_move(before["demand"] + grant_p - budget, slope_in, curvature_in) if (
        slope_in < 0.0) else math.inf
    if lam_out > s_p * (1.0 - NEWTON_EXACT_WITHIN) and lam_in < s_p * (1.0 + NEWTON_EXACT_WITHIN):
        # what each option adds to the first p queries' utility, to second order, as the kernel compares them
        move_out, move_in = lam_out - s_p, lam_in - s_p
        value_out = move_out * (s_p * before["slope"] + 0.5 * move_out * (before["slope"] + s_p * before["curvature"]))
        utility_p = np.empty(1)
        _kernel.kernel.utility(window.form_code, window.tau[w:w + 1], window.scale[w:w + 1], window.beta[w:w + 1],
                               np.array([grant_p]), utility_p)
        value_in = float(utility_p[0]) + move_in * (s_p * slope_in + 0.5 * move_in * (slope_in + s_p * curvature_in))
    else:
        lam_out = prefix.solve(key_p, float(budget), 0.0, s_p, s_p, before["demand"], before["slope"])
        value_out = prefix.at(lam_out, key_p)["value"]
        first = prefix.at(s_p, key_in)  # the first p + 1 queries: their lower bounds, largest marginal utility
        value_in = -1.0
        if first["lower"] <= budget:
            lam_in = prefix.solve(key_in, float(budget), s_p, first["top_marginal"], s_p,
                                  before["demand"] + grant_p, slope_in)
            funded = prefix.at(lam_in, key_in)
            value_in = funded["value"] if funded["demand"] <= budget * (1.0 + 1e-12) else -1.0
    if value_in > value_out:
        return Clearing(ClearingKind.JUMP_IN, s_p, key_p[1], bound, Fill(lam_in, *key_in))
    return Clearing(ClearingKind.JUMP_OUT, s_p, key_p[1], bound, Fill(lam_out, *key_p))
