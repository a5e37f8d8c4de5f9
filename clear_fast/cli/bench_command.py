"""``clear-fast bench``: the solver benchmark, printed as ratios."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._errors import CommandError
from ._parser import comma_separated, debug_option, positive_int


def add_parser(subparsers: Any) -> None:
    """Register ``bench`` and its options."""
    parser = subparsers.add_parser(
        "bench",
        parents=[debug_option()],
        help="time the solver against the paper's price bisection and print the ratios",
        description=(
            "Time clear_fast.allocate against the paper's price bisection (written with numpy and "
            "scipy.special.lambertw) and numpy.argsort on the same curves and budget, and print how many "
            "times faster it is than the bisection, how many sorts it costs, the ratio of utilities "
            "reached and its certified gap. Needs scipy."
        ),
    )
    parser.add_argument(
        "--sizes", type=comma_separated, default=["1000", "10000", "100000"], metavar="N1,N2",
        help="numbers of queries (default 1000,10000,100000)",
    )
    parser.add_argument("--repeats", type=positive_int, default=5, metavar="R", help="median of R runs (default 5)")
    parser.add_argument(
        "--baseline-repeats", type=positive_int, default=1, metavar="R", help="median of R bisection runs (default 1)"
    )
    parser.add_argument("--memory", action="store_true", help="also measure peak memory per query (Linux)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run and print; optionally save JSON."""
    sizes = []
    for text in args.sizes:
        if not text.isdigit() or int(text) < 1:
            raise CommandError(f"--sizes must be whole numbers of queries >= 1, got {text!r}; e.g. --sizes 1000,10000")
        sizes.append(int(text))
    if args.json and not Path(args.json).resolve().parent.exists():
        raise CommandError(f"cannot write {args.json}: its folder does not exist; create it or choose another --json")
    try:
        import rich  # noqa: F401  (the table)
        import scipy.special  # noqa: F401  (the baseline's Lambert W)
    except ImportError as error:
        raise CommandError(f"the benchmark needs scipy and rich ({error.name} is missing): `pip install scipy rich`") from None
    from rich.console import Console

    from clear_fast.experiments.solver_benchmark import BUDGET_PER_QUERY, memory_is_measurable, run_benchmark

    if args.memory and not memory_is_measurable():
        raise CommandError("--memory reads Linux's /proc/self/clear_refs, which this system does not have; drop --memory")
    status = Console(file=sys.stderr)
    rows = run_benchmark(
        sizes, args.repeats, args.baseline_repeats, memory=args.memory,
        progress=lambda row: status.print(f"measured {row.form}, {row.parameters}, {row.n:,} queries", highlight=False),
    )
    Console(width=None if sys.stdout.isatty() else 170).print(ratio_table(rows))
    if args.json:
        payload = {"budget_per_query": BUDGET_PER_QUERY, "rows": [row.as_dict() for row in rows]}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


def ratio_table(rows: Sequence[Any]) -> Any:
    """The benchmark's rows (``BenchRow``) as a rich Table: ratios first, median times for reference."""
    from rich import box
    from rich.table import Table

    import clear_fast as cf

    table = Table(
        title=f"clear_fast.allocate ({cf.IMPLEMENTATION} kernel) beside the paper's price bisection and argsort",
        box=box.SIMPLE_HEAD,
    )
    show_memory = any(not math.isnan(r.peak_extra_bytes_per_query) for r in rows)
    names = ["form", "parameters", "queries", "bisection/allocate", "allocate/argsort", "utility ratio", "gap %"]
    names += ["bytes/query"] if show_memory else []
    names += ["allocate ms", "bisection ms"]
    for name in names:
        table.add_column(name, justify="left" if name in ("form", "parameters") else "right")
    for r in rows:
        cells = [
            r.form, r.parameters, f"{r.n:,}", f"{r.bisection_over_allocate:.1f}x", f"{r.allocate_over_argsort:.2f}x",
            f"{r.utility_over_bisection:.5f}", f"{r.certified_gap_percent:.4f}",
        ]
        cells += [f"{r.peak_extra_bytes_per_query:.1f}"] if show_memory else []
        cells += [f"{1e3 * r.allocate_s:.2f}", f"{1e3 * r.bisection_s:.2f}"]
        table.add_row(*cells)
    return table
