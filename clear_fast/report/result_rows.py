"""One row of the demo's results: a policy on a stream at one budget per query."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

COLUMNS = (
    "stream",
    "policy",
    "budget_per_query",
    "queries",
    "accuracy",
    "tokens_spent",
    "abandonment",
    "shadow_price",
)


@dataclass(frozen=True)
class ResultRow:
    """Result of one policy on one stream at one budget.

    Attributes
    ----------
    stream, policy : str
        Names, e.g. ``"Balanced"`` and ``"CLEAR"``.
    budget_per_query : int
        Total budget divided by the number of queries.
    queries : int
        Number of queries in the stream.
    accuracy : float
        Share of queries answered correctly, in [0, 1].
    tokens_spent : int
        Tokens the model actually used, summed over the stream.
    abandonment : float
        Share of queries given no tokens at all, in [0, 1].
    shadow_price : float
        Clearing price per token for policies that have one, NaN otherwise.
    """

    stream: str
    policy: str
    budget_per_query: int
    queries: int
    accuracy: float
    tokens_spent: int
    abandonment: float
    shadow_price: float

    def as_dict(self) -> dict[str, Any]:
        """Plain values, NaN kept (writers decide how to spell it)."""
        return asdict(self)


def rows_from_records(records: Iterable[Mapping[str, Any]]) -> list[ResultRow]:
    """Rows from mappings with the fields of :class:`ResultRow` (as read back from JSON or CSV).

    ``None`` or an empty string for ``shadow_price`` means NaN (no price).
    """
    names = [field.name for field in fields(ResultRow)]
    out = []
    for record in records:
        missing = [name for name in names if name not in record]
        if missing:
            raise ValueError(f"`records` entry lacks {missing}: got keys {sorted(record)}")
        price = record["shadow_price"]
        out.append(
            ResultRow(
                stream=str(record["stream"]),
                policy=str(record["policy"]),
                budget_per_query=int(float(record["budget_per_query"])),
                queries=int(float(record["queries"])),
                accuracy=float(record["accuracy"]),
                tokens_spent=int(float(record["tokens_spent"])),
                abandonment=float(record["abandonment"]),
                shadow_price=math.nan if price in (None, "") else float(price),
            )
        )
    return out
