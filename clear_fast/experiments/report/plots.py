"""The report's figures, each with one panel per stream and one line per policy."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from .panels import policy_colour, stream_grid
from .result_rows import ResultRow, names_in_order


def _series(rows: Sequence[ResultRow], stream: str, policy: str) -> list[ResultRow]:
    return sorted((r for r in rows if r.stream == stream and r.policy == policy), key=lambda r: r.budget_per_query)


def _draw_policies(
    ax: Any,
    rows: Sequence[ResultRow],
    stream: str,
    drawn: Sequence[str],
    order: Sequence[str],
    x: Callable[[ResultRow], float],
    y: Callable[[ResultRow], float],
    keep: Callable[[ResultRow], bool] = lambda row: True,
) -> None:
    """One line per policy of ``drawn`` on ``stream`` (a point per budget kept), in the policy's colour."""
    for policy in drawn:
        series = [r for r in _series(rows, stream, policy) if keep(r)]
        if series:
            ax.plot(
                [x(r) for r in series],
                [y(r) for r in series],
                marker="o", markersize=3.5, linewidth=1.8,
                color=policy_colour(policy, order), label=policy,
            )


def pareto_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Mean accuracy against total tokens spent: up and to the left is better."""
    streams, policies = names_in_order(rows)
    figure, axes = stream_grid(streams, "Accuracy against tokens used (one point per budget)")
    for stream, ax in axes.items():
        _draw_policies(ax, rows, stream, policies, policies, lambda r: r.tokens_used / 1000, lambda r: 100 * r.accuracy)
        ax.set_xlabel("total tokens used (thousands)")
        ax.set_ylabel("mean accuracy (%)")
        ax.legend(fontsize="small", loc="lower right")
    return figure, axes


def abandonment_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Share of queries given no tokens, against the budget per query."""
    streams, policies = names_in_order(rows)
    figure, axes = stream_grid(streams, "Queries abandoned against budget per query")
    for stream, ax in axes.items():
        _draw_policies(ax, rows, stream, policies, policies, lambda r: r.budget_per_query, lambda r: 100 * r.abandonment)
        ax.set_xlabel("budget per query (tokens)")
        ax.set_ylabel("abandoned (%)")
        ax.set_ylim(-3, 103)
        ax.legend(fontsize="small", loc="upper right")
    return figure, axes


def shadow_price_figure(rows: Sequence[ResultRow]) -> tuple[Figure, dict]:
    """Clearing price per token against the budget per query, for the policies that have one."""
    streams, policies = names_in_order(rows)
    priced = [p for p in policies if any(r.policy == p and not math.isnan(r.shadow_price) for r in rows)]
    figure, axes = stream_grid(streams, "Shadow price of a token against budget per query")
    for stream, ax in axes.items():
        _draw_policies(
            ax, rows, stream, priced, policies, lambda r: r.budget_per_query, lambda r: r.shadow_price,
            keep=lambda r: not math.isnan(r.shadow_price),
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
    streams, policies = names_in_order(rows)
    figure, axes = stream_grid(streams, "Accuracy against budget per query (dashed: the paper's numbers)")
    for stream, ax in axes.items():
        _draw_policies(ax, rows, stream, policies, policies, lambda r: r.budget_per_query, lambda r: 100 * r.accuracy)
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
