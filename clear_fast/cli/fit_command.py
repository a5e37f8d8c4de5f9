"""``clear-fast fit LOGS``: a model profile from a log of completed queries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._errors import CommandError
from ._parser import debug_option
from .table_input import INPUT_FORMATS, read_query_table
from .rollout_log import read_rollouts

DESCRIPTION = """\
Fit the model's shared curve (alpha, beta) and each logged query's threshold
from a log of completed runs, and write a model profile (JSON) that
`clear-fast allocate --profile` and the Python API (clear_fast.fit.load_profile)
read. Runs cut at their cap are treated as censored, not as failures.

LOGS is CSV, JSON Lines or Parquet (- = stdin), one row per run:
  query_id     the query (or `query`, `id`); a query may have several runs
  cap          the run's token cap (or `max_tokens`; empty = uncapped)
  tokens_used  tokens the run generated (or `tokens`, `output_tokens`)
  cut          true when the run stopped at its cap
               (or `finish_reason`: "length" means cut)
  correct      true when the answer was right
"""


def add_parser(subparsers: Any) -> None:
    """Register ``fit`` and its options."""
    parser = subparsers.add_parser(
        "fit",
        parents=[debug_option()],
        help="fit a model profile from a log of completed queries",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("logs", metavar="LOGS", help="log file (.csv, .jsonl, .parquet), or - for stdin")
    parser.add_argument("--out", default="model.json", metavar="PATH", help="profile to write (default model.json; - = stdout)")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="log format (default: from the extension)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read the log, fit, write the profile, print a summary to stderr."""
    import json

    from clear_fast.fit import fit_rollouts

    out = None if args.out == "-" else Path(args.out)
    if out is not None and not out.parent.exists():
        raise CommandError(f"cannot write {args.out}: folder {out.parent} does not exist; create it or choose another --out")
    rollouts = read_rollouts(read_query_table(args.logs, args.input_format))
    if not rollouts.correct.any():
        raise CommandError(
            "no run in the log is correct, so the length of a correct answer cannot be learnt; "
            "log runs with larger caps until some succeed"
        )
    fitted = fit_rollouts(rollouts)
    if out is None:
        sys.stdout.write(json.dumps(fitted.to_dict(), indent=1) + "\n")
    else:
        fitted.save(out)
    print(_summary(fitted, args.out), file=sys.stderr)
    return 0


def _summary(fitted: Any, out: str) -> str:
    where = "stdout" if out == "-" else out
    return (
        f"fitted {len(fitted.query_ids)} queries from {fitted.n_runs} runs: beta {fitted.beta:.5g} "
        f"(width {1 / fitted.beta:.4g} tokens), success probability {fitted.success_probability:.4g}, "
        f"alpha {fitted.alpha:.5g}; KS statistic {fitted.ks_statistic:.3f} (p = {fitted.ks_pvalue:.3g}); "
        f"profile written to {where}"
    )
