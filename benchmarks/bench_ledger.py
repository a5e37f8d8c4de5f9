"""Ledger operations per second: in-process against Redis, each beside its floor.

One "cycle" is reserve + settle of one query (two ledger operations). Measured:

* the in-process Ledger, one thread and 8 threads, beside a bare lock-and-add loop
  (the least any thread-safe counter can cost);
* the RedisLedger (one Lua script call per operation), one client, 8 threads and
  4 processes, beside a bare INCRBY round trip on the same server (the least any
  Redis-backed counter can cost).

It starts its own redis-server (Debian's binary, 127.0.0.1, a free port, no
persistence) and stops it by pid. Prints a table and writes
benchmarks/results/ledger.json.

    python benchmarks/bench_ledger.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import clear_fast
from clear_fast.runtime import Ledger, RedisLedger

RESULTS = Path(__file__).resolve().parent / "results"
BIG_BUDGET = 10**13


def start_redis() -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise SystemExit("redis-server not found (Debian/Ubuntu: apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tempfile.mkdtemp(prefix="bench-redis-")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    raise SystemExit("redis-server did not start")


def cycles_for(seconds: float, one_cycle) -> int:
    """Run ``one_cycle(i)`` until ``seconds`` have passed; return how many ran."""
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            one_cycle(done)
            done += 1
    return done


def in_threads(threads: int, seconds: float, make_cycle) -> float:
    """Operations per second of ``threads`` threads, each running its own cycle function."""
    counts = [0] * threads

    def work(k: int) -> None:
        counts[k] = cycles_for(seconds, make_cycle(k))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 2 * sum(counts) / (time.perf_counter() - start)


def ledger_cycle(ledger, prefix: str):
    def cycle(i: int) -> None:
        ledger.reserve(f"{prefix}-{i}", 100)
        ledger.settle(f"{prefix}-{i}", 60)

    return cycle


def lock_floor_cycle(lock: threading.Lock, box: list[int]):
    def cycle(i: int) -> None:
        for _ in range(2):
            with lock:
                box[0] += 100
    return cycle


def redis_process(port: int, name: str, seconds: float, worker: str) -> int:
    import redis

    ledger = RedisLedger(redis.Redis(host="127.0.0.1", port=port), name, BIG_BUDGET)
    return cycles_for(seconds, ledger_cycle(ledger, worker))


def measure(seconds: float) -> list[dict[str, Any]]:
    import redis

    rows: list[dict[str, Any]] = []
    memory = Ledger(BIG_BUDGET)
    lock, box = threading.Lock(), [0]
    for threads in (1, 8):
        floor = in_threads(threads, seconds, lambda k: lock_floor_cycle(lock, box))
        ledger = in_threads(threads, seconds, lambda k: ledger_cycle(memory, f"m{threads}-{k}"))
        rows.append({"ledger": "in-process", "workers": f"{threads} thread(s)", "ops_per_s": ledger,
                     "floor": "lock + add", "floor_ops_per_s": floor})
    assert memory.snapshot().balanced

    process, port = start_redis()
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        shared = RedisLedger(client, f"bench-{uuid.uuid4().hex}", BIG_BUDGET)
        for threads in (1, 8):
            floor = in_threads(threads, seconds, lambda k: (lambda i: (client.incrby("floor", 100), client.incrby("floor", -40))))
            ledger = in_threads(threads, seconds, lambda k: ledger_cycle(shared, f"r{threads}-{k}"))
            rows.append({"ledger": "Redis", "workers": f"{threads} thread(s)", "ops_per_s": ledger,
                         "floor": "INCRBY round trip", "floor_ops_per_s": floor})
        name = f"bench-{uuid.uuid4().hex}"
        RedisLedger(client, name, BIG_BUDGET)
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            start = time.perf_counter()
            counts = pool.starmap(redis_process, [(port, name, seconds, f"p{k}") for k in range(4)])
            elapsed = time.perf_counter() - start
        books = RedisLedger(client, name, BIG_BUDGET).snapshot()
        assert books.balanced and books.granted == 100 * sum(counts)
        rows.append({"ledger": "Redis", "workers": "4 processes", "ops_per_s": 2 * sum(counts) / elapsed,
                     "floor": None, "floor_ops_per_s": None})
        client.close()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    base = rows[0]["ops_per_s"]
    for row in rows:
        row["vs_in_process_1_thread"] = row["ops_per_s"] / base
        row["vs_floor"] = row["ops_per_s"] / row["floor_ops_per_s"] if row["floor_ops_per_s"] else None
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'ledger':<11} {'workers':<13} {'ops/s':>10} {'x in-proc 1t':>13} {'floor':<18} {'floor ops/s':>12} {'x floor':>8}")
    for row in rows:
        floor = f"{row['floor_ops_per_s']:>12,.0f}" if row["floor_ops_per_s"] else f"{'-':>12}"
        ratio = f"{row['vs_floor']:>8.2f}" if row["vs_floor"] else f"{'-':>8}"
        print(f"{row['ledger']:<11} {row['workers']:<13} {row['ops_per_s']:>10,.0f} {row['vs_in_process_1_thread']:>13.3f} "
              f"{row['floor'] or '-':<18} {floor} {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    arguments = parser.parse_args()
    rows = measure(arguments.seconds)
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "benchmark": "ledger operations per second (reserve and settle each count as one operation)",
        "seconds_per_measurement": arguments.seconds,
        "clear_fast": clear_fast.__version__,
        "kernel": clear_fast.IMPLEMENTATION,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    (RESULTS / "ledger.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS / 'ledger.json'}")


if __name__ == "__main__":
    main()
