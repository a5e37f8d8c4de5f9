"""One allocation for a batch: CLEAR on the predicted curves, or its risk-aware form.

When the predictor says how unsure it is (``spread`` > 0, the standard deviation
of ``log tau``), ``clear_fast.allocate_uncertain`` picks each grant against the
expected utility over that uncertainty; otherwise ``clear_fast.allocate`` solves
the problem on the predicted thresholds exactly. The knapsack behind the first
rounds its one fractional query down, which can cost up to one query's utility
(four alike queries and room for two: it funds one), so the exact solve on the
predicted thresholds is also scored by expected utility and the better of the two
is kept. Both answers are read through one small record.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from clear_fast import Allocation, SurgeCurves, allocate, allocate_uncertain, expected_utility
from numpy.typing import NDArray


@dataclass(frozen=True)
class Solution:
    """Grants for a batch and why each input got what it got."""

    tokens: NDArray[np.int64]
    shadow_price: float
    utility: float
    upper_bound: float
    breakeven: NDArray[np.float64]
    reasons: tuple[str, ...]


def solve(curves: SurgeCurves, spread: NDArray[np.float64], budget: int, *, risk_aware: bool) -> Solution:
    """Split ``budget`` over the batch.

    Args:
        curves: Predicted curves, one per input.
        spread: Standard deviation of each input's ``log tau`` (0 = known).
        budget: Tokens the batch may spend.
        risk_aware: Use the expected-utility allocation when any spread is positive.
    """
    exact = allocate(curves, budget)
    if risk_aware and len(curves) and np.any(spread > 0):
        chosen = allocate_uncertain(curves, spread, budget)
        exact_expected = float(expected_utility(curves, spread, exact.tokens[:, None]).sum())
        if exact_expected > chosen.total_expected_utility:
            return _from_exact(exact, utility=exact_expected, upper_bound=max(chosen.upper_bound, exact_expected))
        price = chosen.shadow_price
        reasons = tuple(
            f"query {i}: funded with {t} tokens" if t else
            f"query {i}: abandoned: given its uncertain threshold, no grant's expected accuracy per token "
            f"beats the shadow price {price:.6g}"
            for i, t in enumerate(chosen.tokens.tolist())
        )
        return Solution(
            tokens=chosen.tokens,
            shadow_price=price,
            utility=chosen.total_expected_utility,
            upper_bound=chosen.upper_bound,
            breakeven=np.full(len(curves), np.nan),
            reasons=reasons,
        )
    return _from_exact(exact, utility=float(exact.utility), upper_bound=float(exact.upper_bound))


def _from_exact(exact: Allocation, *, utility: float, upper_bound: float) -> Solution:
    return Solution(
        tokens=exact.tokens,
        shadow_price=float(exact.shadow_price),
        utility=utility,
        upper_bound=upper_bound,
        breakeven=np.asarray(exact.breakeven, dtype=np.float64),
        reasons=tuple(exact.why(i) for i in range(len(exact.tokens))),
    )


def solve_shuffled(
    curves: SurgeCurves, spread: NDArray[np.float64], budget: int, *, risk_aware: bool, seed: int
) -> Solution:
    """:func:`solve` on the inputs in a seeded random order, answered in input order.

    The solvers break ties between alike inputs by position (the first ones are
    funded), which would drop the tail of a dataset whose inputs look the same to
    the predictor. Shuffling first with ``seed`` spreads the funded ones over the
    batch, the same way for the same seed. Abandoned inputs that have the same
    curve as a funded one say so in their reason.
    """
    n = len(curves)
    order = np.random.default_rng(seed).permutation(n)
    shuffled = solve(curves.subset(order), spread[order], budget, risk_aware=risk_aware)
    tokens = np.empty(n, dtype=np.int64)
    tokens[order] = shuffled.tokens
    breakeven = np.empty(n, dtype=np.float64)
    breakeven[order] = shuffled.breakeven
    reasons = [""] * n
    for position, i in enumerate(order.tolist()):
        reasons[i] = f"input {i}: " + _QUERY_PREFIX.sub("", shuffled.reasons[position])
    keys = [_key(curves, spread, i) for i in range(n)]
    alike = Counter(keys)
    funded = Counter(key for key, t in zip(keys, tokens.tolist()) if t > 0)
    for i, key in enumerate(keys):
        if tokens[i] == 0 and funded[key]:
            reasons[i] = (
                f"input {i}: abandoned: {TIED}: the budget funds {funded[key]} of the {alike[key]} inputs "
                f"with this predicted curve; which ones is decided by a shuffle seeded with {seed}"
            )
    return Solution(
        tokens=tokens, shadow_price=shuffled.shadow_price, utility=shuffled.utility,
        upper_bound=shuffled.upper_bound, breakeven=breakeven, reasons=tuple(reasons),
    )


#: Why an input was abandoned although an input with the same curve was funded.
TIED = "tied with funded inputs"
_QUERY_PREFIX = re.compile(r"^query \d+: ")


def _key(curves: SurgeCurves, spread: NDArray[np.float64], i: int) -> tuple[float, ...]:
    return (curves.tau[i], curves.alpha[i], curves.beta[i], curves.weight[i], curves.min_tokens[i],
            curves.max_tokens[i], spread[i])
