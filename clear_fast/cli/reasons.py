"""The ``reason`` column of ``clear-fast allocate``: why each query got what it got, for all rows at once.

For curves, the sentences are those of :meth:`clear_fast.Allocation.why`
(without its ``query i:`` prefix, since each output row carries its id); the
command-line tests hold the two to the same text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import sentence_column
from .sentence_column import Field, sentences

FUNDED = "funded with {tokens} tokens (break-even price {breakeven} >= shadow price {price})"
NEVER_FUNDED = "abandoned: it can never be funded (its cap is below its threshold, or it has no value)"
NO_BUDGET = "abandoned: the budget is 0"
MARGINAL = (
    "abandoned as the marginal query: at its break-even price {breakeven} the demand jumps over the budget, "
    "and giving its tokens to the others was worth more than funding it"
)
AT_THE_JUMP = (
    "abandoned at the demand jump: its break-even price {breakeven} is above the shadow price {price}, "
    "but whole-token rounding left no room for its minimum grant"
)
PRICED_OUT = (
    "abandoned: its break-even price {breakeven} is below the shadow price {price}, so every token it "
    "could use buys more elsewhere"
)

LEVEL_FUNDED = "funded at level {level} ({cost} tokens, utility {utility}) at shadow price {price}"
LEVEL_PRICED_OUT = (
    "abandoned: its best utility per token ({best}: {best_value}) is below the shadow price {price} per token"
)
LEVEL_MARGINAL = (
    "abandoned: its utility per token ({best}: {best_value}) reaches the shadow price {price}, but the best "
    "choice of levels within the budget leaves it out"
)


def curve_reasons(alloc: Any) -> Any:
    """One sentence per query of a :class:`clear_fast.Allocation`, in the cases of ``Allocation.why``."""
    n = len(alloc)
    if alloc._losses is not None:
        # the whole-token search ran: its sentences depend on each query's loss, so ask ``why`` itself
        reasons = [alloc.why(i).removeprefix(f"query {i}: ") for i in range(n)]
        if not sentence_column.pyarrow_installed():  # the same switch ``sentences`` reads
            return reasons
        import pyarrow  # the column type ``sentences`` returns when pyarrow is installed

        return pyarrow.array(reasons, type=pyarrow.string())
    tokens, breakeven = alloc.tokens, alloc.breakeven
    funded = tokens > 0
    marginal = np.zeros(n, dtype=np.bool_)
    if 0 <= alloc.marginal < n:
        marginal[alloc.marginal] = True
    cases = [
        (funded, FUNDED),
        (breakeven <= 0.0, NEVER_FUNDED),
        (np.full(n, alloc.budget == 0), NO_BUDGET),
        (marginal, MARGINAL),
        (breakeven > alloc.shadow_price, AT_THE_JUMP),
        (np.ones(n, dtype=np.bool_), PRICED_OUT),
    ]
    fields: dict[str, Field | str] = {
        "tokens": Field(tokens, "d"),
        "breakeven": Field(breakeven, ".6g"),
        "price": format(alloc.shadow_price, ".6g"),
    }
    return sentences(cases, fields, n)


def level_reasons(
    names: list[str], costs: NDArray[np.float64], utilities: NDArray[np.float64], level: NDArray[np.int64], price: float
) -> Any:
    """One sentence per query of a level allocation: its level, or its best utility per token against the price."""
    n = len(level)
    rows = np.arange(n)
    per_token = np.divide(utilities, costs, out=np.full(costs.shape, np.inf), where=costs > 0)
    best = np.argmax(per_token, axis=1) if n else np.zeros(0, dtype=np.int64)
    best_value = per_token[rows, best]
    chosen = np.maximum(level, 0)  # abandoned rows read level 0 here, and their sentence does not use it
    funded = level >= 0
    words = tuple(names)
    cases = [
        (funded, LEVEL_FUNDED),
        (best_value < price, LEVEL_PRICED_OUT),
        (np.ones(n, dtype=np.bool_), LEVEL_MARGINAL),
    ]
    fields: dict[str, Field | str] = {
        "level": Field(chosen, "s", words),
        "cost": Field(costs[rows, chosen], "g"),
        "utility": Field(utilities[rows, chosen], ".4g"),
        "price": format(price, ".4g"),
        "best": Field(best, "s", words),
        "best_value": Field(best_value, ".4g"),
    }
    return sentences(cases, fields, n)
