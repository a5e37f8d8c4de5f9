"""What a pacer answers: a cap per query at the current price, and why."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class Quote:
    """Caps for one query or one burst of queries.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n,)
        The cap to give each query; 0 means abandon it (never send it to the model).
    price : float
        The price per token the quote was made at (``inf`` while the pacer is
        ahead of its schedule by more than its catch-up horizon). For a tenant
        with a fairness discount, the discounted price.
    breakeven : ndarray of float64, shape (n,)
        Each query's break-even price: it is funded only when this beats ``price``.
    budget_limited : ndarray of bool, shape (n,)
        Queries cut (or abandoned) because the period's remaining budget was
        smaller than their best response.
    remaining : int
        Tokens left in the period when the quote was made.
    """

    tokens: NDArray[np.int64]
    price: float
    # stored privately and read through a property, as ``Allocation.breakeven`` is
    _breakeven: NDArray[np.float64]
    budget_limited: NDArray[np.bool_]
    remaining: int

    @property
    def breakeven(self) -> NDArray[np.float64]:
        """Each query's break-even price: it is funded only when this beats ``price``."""
        return self._breakeven

    @property
    def funded(self) -> NDArray[np.bool_]:
        """Queries that get tokens."""
        return self.tokens > 0

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def why(self, index: int = 0) -> str:
        """A sentence saying why query ``index`` got its cap."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"`index` {index} out of range for {n} queries")
        i = index % n
        be, lam, granted = float(self.breakeven[i]), self.price, int(self.tokens[i])
        if granted and self.budget_limited[i]:
            return f"funded with {granted} tokens, cut to what is left of the period's budget ({self.remaining})"
        if granted:
            return f"funded with {granted} tokens: its break-even price {be:.6g} beats the current price {lam:.6g}"
        if self.budget_limited[i]:
            return f"abandoned: the period's budget is spent ({self.remaining} tokens left, too few for this query)"
        if be <= 0.0:
            return "abandoned: it can never be funded (its cap is below its threshold, or it has no value)"
        if math.isinf(lam):
            return "abandoned: spending is ahead of the budget's schedule, so the pacer funds nothing until it catches up"
        return (
            f"abandoned: its break-even price {be:.6g} is below the current price {lam:.6g}, "
            "so the tokens it needs buy more accuracy elsewhere"
        )
