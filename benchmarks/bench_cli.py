"""``clear-fast allocate`` on a million rows, beside the pyarrow + ``cf.allocate`` script a user would write.

Both sides start as fresh processes on the same Parquet file of n queries (id,
tau, alpha, beta, weight; per-query parameters) and the same budget, and are
timed from process start to exit, interpreter start and imports included.
CPU time (user + system, every thread) and peak memory (the maximum resident
set) come from ``os.wait4``. The runs alternate, and each figure is the median
of ``--repeats`` runs. On a machine shared with other work, wall time swings
with the load; CPU time much less: both ratios are printed.

* baseline: ``pyarrow.parquet.read_table`` -> NumPy columns -> ``cf.SurgeCurves`` ->
  ``cf.allocate`` -> a table of id, tokens, funded and break-even price written
  with pyarrow (Parquet, or CSV for the CSV case);
* command: ``clear-fast allocate IN --budget B --out OUT``, which also checks
  every value, refuses duplicate ids, and writes a reason per query.

The targets: the command within 2x of the baseline in time and in peak memory.
Prints a table and writes benchmarks/results/bench_cli.json.

    python benchmarks/bench_cli.py [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import clear_fast as cf

RESULTS = Path(__file__).resolve().parent / "results" / "bench_cli.json"
BUDGET_PER_QUERY = 300

# What a user would write without the command: read, allocate, write, nothing checked.
BASELINE = """
import sys
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import clear_fast as cf

source, budget, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
table = pq.read_table(source)
column = lambda name: table.column(name).to_numpy()
curves = cf.SurgeCurves(column("tau"), column("alpha"), column("beta"), weight=column("weight"))
alloc = cf.allocate(curves, budget)
result = pa.table({"id": table.column("id"), "tokens": alloc.tokens, "funded": alloc.funded,
                   "breakeven_price": alloc.breakeven})
if out.endswith(".csv"):
    pyarrow.csv.write_csv(result, out)
else:
    pq.write_table(result, out)
"""


def write_queries(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    table = pa.table({
        "id": [f"q{i:07d}" for i in range(n)],
        "tau": np.round(rng.uniform(40, 1500, n), 1),
        "alpha": rng.uniform(0.008, 0.012, n),
        "beta": rng.uniform(0.004, 0.006, n),
        "weight": rng.choice([1.0, 2.0], n),
    })
    pq.write_table(table, path)


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak resident bytes of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed with status {process.returncode}: {errors}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def command_line() -> list[str]:
    return [sys.executable, "-m", "clear_fast.cli", "allocate"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    budget = BUDGET_PER_QUERY * args.rows
    env_note = (
        f"clear_fast {cf.__version__} ({cf.IMPLEMENTATION} kernel), pyarrow {pa.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus"
    )
    print(env_note, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        source = Path(folder) / "queries.parquet"
        write_queries(source, args.rows)
        for output in ("parquet", "csv"):
            out_baseline, out_command = Path(folder) / f"baseline.{output}", Path(folder) / f"caps.{output}"
            sides: dict[str, list[tuple[float, float, int]]] = {"baseline": [], "command": []}
            for _ in range(args.repeats):
                sides["baseline"].append(run_measured(
                    [sys.executable, "-c", BASELINE, str(source), str(budget), str(out_baseline)]))
                sides["command"].append(run_measured(
                    [*command_line(), str(source), "--budget", str(budget), "--out", str(out_command)]))
            check_same_caps(out_baseline, out_command, output)
            seconds = {side: statistics.median(t for t, _, _ in runs) for side, runs in sides.items()}
            cpu = {side: statistics.median(c for _, c, _ in runs) for side, runs in sides.items()}
            peak = {side: statistics.median(m for _, _, m in runs) for side, runs in sides.items()}
            row = {
                "input": "parquet", "output": output, "rows": args.rows,
                "baseline_seconds": seconds["baseline"], "command_seconds": seconds["command"],
                "time_ratio": seconds["command"] / seconds["baseline"],
                "baseline_cpu_seconds": cpu["baseline"], "command_cpu_seconds": cpu["command"],
                "cpu_ratio": cpu["command"] / cpu["baseline"],
                "baseline_peak_bytes": peak["baseline"], "command_peak_bytes": peak["command"],
                "memory_ratio": peak["command"] / peak["baseline"],
            }
            rows.append(row)
            print(
                f"parquet -> {output:7s} n={args.rows:>9,}  time {row['command_seconds']:5.2f} s vs "
                f"{row['baseline_seconds']:5.2f} s = {row['time_ratio']:.2f}x   cpu {row['command_cpu_seconds']:5.2f} s vs "
                f"{row['baseline_cpu_seconds']:5.2f} s = {row['cpu_ratio']:.2f}x   peak memory "
                f"{row['command_peak_bytes'] / 2**20:4.0f} MiB vs {row['baseline_peak_bytes'] / 2**20:4.0f} MiB = "
                f"{row['memory_ratio']:.2f}x",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "clear-fast allocate against a pyarrow + cf.allocate script, fresh processes, medians",
        "environment": env_note, "budget_per_query": BUDGET_PER_QUERY, "repeats": args.repeats, "rows": rows,
    }, indent=1) + "\n")
    print(f"wrote {RESULTS}")


def check_same_caps(baseline: Path, command: Path, output: str) -> None:
    """Both sides must have written the same caps for the same ids, or the timing means nothing."""
    if output == "parquet":
        ours, theirs = pq.read_table(command), pq.read_table(baseline)
    else:
        import pyarrow.csv as csv

        options = csv.ConvertOptions(column_types={"id": pa.string()})
        ours, theirs = csv.read_csv(command, convert_options=options), csv.read_csv(baseline, convert_options=options)
    for name in ("id", "tokens"):
        if not ours.column(name).equals(theirs.column(name)):
            raise SystemExit(f"the command and the baseline disagree on `{name}`")


if __name__ == "__main__":
    main()
