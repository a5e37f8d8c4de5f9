"""One allocation for a batch: CLEAR on the predicted curves, or its risk-aware form.

When the predictor says how unsure it is (``spread`` > 0, the standard deviation
of ``log tau``), ``clear_fast.allocate_uncertain`` picks each grant against the
expected utility over that uncertainty; otherwise ``clear_fast.allocate`` solves
the problem on the predicted thresholds exactly. Both answers are read through
one small record so the runnable does not care which ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from clear_fast import SurgeCurves, allocate, allocate_uncertain
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
    if risk_aware and len(curves) and np.any(spread > 0):
        chosen = allocate_uncertain(curves, spread, budget)
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
    exact = allocate(curves, budget)
    return Solution(
        tokens=exact.tokens,
        shadow_price=float(exact.shadow_price),
        utility=float(exact.utility),
        upper_bound=float(exact.upper_bound),
        breakeven=np.asarray(exact.breakeven, dtype=np.float64),
        reasons=tuple(exact.why(i) for i in range(len(curves))),
    )
