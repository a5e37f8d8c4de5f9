"""The tidy result of an evaluation: one row per (stream, policy, budget)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class EvaluationRow:
    """One policy on one stream at one budget.

    Attributes
    ----------
    stream : str
        Stream name.
    policy : str
        Policy name.
    budget_per_query : int
        Total budget divided by the number of queries.
    budget : int
        Total budget in tokens.
    accuracy : float
        Share of queries the simulated model answered right at the caps (realised).
    expected_accuracy : float
        Mean of the true cumulative curves at the caps (the realised accuracy's expectation).
    tokens_granted : int
        Sum of the caps (<= budget).
    tokens_used : int
        Tokens the simulated model actually generated (<= tokens_granted).
    abandonment_rate : float
        Share of queries with cap 0.
    shadow_price : float
        Clearing price per token, NaN for policies without one.
    predictor : str
        Description of the threshold predictor the policy was given.
    """

    stream: str
    policy: str
    budget_per_query: int
    budget: int
    accuracy: float
    expected_accuracy: float
    tokens_granted: int
    tokens_used: int
    abandonment_rate: float
    shadow_price: float
    predictor: str


_PERCENT = ("accuracy", "expected_accuracy", "abandonment_rate")


@dataclass(frozen=True)
class EvaluationResult:
    """All rows of an evaluation, in the order they were run.

    Attributes
    ----------
    rows : tuple of EvaluationRow
    """

    rows: tuple[EvaluationRow, ...]

    @classmethod
    def combine(cls, results: Iterable[EvaluationResult]) -> EvaluationResult:
        """One result holding the rows of several (e.g. one per stream)."""
        return cls(tuple(row for result in results for row in result.rows))

    def __len__(self) -> int:
        return len(self.rows)

    def to_rows(self) -> list[dict[str, Any]]:
        """The rows as plain dictionaries (JSON-ready; NaN shadow prices become None)."""
        out = []
        for row in self.rows:
            record = asdict(row)
            if math.isnan(record["shadow_price"]):
                record["shadow_price"] = None
            out.append(record)
        return out

    def series(self, stream: str, policy: str, metric: str = "accuracy") -> NDArray[np.float64]:
        """One metric of one policy on one stream, ordered by budget per query.

        Combined results that hold the same budget more than once (several
        seeds of one stream) give one entry per row, in the order run.

        Raises
        ------
        ValueError
            If ``metric`` is not a row field, or no row matches.
        """
        if metric not in {f.name for f in fields(EvaluationRow)}:
            raise ValueError(f"`metric` must be a field of EvaluationRow, got {metric!r}")
        picked = sorted(
            (r for r in self.rows if r.stream == stream and r.policy == policy), key=lambda r: r.budget_per_query
        )
        if not picked:
            raise ValueError(f"no rows for stream {stream!r} and policy {policy!r}")
        return np.array([float(getattr(r, metric)) for r in picked])

    def table(self, metric: str = "accuracy") -> str:
        """A Markdown table of one metric: a row per (stream, budget), a column per policy.

        Accuracy and rates are shown in percent with one decimal.
        """
        streams = list(dict.fromkeys(r.stream for r in self.rows))
        policies = list(dict.fromkeys(r.policy for r in self.rows))
        cells = {(r.stream, r.budget_per_query, r.policy): getattr(r, metric) for r in self.rows}
        lines = [
            "| stream | tokens/query | " + " | ".join(policies) + " |",
            "|---|---:|" + "---:|" * len(policies),
        ]
        for stream in streams:
            budgets = sorted({r.budget_per_query for r in self.rows if r.stream == stream})
            for b in budgets:
                shown = [_format(cells.get((stream, b, p)), metric) for p in policies]
                lines.append(f"| {stream} | {b} | " + " | ".join(shown) + " |")
        return "\n".join(lines)


def _format(value: float | None, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if metric in _PERCENT:
        return f"{100.0 * value:.1f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
