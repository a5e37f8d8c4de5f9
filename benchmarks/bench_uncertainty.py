"""Risk-aware allocation against plugging in the point estimate, as threshold predictions get noisier.

Each query's threshold is predicted as ``tau_hat = tau * exp(sigma z)``. Two policies
get the same predicted curves (true alpha and beta; only tau is guessed):

* point: ``clear_fast.allocate`` on ``tau_hat`` as if it were the truth;
* risk-aware: ``clear_fast.allocate_uncertain`` with ``spread = sigma``, maximising
  expected utility over ``log tau ~ Normal(log tau_hat, sigma)``.

Accuracy is realised under the TRUE curves: the expected accuracy (true cumulative
curve at the granted caps, exact) and the mean of four runs of the simulated reasoner. Oracle
allocates on the true curves. Writes benchmarks/results/uncertainty.json.

    python benchmarks/bench_uncertainty.py [--queries 500] [--seeds 5] [--stream Balanced]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

import clear_fast
from clear_fast.uncertainty import allocate_uncertain
from clear_fast.workloads import SimulatedReasoner, make_stream

SIGMAS = (0.0, 0.25, 0.5, 0.75, 1.0)
BUDGETS_PER_QUERY = (200, 300, 500, 800)
HISTORY_SIZES = (50, 200, 1000)
LEARNED_BUDGETS = (200, 300, 500)


def run(queries: int, seeds: int, stream_name: str) -> list[dict[str, float]]:
    rows = []
    for sigma in SIGMAS:
        for per_query in BUDGETS_PER_QUERY:
            point_acc, aware_acc, oracle_acc, point_real, aware_real = [], [], [], [], []
            for seed in range(seeds):
                stream = make_stream(stream_name, queries, seed=seed)
                truth = stream.curves
                noise = np.random.default_rng(1000 + seed).standard_normal(len(truth))
                guess = clear_fast.SurgeCurves(
                    truth.tau * np.exp(sigma * noise), truth.alpha, truth.beta, form="cumulative"
                )
                budget = per_query * len(truth)
                point = clear_fast.allocate(guess, budget).tokens
                aware = allocate_uncertain(guess, sigma, budget).tokens
                oracle = clear_fast.allocate(truth, budget).tokens
                assert point.sum() <= budget and aware.sum() <= budget
                point_acc.append(clear_fast.utility(truth, point).mean())
                aware_acc.append(clear_fast.utility(truth, aware).mean())
                oracle_acc.append(clear_fast.utility(truth, oracle).mean())
                for draw in range(4):  # a few independent runs of the simulated model
                    reasoner = SimulatedReasoner(truth, seed=100 * seed + draw)
                    point_real.append(reasoner.answer_many(point)[0].mean())
                    aware_real.append(reasoner.answer_many(aware)[0].mean())
            rows.append(
                {
                    "sigma": sigma,
                    "budget_per_query": per_query,
                    "point": 100 * float(np.mean(point_acc)),
                    "risk_aware": 100 * float(np.mean(aware_acc)),
                    "ratio": float(np.mean(aware_acc) / np.mean(point_acc)),
                    "oracle": 100 * float(np.mean(oracle_acc)),
                    "point_realised": 100 * float(np.mean(point_real)),
                    "risk_aware_realised": 100 * float(np.mean(aware_real)),
                }
            )
    return rows


def run_learned(queries: int, seeds: int, stream_name: str) -> list[dict[str, float]]:
    history = make_stream(stream_name, max(HISTORY_SIZES), seed=10_000)
    rows = []
    for size in HISTORY_SIZES:
        predictor = clear_fast.HistoryPredictor(prior=clear_fast.ConstantPrior.from_benchmark("MATH500"))
        predictor.update(zip(history.texts[:size], history.curves.tau[:size]))
        results: dict[int, list[tuple[float, ...]]] = {b: [] for b in LEARNED_BUDGETS}
        for seed in range(seeds):
            stream = make_stream(stream_name, queries, seed=seed)
            truth = stream.curves
            tau, spread = predictor.predict(stream.texts)
            error = float(np.mean(np.abs(np.log(tau) - np.log(truth.tau))))
            guess = clear_fast.SurgeCurves(tau, truth.alpha, truth.beta, form="cumulative")
            for per_query in LEARNED_BUDGETS:
                budget = per_query * len(truth)
                point = clear_fast.allocate(guess, budget).tokens
                aware = allocate_uncertain(guess, spread, budget).tokens
                oracle = clear_fast.allocate(truth, budget).tokens
                results[per_query].append(
                    (
                        clear_fast.utility(truth, point).mean(),
                        clear_fast.utility(truth, aware).mean(),
                        clear_fast.utility(truth, oracle).mean(),
                        error,
                        float(spread.mean()),
                    )
                )
        for per_query, values in results.items():
            point_acc, aware_acc, oracle_acc, error, spread_mean = np.mean(values, axis=0)
            rows.append(
                {
                    "history": size,
                    "budget_per_query": per_query,
                    "heldout_error": float(error),
                    "mean_spread": float(spread_mean),
                    "point": 100 * float(point_acc),
                    "risk_aware": 100 * float(aware_acc),
                    "ratio": float(aware_acc / point_acc),
                    "oracle": 100 * float(oracle_acc),
                }
            )
    return rows


def learned_table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| history | held-out error | mean spread | tokens/query | point (%) | risk-aware (%) | ratio | oracle (%) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['history']} | {r['heldout_error']:.3f} | {r['mean_spread']:.3f} | {r['budget_per_query']} | "
            f"{r['point']:.1f} | {r['risk_aware']:.1f} | {r['ratio']:.3f} | {r['oracle']:.1f} |"
        )
    return "\n".join(lines)


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| sigma | tokens/query | point (%) | risk-aware (%) | ratio | oracle (%) | realised point / risk-aware (%) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sigma']:.2f} | {r['budget_per_query']} | {r['point']:.1f} | {r['risk_aware']:.1f} | "
            f"{r['ratio']:.3f} | {r['oracle']:.1f} | {r['point_realised']:.1f} / {r['risk_aware_realised']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--stream", default="Balanced")
    args = parser.parse_args(argv)
    rows = run(args.queries, args.seeds, args.stream)
    print(f"stream {args.stream}, {args.queries} queries, {args.seeds} seeds, kernel {clear_fast.IMPLEMENTATION}")
    print("noisy predictions, tau_hat = tau * exp(sigma z):")
    print(table(rows))
    learned = run_learned(args.queries, args.seeds, args.stream)
    print("a HistoryPredictor learnt from the true thresholds of other queries:")
    print(learned_table(learned))
    out = Path(__file__).parent / "results" / "uncertainty.json"
    out.parent.mkdir(exist_ok=True)
    meta = {"queries": args.queries, "seeds": args.seeds, "stream": args.stream, "python": platform.python_version()}
    out.write_text(json.dumps({"meta": meta, "rows": rows, "learned": learned}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
