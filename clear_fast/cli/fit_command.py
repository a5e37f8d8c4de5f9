"""``clear-fast fit LOGS``: a model profile from a log of completed queries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..fit.diagnostics import DECODINGS
from ..fit.rollout_fit import SUCCESS_MODELS
from ._errors import CommandError
from ._parser import debug_option
from .table_input import INPUT_FORMATS, read_query_table
from .rollout_log import read_rollouts

DESCRIPTION = """\
Fit the model's shared curve (alpha, beta) and each logged query's threshold
from a log of completed runs, and write a model profile (JSON) that
`clear-fast allocate --profile` and the Python API (clear_fast.fit.load_profile)
read. Runs cut at their cap are treated as censored, not as failures; a run
both cut and correct (the answer came before the cap and the model went on)
counts as an answer that fitted under its cap.

Greedy decoding (temperature 0) repeats a query's answer at every cap: the
fit finds that (--decoding auto) and fits one answer per query, saying so.
--success per_query gives each query its own chance of being solved at all
(for greedy decoding: the probability that the model knows it).

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
    parser.add_argument(
        "--success",
        choices=SUCCESS_MODELS,
        default="shared",
        help="one chance of knowing an answer for every query (shared, the default) or one per query (per_query)",
    )
    parser.add_argument(
        "--decoding",
        choices=DECODINGS,
        default="auto",
        help="sampled runs, deterministic (greedy) runs, or auto: find out from repeated lengths (default auto)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read the log, fit, write the profile, print a summary to stderr."""
    import json
    import warnings

    from clear_fast.fit import FitWarning, fit_rollouts

    out = None if args.out == "-" else Path(args.out)
    if out is not None and not out.parent.exists():
        raise CommandError(f"cannot write {args.out}: folder {out.parent} does not exist; create it or choose another --out")
    rollouts = read_rollouts(read_query_table(args.logs, args.input_format))
    if not rollouts.correct.any():
        raise CommandError(
            "no run in the log is correct, so the length of a correct answer cannot be learnt; "
            "log runs with larger caps until some succeed"
        )
    with warnings.catch_warnings():
        # the fit's warnings are in its notes: printed once below, without a source line
        warnings.simplefilter("ignore", FitWarning)
        fitted = fit_rollouts(rollouts, success=args.success, decoding=args.decoding)
    if out is None:
        sys.stdout.write(json.dumps(fitted.to_dict(), indent=1) + "\n")
    else:
        fitted.save(out)
    print(_summary(fitted, args.out), file=sys.stderr)
    for note in fitted.notes:
        print(f"warning: {note}", file=sys.stderr)
    return 0


def _summary(fitted: Any, out: str) -> str:
    where = "stdout" if out == "-" else out
    return (
        f"fitted {len(fitted.query_ids)} queries from {fitted.n_runs} runs ({fitted.decoding} decoding, "
        f"{fitted.success_model} success): beta {fitted.beta:.5g} "
        f"(width {1 / fitted.beta:.4g} tokens), success probability {fitted.success_probability:.4g}, "
        f"alpha {fitted.alpha:.5g}; KS statistic {fitted.ks_statistic:.3f} (p = {fitted.ks_pvalue:.3g}); "
        f"profile written to {where}"
    )
