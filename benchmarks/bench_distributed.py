"""One budget over queries in Parquet partitions: single-machine ``allocate`` beside Ray and Dask, in one run.

Synthetic queries (cumulative curves, per-query ``tau``, ``alpha``, ``beta``; an
``id`` column) are written as ``--partitions`` Parquet files, and the budget is
``--tokens`` per query. Each method runs in a fresh process on the same files:

* single: ``pyarrow.parquet.read_table`` of the four columns -> ``cf.SurgeCurves`` ->
  ``cf.allocate`` (the simple alternative: collect the float columns to one machine);
* ray: ``ray.init(num_cpus=2)``, ``ray.data.read_parquet`` (materialised first), then
  ``allocate_ray`` and the output dataset with its ``cap`` column materialised;
* dask: a ``LocalCluster`` of 2 worker processes, ``dd.read_parquet`` persisted first,
  then ``allocate_dask`` and the output persisted.

Reported per method: the allocation's wall time (data already loaded; the
engines' start and the load are reported apart), rounds, and the driver's
memory: its peak resident set (``ru_maxrss``, the whole process, engine
runtime included) and the peak of memory allocated by Python and NumPy during
the allocation (``tracemalloc``). The caps of every method are hashed in id
order and must agree. Ratios are against single. Prints a table and writes
benchmarks/results/bench_distributed.json.

    python benchmarks/bench_distributed.py [--queries 1000000 2000000] [--partitions 16] [--tokens 300]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

METHODS = ("single", "ray", "dask")
RESULTS = Path(__file__).resolve().parent / "results" / "bench_distributed.json"


def write_queries(directory: Path, n: int, partitions: int, seed: int = 0) -> list[str]:
    """``n`` synthetic queries in ``partitions`` Parquet files (written one at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    bounds = np.linspace(0, n, partitions + 1).astype(np.int64)
    paths = []
    for k in range(partitions):
        size = int(bounds[k + 1] - bounds[k])
        table = pa.table({
            "id": np.arange(bounds[k], bounds[k + 1], dtype=np.int64),
            "tau": rng.uniform(0.0, 400.0, size),
            "alpha": rng.uniform(2e-5, 2e-4, size),
            "beta": 1.0 / rng.uniform(50.0, 400.0, size),
        })
        path = directory / f"part-{k:04d}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def _digest(ids: np.ndarray, caps: np.ndarray) -> str:
    ordered = np.asarray(caps, dtype=np.int64)[np.argsort(ids, kind="stable")]
    return hashlib.sha256(ordered.tobytes()).hexdigest()[:16]


def run_single(paths: list[str], budget: int) -> dict:
    import pyarrow.parquet as pq

    import clear_fast as cf

    start = time.perf_counter()
    tables = [pq.read_table(p, columns=["id", "tau", "alpha", "beta"]) for p in paths]
    ids = np.concatenate([t["id"].to_numpy() for t in tables])
    columns = {name: np.concatenate([t[name].to_numpy() for t in tables]) for name in ("tau", "alpha", "beta")}
    del tables
    loaded = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    answer = cf.allocate(cf.SurgeCurves(columns["tau"], columns["alpha"], columns["beta"], form="cumulative"), budget)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"setup_s": 0.0, "load_s": loaded, "allocate_s": seconds, "rounds": 1, "traced_peak": traced,
            "caps": _digest(ids, answer.tokens), "spent": int(answer.spent), "price": answer.shadow_price}


def run_ray(paths: list[str], budget: int) -> dict:
    import ray

    from clear_fast.distributed import allocate_ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.execution_options.preserve_order = True
    setup = time.perf_counter() - start
    start = time.perf_counter()
    dataset = ray.data.read_parquet(paths).materialize()
    loaded = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    answer = allocate_ray(dataset, budget, form="cumulative")
    output = answer.data.materialize()
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    caps = output.select_columns(["id", "cap"]).to_pandas()
    result = {"setup_s": setup, "load_s": loaded, "allocate_s": seconds, "rounds": answer.rounds,
              "traced_peak": traced, "caps": _digest(caps["id"].to_numpy(), caps["cap"].to_numpy()),
              "spent": answer.allocation.spent, "price": answer.shadow_price}
    ray.shutdown()
    return result


def run_dask(paths: list[str], budget: int) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from clear_fast.distributed import allocate_dask

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=50)
    client = Client(cluster)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    ddf = dd.read_parquet(paths).persist()
    client.wait_for_workers(2)
    ddf.head(1)
    loaded = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    answer = allocate_dask(ddf, budget, form="cumulative")
    output = answer.data.persist()
    output["cap"].sum().compute()
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    caps = output[["id", "cap"]].compute()
    result = {"setup_s": setup, "load_s": loaded, "allocate_s": seconds, "rounds": answer.rounds,
              "traced_peak": traced, "caps": _digest(caps["id"].to_numpy(), caps["cap"].to_numpy()),
              "spent": answer.allocation.spent, "price": answer.shadow_price}
    client.close()
    cluster.close()
    return result


def child(method: str, paths: list[str], budget: int) -> None:
    result = {"single": run_single, "ray": run_ray, "dask": run_dask}[method](paths, budget)
    result["driver_max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(result), flush=True)


def measure(method: str, paths: list[str], budget: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as listing:
        json.dump(paths, listing)
    try:
        done = subprocess.run([sys.executable, __file__, "--run", method, "--paths", listing.name,
                               "--budget", str(budget)], capture_output=True, text=True, check=False)
    finally:
        os.unlink(listing.name)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{method} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, nargs="+", default=[1_000_000, 2_000_000])
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=300, help="budget per query")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--run", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args.run, json.loads(Path(args.paths).read_text()), args.budget)
        return
    rows = []
    for n in args.queries:
        with tempfile.TemporaryDirectory(prefix="bench-distributed-") as directory:
            paths = write_queries(Path(directory), n, args.partitions)
            budget = args.tokens * n
            measured = {method: measure(method, paths, budget) for method in args.methods}
        base = measured.get("single")
        for method, m in measured.items():
            row = {"queries": n, "partitions": args.partitions, "budget": budget, "method": method, **m}
            if base:
                row["time_ratio"] = m["allocate_s"] / base["allocate_s"]
                row["rss_ratio"] = m["driver_max_rss"] / base["driver_max_rss"]
                row["traced_ratio"] = m["traced_peak"] / base["traced_peak"]
                row["same_caps"] = m["caps"] == base["caps"]
            rows.append(row)
            print(f"{n:>10,} {method:>6}: allocate {m['allocate_s']:7.2f} s in {m['rounds']:>2} rounds "
                  f"(setup {m['setup_s']:.1f} s, load {m['load_s']:.1f} s), driver peak RSS "
                  f"{m['driver_max_rss'] / 2**20:7.0f} MiB, traced peak {m['traced_peak'] / 2**20:7.0f} MiB"
                  + (f"; x{row['time_ratio']:.2f} time, x{row['traced_ratio']:.3f} traced memory, same caps: "
                     f"{row['same_caps']}" if base else ""), flush=True)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
