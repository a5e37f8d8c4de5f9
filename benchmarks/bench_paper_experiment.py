"""The paper's experiment on simulated traffic: five policies, four streams, 100 to 1500 tokens per query.

Prints, per stream and budget, the mean accuracy (%) of CLEAR, Uniform,
Proportional, SelfEstimate and Oracle (the paper's policies), of a
risk-aware CLEAR that knows the predictor's error and of the same followed by
waves (what its pass did not use, spent on what it abandoned or cut short), CLEAR's abandonment rate,
and the paper's CLEAR / Uniform / abandonment numbers beside them; then how
CLEAR's gain over Uniform shrinks as the threshold predictor gets noisier. Writes everything as JSON to benchmarks/results/paper_experiment.json.

    python benchmarks/bench_paper_experiment.py [--queries 500] [--seeds 1] [--sigma 0.2]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

import clear_fast
from clear_fast.evaluation import (
    PAPER_BUDGETS_PER_QUERY,
    ClearPolicy,
    EvaluationResult,
    RiskAwareClearPolicy,
    UniformPolicy,
    WavesPolicy,
    evaluate,
    paper_policies,
)
from clear_fast.workloads import CALIBRATION, STREAM_MIXES, STREAM_SHAPES, NoisyThresholdOracle, make_stream, paper_data

RESULTS = Path(__file__).resolve().parent / "results"
NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
POLICY_ORDER = ("CLEAR", "RiskAwareCLEAR", "RiskAware+waves", "Uniform", "Proportional", "SelfEstimate", "Oracle")


def run_streams(queries: int, seeds: int, sigma: float) -> EvaluationResult:
    """Every policy on every stream shape, for stream seeds 0 .. seeds-1."""
    parts = []
    for shape in STREAM_SHAPES:
        for seed in range(seeds):
            stream = make_stream(shape, queries, seed=seed)
            predictor = NoisyThresholdOracle(stream, sigma, seed=seed)
            policies = (*paper_policies(), RiskAwareClearPolicy(sigma), WavesPolicy(sigma))
            parts.append(evaluate(stream, policies, PAPER_BUDGETS_PER_QUERY, reasoner_seed=seed, predictor=predictor))
    return EvaluationResult.combine(parts)


def mean_over_seeds(result: EvaluationResult, shape: str, policy: str, metric: str) -> np.ndarray:
    """A metric by budget, averaged over the stream seeds in ``result``."""
    rows = [r for r in result.rows if r.stream == shape and r.policy == policy]
    budgets = sorted({r.budget_per_query for r in rows})
    return np.array([np.mean([getattr(r, metric) for r in rows if r.budget_per_query == b]) for b in budgets])


def comparison_table(result: EvaluationResult) -> tuple[str, list[dict]]:
    """Markdown table of our accuracies beside the paper's, and the same as records."""
    paper = paper_data()["clear_vs_uniform"]
    header = (
        "| stream | tokens/query | " + " | ".join(POLICY_ORDER) + " | CLEAR abandoned "
        "| paper CLEAR | paper Uniform | paper abandoned |"
    )
    lines = [header, "|---|---:|" + "---:|" * (len(POLICY_ORDER) + 4)]
    records = []
    for shape in STREAM_SHAPES:
        ours = {p: 100 * mean_over_seeds(result, shape, p, "accuracy") for p in POLICY_ORDER}
        abandoned = 100 * mean_over_seeds(result, shape, "CLEAR", "abandonment_rate")
        for j, b in enumerate(PAPER_BUDGETS_PER_QUERY):
            cells = [f"{ours[p][j]:.1f}" for p in POLICY_ORDER] + [f"{abandoned[j]:.0f}"]
            theirs = [f"{paper[shape]['clear'][j]:.1f}", f"{paper[shape]['uniform'][j]:.1f}", f"{paper[shape]['abandoned'][j]:.0f}"]
            lines.append(f"| {shape} | {b} | " + " | ".join(cells + theirs) + " |")
            records.append(
                {"stream": shape, "budget_per_query": b, **{p: round(float(ours[p][j]), 2) for p in POLICY_ORDER},
                 "CLEAR_abandoned": round(float(abandoned[j]), 2), "paper_clear": paper[shape]["clear"][j],
                 "paper_uniform": paper[shape]["uniform"][j], "paper_abandoned": paper[shape]["abandoned"][j]}
            )
    return "\n".join(lines), records


def noise_sweep(queries: int, seeds: int, budget_per_query: int = 300) -> list[dict]:
    """CLEAR, risk-aware CLEAR and Uniform on Balanced at one budget, for growing predictor noise."""
    out = []
    for sigma in NOISE_LEVELS:
        totals = {"CLEAR": 0.0, "RiskAwareCLEAR": 0.0, "Uniform": 0.0}
        for seed in range(seeds):
            stream = make_stream("Balanced", queries, seed=seed)
            predictor = NoisyThresholdOracle(stream, sigma, seed=seed)
            policies = [ClearPolicy(), RiskAwareClearPolicy(sigma), UniformPolicy()]
            result = evaluate(stream, policies, [budget_per_query], reasoner_seed=seed, predictor=predictor)
            for name in totals:
                totals[name] += 100 * result.series("Balanced", name)[0] / seeds
        out.append({"sigma": sigma, "clear": totals["CLEAR"], "risk_aware_clear": totals["RiskAwareCLEAR"], "uniform": totals["Uniform"]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500, help="queries per stream (paper: 500)")
    parser.add_argument("--seeds", type=int, default=1, help="stream seeds to average over")
    parser.add_argument("--sigma", type=float, default=0.2, help="threshold predictor error, log-tokens")
    args = parser.parse_args(argv)

    result = run_streams(args.queries, args.seeds, args.sigma)
    table, records = comparison_table(result)
    sweep = noise_sweep(args.queries, args.seeds)
    print(f"Accuracy (%), {args.queries} queries per stream, {args.seeds} seed(s), predictor sigma {args.sigma}:")
    print(table)
    print("\nCLEAR and risk-aware CLEAR against Uniform on Balanced at 300 tokens/query as the predictor's error grows:")
    print("| sigma | CLEAR | RiskAwareCLEAR | Uniform | CLEAR / Uniform | RiskAwareCLEAR / Uniform |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in sweep:
        clear, risk, uniform = row["clear"], row["risk_aware_clear"], row["uniform"]
        print(f"| {row['sigma']:g} | {clear:.1f} | {risk:.1f} | {uniform:.1f} | {clear / uniform:.2f} | {risk / uniform:.2f} |")

    RESULTS.mkdir(exist_ok=True)
    report = {
        "command": "python benchmarks/bench_paper_experiment.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "queries": args.queries,
        "seeds": args.seeds,
        "predictor_sigma": args.sigma,
        "implementation": clear_fast.IMPLEMENTATION,
        "python": platform.python_version(),
        "calibration": {"width": CALIBRATION.width, "success": dict(CALIBRATION.success)},
        "mixes": {k: dict(v) for k, v in STREAM_MIXES.items()},
        "table": records,
        "noise_sweep": sweep,
        "rows": result.to_rows(),
    }
    path = RESULTS / "paper_experiment.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
