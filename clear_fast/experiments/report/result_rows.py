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
    "expected_accuracy",
    "tokens_granted",
    "tokens_used",
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
        Share of queries the model answered correctly at their caps, in [0, 1].
    expected_accuracy : float
        The same, expected from the true curves (no sampling noise), in [0, 1].
    tokens_granted : int
        Sum of the caps (never above the budget).
    tokens_used : int
        Tokens the model actually generated, summed over the stream.
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
    expected_accuracy: float
    tokens_granted: int
    tokens_used: int
    abandonment: float
    shadow_price: float

    def as_dict(self) -> dict[str, Any]:
        """Plain values, NaN kept (writers decide how to spell it)."""
        return asdict(self)


def names_in_order(rows: Iterable[ResultRow]) -> tuple[list[str], list[str]]:
    """The streams and the policies of ``rows``, each in the order it first appears."""
    streams: list[str] = []
    policies: list[str] = []
    for row in rows:
        if row.stream not in streams:
            streams.append(row.stream)
        if row.policy not in policies:
            policies.append(row.policy)
    return streams, policies


_INTEGERS = {"budget_per_query", "queries", "tokens_granted", "tokens_used"}
_TEXT = {"stream", "policy"}


def rows_from_records(records: Iterable[Mapping[str, Any]]) -> list[ResultRow]:
    """Rows from mappings with the fields of :class:`ResultRow` (as read back from JSON or CSV).

    ``None`` or an empty string for a number means NaN (e.g. no shadow price).

    Raises
    ------
    ValueError
        If a record lacks a field.
    """
    names = [field.name for field in fields(ResultRow)]
    out = []
    for record in records:
        missing = [name for name in names if name not in record]
        if missing:
            raise ValueError(f"`records` entry lacks {missing}: got keys {sorted(record)}")
        values: dict[str, Any] = {}
        for name in names:
            raw = record[name]
            if name in _TEXT:
                values[name] = str(raw)
            elif name in _INTEGERS:
                values[name] = int(float(raw))
            else:
                values[name] = math.nan if raw in (None, "") else float(raw)
        out.append(ResultRow(**values))
    return out
