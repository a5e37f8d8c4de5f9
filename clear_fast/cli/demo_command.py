"""``clear-fast demo``: the paper's experiment on the built-in traffic streams, with a report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ._errors import CommandError
from ._parser import comma_separated, debug_option, whole_number

DEFAULT_BUDGETS = (100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1500)
DEFAULT_STREAMS = ("Balanced", "MostlyEasy", "MostlyHard", "UShaped")
DEFAULT_OUT = "clear-fast-report"

DESCRIPTION = """\
Run the paper's experiment on the built-in traffic streams: CLEAR against
Uniform, Proportional, SelfEstimate and Oracle, at budgets from 100 to 1500
tokens per query, with a simulated reasoning model; beside them RiskAwareCLEAR
(knows the predictor's error) and RiskAware+waves (then spends what its pass
left on the queries it abandoned or cut short). When the LangChain
integration (langchain-clear-fast) is installed, CLEAR's caps also run through
a LangChain chain (prompt | chat model | parser), checked answer by answer
against the simulation (--chain-queries 100 sends a sample: faster); without
it the chain check is skipped and the output says so.
Prints a table per stream and writes a report folder: pareto.png,
accuracy.png (with the paper's numbers dashed), abandonment.png,
shadow_price.png, results.csv, results.json.
"""


def add_parser(subparsers: Any) -> None:
    """Register ``demo`` and its options."""
    parser = subparsers.add_parser(
        "demo",
        parents=[debug_option()],
        help="the paper's experiment on built-in streams, with plots (about a minute)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", type=whole_number, default=500, metavar="N", help="queries per stream (default 500)")
    parser.add_argument("--seed", type=whole_number, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--streams",
        type=comma_separated,
        default=list(DEFAULT_STREAMS),
        metavar="A,B",
        help=f"streams to run (default {','.join(DEFAULT_STREAMS)})",
    )
    parser.add_argument(
        "--budgets",
        type=comma_separated,
        default=[str(b) for b in DEFAULT_BUDGETS],
        metavar="B1,B2",
        help="budgets in tokens per query (default 100,...,1000,1200,1500)",
    )
    parser.add_argument(
        "--chain-queries",
        default="all",
        metavar="N|all",
        help="queries per stream and budget sent through the LangChain chain with CLEAR's caps "
        "(default all; a number sends each stream's first N; needs langchain-clear-fast)",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FOLDER", help=f"report folder (default ./{DEFAULT_OUT})")
    parser.set_defaults(run=run)


def _checked_options(args: argparse.Namespace) -> tuple[list[str], list[int], int | None]:
    if args.size < 1:
        raise CommandError(f"--size must be a whole number of queries >= 1, got {args.size}; try --size 500")
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")
    by_lower = {name.lower(): name for name in DEFAULT_STREAMS}
    unknown = [s for s in args.streams if s.lower() not in by_lower]
    if unknown:
        raise CommandError(f"unknown stream {unknown[0]!r}; choose from {', '.join(DEFAULT_STREAMS)}")
    streams = [by_lower[s.lower()] for s in args.streams]
    budgets = []
    for text in args.budgets:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value >= 1 and value.is_integer()):
            raise CommandError(f"--budgets must be whole numbers of tokens per query >= 1, got {text!r}; e.g. --budgets 100,300,1000")
        budgets.append(int(value))
    if args.chain_queries == "all":
        chain_queries = None
    elif args.chain_queries.isdigit():
        chain_queries = int(args.chain_queries)
    else:
        raise CommandError(f"--chain-queries must be a whole number >= 0 or 'all', got {args.chain_queries!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {args.out} is a file; choose a folder for the report")
    return list(dict.fromkeys(streams)), sorted(set(budgets)), chain_queries


def _require_demo_extra() -> None:
    """The demo draws with matplotlib and prints with rich (the chain check is optional)."""
    import importlib

    missing = []
    for module in ("matplotlib", "rich"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise CommandError(
            f"the demo needs {', '.join(missing)}: install them with `pip install \"clear-fast[demo]\"`"
        )


def run(args: argparse.Namespace) -> int:
    """Run the experiment, print the tables, write the report."""
    streams, budgets, chain_queries = _checked_options(args)  # before the heavy imports: a typo should fail fast
    _require_demo_extra()

    from rich.console import Console

    from clear_fast import IMPLEMENTATION
    from clear_fast.experiments.demo_experiment import POLICIES, paper_reference, run_experiment
    from clear_fast.experiments.report import largest_gains, stream_tables, write_report

    # Without a terminal rich would wrap at 80 columns; a log file has room for the whole table.
    console = Console(width=None if sys.stdout.isatty() else 160)
    started = time.perf_counter()
    result = run_experiment(
        streams, budgets, size=args.size, seed=args.seed, chain_queries=chain_queries,
        show_progress=sys.stderr.isatty(),
    )
    for table in stream_tables(result.rows):
        console.print(table)
    gains = largest_gains(result.rows)
    if gains:
        console.print("Where CLEAR gains most over a uniform cap:", highlight=False)
        for sentence in gains:
            console.print(f"  {sentence}", highlight=False, soft_wrap=True)
    metadata = {
        "size": args.size,
        "seed": args.seed,
        "streams": streams,
        "budgets_per_query": budgets,
        "policies": list(POLICIES),
        "kernel": IMPLEMENTATION,
        "chain": result.chain_summary,
        "experiment_seconds": round(time.perf_counter() - started, 2),
    }
    written = write_report(result.rows, args.out, metadata=metadata, reference=paper_reference(streams))
    chain = result.chain_summary
    if "skipped" in chain:
        console.print(f"LangChain check: skipped: {chain['skipped']}.", soft_wrap=True, highlight=False)
    else:
        console.print(
            f"LangChain check: CLEAR's caps for {chain['queries_per_budget']} queries per stream and budget sent "
            f"through prompt | chat model | parser: {chain['calls']} calls, {chain['mismatches']} answers "
            "differing from the direct simulation.",
            soft_wrap=True,
        )
    console.print(f"Report: {Path(args.out).resolve()} ({', '.join(written)})", soft_wrap=True)
    console.print(f"Done in {time.perf_counter() - started:.1f} s.")
    # A difference means the chain path and the simulation disagree: a bug, not a user error.
    return 1 if chain.get("mismatches") else 0
