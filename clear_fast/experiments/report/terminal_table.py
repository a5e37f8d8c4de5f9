"""The demo's results as terminal tables: one per stream, budgets down, policies across."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.table import Table

from .result_rows import ResultRow, names_in_order

PRICED_POLICY = "CLEAR"


def stream_tables(rows: Sequence[ResultRow]) -> list[Table]:
    """A rich Table per stream: accuracy (%) of each policy, and CLEAR's abandonment and price.

    Every number is the one written to the report's CSV and JSON, rounded for
    reading (accuracy and abandonment to 0.1 point, price to 3 significant digits).
    """
    streams, policies = names_in_order(rows)
    by_key = {(r.stream, r.policy, r.budget_per_query): r for r in rows}
    tables = []
    for stream in streams:
        queries = next(r.queries for r in rows if r.stream == stream)
        table = Table(title=f"{stream} ({queries} queries): accuracy %", box=box.SIMPLE_HEAD, pad_edge=False)
        if PRICED_POLICY in policies:
            table.caption = f"abandoned% and price (shadow price per token) are {PRICED_POLICY}'s"
        table.add_column("budget", justify="right")
        for policy in policies:
            table.add_column(policy, justify="right")
        has_clear = PRICED_POLICY in policies
        if has_clear:
            table.add_column("abandoned%", justify="right")
            table.add_column("price", justify="right")
        budgets = sorted({r.budget_per_query for r in rows if r.stream == stream})
        for budget in budgets:
            cells = [str(budget)]
            for policy in policies:
                found = by_key.get((stream, policy, budget))
                cells.append("" if found is None else f"{100 * found.accuracy:.1f}")
            if has_clear:
                clear = by_key.get((stream, PRICED_POLICY, budget))
                cells.append("" if clear is None else f"{100 * clear.abandonment:.1f}")
                cells.append("" if clear is None or math.isnan(clear.shadow_price) else f"{clear.shadow_price:.3g}")
            table.add_row(*cells)
        tables.append(table)
    return tables


def largest_gains(rows: Sequence[ResultRow], policy: str = PRICED_POLICY, baseline: str = "Uniform") -> list[str]:
    """One sentence per stream: the budget where ``policy`` beats ``baseline`` by the most points."""
    sentences = []
    streams = list(dict.fromkeys(r.stream for r in rows))
    for stream in streams:
        ours = {r.budget_per_query: r.accuracy for r in rows if r.stream == stream and r.policy == policy}
        theirs = {r.budget_per_query: r.accuracy for r in rows if r.stream == stream and r.policy == baseline}
        shared = sorted(set(ours) & set(theirs))
        if not shared:
            continue
        best = max(shared, key=lambda b: (ours[b] - theirs[b], -b))
        gain = 100 * (ours[best] - theirs[best])
        sentences.append(
            f"{stream}: {policy} {100 * ours[best]:.1f}% against {baseline} {100 * theirs[best]:.1f}% "
            f"at {best} tokens per query ({gain:+.1f} points)"
        )
    return sentences
