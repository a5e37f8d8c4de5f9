"""``clear-fast allocate INPUT --budget N``: per-query token caps for a table of queries."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ._errors import CommandError
from ._parser import debug_option, whole_number
from .level_columns import level_names
from .model_profile import ModelProfile, read_model_profile
from .query_table import QueryTable
from .reasons import curve_reasons, level_reasons
from .result_table import OUTPUT_FORMATS, output_format, write_table
from .table_input import INPUT_FORMATS, read_query_table

DESCRIPTION = """\
Split one token budget across the queries in INPUT (CSV, JSON Lines, or Parquet
when pyarrow is installed; - reads stdin) and write each query's cap. With
pyarrow installed, files are read and written in columns (a million rows take
seconds).

Columns (names are case-insensitive; unknown columns are ignored):
  id          optional; row numbers 1..n when absent
  tau         emergence threshold in tokens; may be left out for queries the
              --profile was fitted on (their fitted threshold is used)
  alpha, beta the curve's slope at onset and decay rate; may be left out when
              --profile or --alpha/--beta give model-wide values
  weight      optional value of the query (default 1)
  min_tokens  optional smallest useful grant (default 0)
  max_tokens  optional hard cap (empty = none)
With --levels, instead: cost_<level> and utility_<level> for each effort level.

Output columns: id, tokens (0 = abandoned), funded, breakeven_price, reason
(with --levels: id, level, tokens, utility, funded, reason), and with
--provider a `request` column: the request fields that apply the cap for that
provider (with --levels and openai, the level name is the reasoning_effort);
empty for abandoned queries, which must not be sent. The shadow price,
utility, upper bound and gap are printed to stderr.
"""


def add_parser(subparsers: Any) -> None:
    """Register ``allocate`` and its options."""
    parser = subparsers.add_parser(
        "allocate",
        parents=[debug_option()],
        help="token caps for your own queries under one budget",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="queries file (.csv, .jsonl, .parquet), or - for stdin")
    parser.add_argument("--budget", type=whole_number, required=True, metavar="N", help="total tokens for all queries")
    parser.add_argument("--profile", metavar="MODEL.json", help="model profile written by `clear-fast fit`")
    parser.add_argument("--alpha", type=float, help="alpha for rows without one (overrides the profile)")
    parser.add_argument("--beta", type=float, help="beta for rows without one (overrides the profile)")
    parser.add_argument(
        "--form", choices=("surge", "cumulative"), help="utility form (default: the profile's, else surge)"
    )
    parser.add_argument("--levels", action="store_true", help="discrete effort levels: cost_<level>, utility_<level>")
    parser.add_argument(
        "--provider", choices=("openai", "anthropic", "google", "vllm"),
        help="add a `request` column with the provider's request fields for each cap",
    )
    parser.add_argument("--out", default="-", metavar="PATH", help="where to write the caps (default - = stdout)")
    parser.add_argument(
        "--format", choices=OUTPUT_FORMATS,
        help="output format (default: from --out's extension; csv on stdout; parquet needs pyarrow)",
    )
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="input format (default: from INPUT's extension)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read, allocate, write; print the certificate to stderr."""
    if args.budget < 0:
        raise CommandError(f"--budget must be a whole number of tokens >= 0, got {args.budget}; pass e.g. --budget 50000")
    if args.levels:
        curve_options = [name for name, value in (("--profile", args.profile), ("--alpha", args.alpha),
                                                  ("--beta", args.beta), ("--form", args.form)) if value is not None]
        if curve_options:
            raise CommandError(
                f"{curve_options[0]} describes curves and does not apply with --levels, which reads "
                "cost_<level>/utility_<level> columns; drop one of them"
            )
    table_format = output_format(args.out, args.format)  # refuse a bad --out before any work
    table = read_query_table(args.input, args.input_format)
    ids = table.ids()
    if args.levels:
        columns, summary = _allocate_levels(table, args.budget)
    else:
        columns, summary = _allocate_curves(table, ids, args)
    if args.provider:
        columns["request"] = _requests(columns, args.provider, with_levels=args.levels)
    write_table(args.out, table_format, {"id": ids, **columns})
    print(summary, file=sys.stderr)
    return 0


def _allocate_curves(table: QueryTable, ids: Any, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    import clear_fast as cf

    profile = read_model_profile(args.profile) if args.profile else None
    if not table.has("tau") and profile is None:
        found = ", ".join(table.columns) or "none"
        raise CommandError(
            f"{table.source} has no `tau` column (columns found: {found}); name the threshold column `tau`, "
            "pass --profile MODEL.json for queries it was fitted on, or --levels for cost_<level>/utility_<level> columns"
        )
    alpha_default = args.alpha if args.alpha is not None else (profile.alpha if profile else None)
    beta_default = args.beta if args.beta is not None else (profile.beta if profile else None)
    form = args.form or (profile.form if profile else "surge")
    for name, value in (("--alpha", args.alpha), ("--beta", args.beta)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise CommandError(f"{name} must be a finite number > 0, got {value}")
    fix = "add `alpha` and `beta` columns, or pass --alpha and --beta, or --profile MODEL.json"
    tau = _thresholds(table, ids, profile)
    alpha = table.numbers("alpha", default=alpha_default, strictly_positive=True, fix=fix)
    beta = table.numbers("beta", default=beta_default, strictly_positive=True, fix=fix)
    weight = table.numbers("weight", default=1.0, minimum=0.0)
    min_tokens = table.numbers("min_tokens", default=0.0, minimum=0.0)
    max_tokens = table.numbers("max_tokens", default=float("inf"), strictly_positive=True, allow_inf=True)
    crossed = np.flatnonzero(min_tokens > max_tokens)
    if crossed.size:
        i = int(crossed[0])
        raise CommandError(
            f"{table.source}, {table.locate(i)}: min_tokens {min_tokens[i]:g} is above max_tokens {max_tokens[i]:g}; "
            "lower min_tokens or raise max_tokens"
        )
    curves = cf.SurgeCurves(tau, alpha, beta, weight=weight, min_tokens=min_tokens, max_tokens=max_tokens, form=form)
    alloc = cf.allocate(curves, args.budget)
    columns = {
        "tokens": alloc.tokens,
        "funded": alloc.funded,
        "breakeven_price": alloc.breakeven,
        "reason": curve_reasons(alloc),
    }
    summary = _summary(alloc, int(np.count_nonzero(alloc.funded)), len(table), int(alloc.tokens.sum()), args.budget)
    return columns, summary


def _requests(columns: dict[str, Any], provider: str, *, with_levels: bool) -> list:
    """Each row's provider request fields (None for abandoned queries: no request at all)."""
    from clear_fast.calls import grants_to_requests

    levels = columns.get("level")
    efforts = None
    if with_levels and provider == "openai" and levels is not None:
        efforts = [level or None for level in (levels if isinstance(levels, list) else levels.to_pylist())]
    return grants_to_requests(provider, np.asarray(columns["tokens"], dtype=np.int64), efforts=efforts)


def _thresholds(table: QueryTable, ids: Any, profile: ModelProfile | None) -> np.ndarray:
    """The ``tau`` column; an empty cell takes the profile's fitted threshold of that id."""
    fitted = profile.tau_by_id if profile else {}
    empty = np.flatnonzero(table.missing("tau"))
    tau = table.numbers("tau", default=0.0, minimum=0.0)  # empty cells are filled just below
    if empty.size:
        names = ids.take(empty).to_pylist() if hasattr(ids, "take") else [ids[i] for i in empty.tolist()]
        for i, query_id in zip(empty.tolist(), names):
            if query_id not in fitted:
                where = "the profile's fitted queries" if profile else "a profile (--profile)"
                raise CommandError(
                    f"{table.source}, {table.locate(i)}: no `tau` for query {query_id!r}, and it is not among {where}; "
                    "give it a threshold in a `tau` column"
                )
            tau[i] = fitted[query_id]
    return tau


def _allocate_levels(table: QueryTable, budget: int) -> tuple[dict[str, Any], str]:
    import clear_fast as cf

    names = level_names(table)
    costs = np.column_stack([table.numbers(f"cost_{name}", minimum=0.0, fix="give every query a cost per level") for name in names])
    utilities = np.column_stack(
        [table.numbers(f"utility_{name}", minimum=0.0, fix="give every query a utility per level") for name in names]
    )
    result = cf.allocate_levels(costs, utilities, budget)
    level = np.asarray(result.level, dtype=np.int64)
    funded = level >= 0
    rows = np.arange(len(level))
    chosen = np.maximum(level, 0)
    columns = {
        "level": [names[k] if k >= 0 else "" for k in level.tolist()],
        "tokens": np.asarray(result.tokens, dtype=np.int64),
        "utility": np.where(funded, utilities[rows, chosen], 0.0),
        "funded": funded,
        "reason": level_reasons(names, costs, utilities, level, result.shadow_price),
    }
    summary = _summary(result, int(np.count_nonzero(funded)), len(table), int(result.tokens.sum()), budget)
    return columns, summary


def _summary(result: Any, funded: int, n: int, spent: int, budget: int) -> str:
    bound, gap = result.upper_bound, result.gap
    relative = f" ({100 * gap / bound:.2f}% of the bound)" if bound > 0 else ""
    proof = "proven optimal" if result.optimal else f"not proven optimal ({result.search})"
    return (
        f"shadow price {result.shadow_price:.6g} per token; utility {result.utility:.6g}; upper bound {bound:.6g}; "
        f"gap {gap:.4g}{relative}; {proof}; funded {funded} of {n}; spent {spent} of {budget} tokens"
    )
