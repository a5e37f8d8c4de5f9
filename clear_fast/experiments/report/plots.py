"""The report's figures, each with one panel per stream and one line per policy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from .panels import policy_colour, stream_grid
from .result_rows import ResultRow


def _ordered(rows: Sequence[ResultRow]) -> tuple[list[str], list[str]]:
    streams: list[str] = []
    policies: list[str] = []
    for row in rows:
        if row.stream not in streams:
            streams.append(row.stream)
        if row.policy not in policies:
            policies.append(row.policy)
    return streams, policies


def _series(rows: Sequence[ResultRow], stream: str, policy: str) -> list[ResultRow]:
    return sorted((r for r in rows if r.stream == stream and r.policy == policy), key=lambda r: r.budget_per_query)


def pareto_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Mean accuracy against total tokens spent: up and to the left is better."""
    streams, policies = _ordered(rows)
    figure, axes = stream_grid(streams, "Accuracy against tokens used (one point per budget)")
    for stream, ax in axes.items():
        for policy in policies:
            series = _series(rows, stream, policy)
            if series:
                ax.plot(
                    [r.tokens_used / 1000 for r in series],
                    [100 * r.accuracy for r in series],
                    marker="o", markersize=3.5, linewidth=1.8,
                    color=policy_colour(policy, policies), label=policy,
                )
        ax.set_xlabel("total tokens used (thousands)")
        ax.set_ylabel("mean accuracy (%)")
        ax.legend(fontsize="small", loc="lower right")
    return figure, axes


def abandonment_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Share of queries given no tokens, against the budget per query."""
    streams, policies = _ordered(rows)
    figure, axes = stream_grid(streams, "Queries abandoned against budget per query")
    for stream, ax in axes.items():
        for policy in policies:
            series = _series(rows, stream, policy)
            if series:
                ax.plot(
                    [r.budget_per_query for r in series],
                    [100 * r.abandonment for r in series],
                    marker="o", markersize=3.5, linewidth=1.8,
                    color=policy_colour(policy, policies), label=policy,
                )
        ax.set_xlabel("budget per query (tokens)")
        ax.set_ylabel("abandoned (%)")
        ax.set_ylim(-3, 103)
        ax.legend(fontsize="small", loc="upper right")
    return figure, axes


def shadow_price_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Clearing price per token against the budget per query, for the policies that have one."""
    streams, policies = _ordered(rows)
    priced = [p for p in policies if any(r.policy == p and not math.isnan(r.shadow_price) for r in rows)]
    figure, axes = stream_grid(streams, "Shadow price of a token against budget per query")
    for stream, ax in axes.items():
        for policy in priced:
            series = [r for r in _series(rows, stream, policy) if not math.isnan(r.shadow_price)]
            if series:
                ax.plot(
                    [r.budget_per_query for r in series],
                    [r.shadow_price for r in series],
                    marker="o", markersize=3.5, linewidth=1.8,
                    color=policy_colour(policy, policies), label=policy,
                )
        ax.set_xlabel("budget per query (tokens)")
        ax.set_ylabel("shadow price (utility per token)")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        if priced:
            ax.legend(fontsize="small", loc="upper right")
    return figure, axes


def accuracy_figure(rows: Sequence[ResultRow], reference: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> tuple[Figure, dict]:
    """Mean accuracy against the budget per query, with published numbers dashed beside ours.

    ``reference[stream]`` holds ``"budget_per_query"`` and, per policy, accuracies
    in percent at those budgets (e.g. the paper's CLEAR and Uniform).
    """
    streams, policies = _ordered(rows)
    figure, axes = stream_grid(streams, "Accuracy against budget per query (dashed: the paper's numbers)")
    for stream, ax in axes.items():
        for policy in policies:
            series = _series(rows, stream, policy)
            if series:
                ax.plot(
                    [r.budget_per_query for r in series],
                    [100 * r.accuracy for r in series],
                    marker="o", markersize=3.5, linewidth=1.8,
                    color=policy_colour(policy, policies), label=policy,
                )
        published = (reference or {}).get(stream, {})
        for policy, values in published.items():
            if policy == "budget_per_query":
                continue
            ax.plot(
                published["budget_per_query"], values, linestyle="--", linewidth=1.4,
                color=policy_colour(policy, policies), label=f"{policy} (paper)",
            )
        ax.set_xlabel("budget per query (tokens)")
        ax.set_ylabel("mean accuracy (%)")
        ax.legend(fontsize="small", loc="lower right", ncol=2 if published else 1)
    return figure, axes
