"""``clear-fast bench``: the solver benchmark, printed as ratios."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
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
            "scipy.special.lambertw) on the same curves and budget, and print how many times faster it "
            "is, the ratio of utilities reached and its certified gap. Needs scipy."
        ),
    )
    parser.add_argument(
        "--sizes", type=comma_separated, default=["1000", "10000", "100000"], metavar="N1,N2",
        help="numbers of queries (default 1000,10000,100000)",
    )
    parser.add_argument("--repeats", type=positive_int, default=3, metavar="R", help="best of R runs (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run and print; optionally save JSON."""
    sizes = []
    for text in args.sizes:
        if not text.isdigit() or int(text) < 1:
            raise CommandError(f"--sizes must be whole numbers of queries >= 1, got {text!r}; e.g. --sizes 1000,10000")
        sizes.append(int(text))
    if args.json and not Path(args.json).parent.exists():
        raise CommandError(f"cannot write {args.json}: its folder does not exist; create it or choose another --json")
    try:
        import scipy.special  # noqa: F401  (the baseline's Lambert W)
        import rich  # noqa: F401  (the table)
    except ImportError as error:
        raise CommandError(f"the benchmark needs scipy and rich ({error.name} is missing): `pip install scipy rich`") from None
    from rich.console import Console

    from .bench import ratio_table, run_benchmark

    status = Console(file=sys.stderr)
    rows = run_benchmark(sizes, args.repeats, progress=lambda text: status.print(f"timing {text}", highlight=False))
    Console(width=None if sys.stdout.isatty() else 120).print(ratio_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    return 0
