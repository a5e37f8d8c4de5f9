"""Ledger operations per second, single calls and batches, in process and on Redis, each beside its floor.

Every reserve, settle or release of one query counts as one operation; a batch
of 1000 counts as 1000. Measured in one run:

* the in-process Ledger: single calls (1 thread and 8 threads) and batches of
  1000, beside a bare lock-and-add (the least any thread-safe counter costs);
* the RedisLedger: single calls (1 thread, 8 threads, 4 processes) and batches
  of 1000 (one script call, one round trip each), beside a bare INCRBY: one
  per round trip, and 1000 pipelined per round trip (the least any
  Redis-backed counter costs, unbatched and batched).

The headline ratio is the one the batch API is for: grants per second of
``reserve_many`` with 1000 queries against 1000 single ``reserve`` calls
(target: at least 20x). Single and batch rounds alternate, so both sides of a
ratio see the same load.

It starts its own redis-server (Debian's binary, 127.0.0.1, a free port, an
append-only file fsync'd every second as in production) and stops it by pid.
Prints a table and writes benchmarks/results/ledger.json.

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
from typing import Any, Callable

import clear_fast
from clear_fast.runtime import Ledger, RedisLedger

RESULTS = Path(__file__).resolve().parent / "results"
BIG_BUDGET = 10**13
BATCH = 1000


def start_redis() -> tuple[subprocess.Popen, int, str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise SystemExit("redis-server not found (Debian/Ubuntu: apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "everysec",
         "--dir", directory],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port, directory
        except OSError:
            time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    raise SystemExit("redis-server did not start")


def per_second(
    seconds: float,
    timed: Callable[[int], int],
    *,
    before: Callable[[int], Any] | None = None,
    after: Callable[[int], Any] | None = None,
) -> float:
    """Operations per second of ``timed(round)`` (it returns how many it did), run until ``seconds`` of it
    have passed; ``before(round)`` and ``after(round)`` run around each round, off the clock."""
    done, spent, round_number = 0, 0.0, 0
    while spent < seconds:
        if before is not None:
            before(round_number)
        start = time.perf_counter()
        done += timed(round_number)
        spent += time.perf_counter() - start
        if after is not None:
            after(round_number)
        round_number += 1
    return done / spent


def in_threads(threads: int, seconds: float, make_cycle: Callable[[int], Callable[[int], None]]) -> float:
    """Operations per second of ``threads`` threads, each running reserve + settle cycles (two operations)."""
    counts = [0] * threads

    def work(k: int) -> None:
        cycle, done, deadline = make_cycle(k), 0, time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for _ in range(20):
                cycle(done)
                done += 1
        counts[k] = done

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 2 * sum(counts) / (time.perf_counter() - start)


def ledger_cycle(ledger, prefix: str) -> Callable[[int], None]:
    def cycle(i: int) -> None:
        ledger.reserve(f"{prefix}-{i}", 100)
        ledger.settle(f"{prefix}-{i}", 60)

    return cycle


def ids_for(prefix: str, round_number: int, count: int) -> list[str]:
    return [f"{prefix}-{round_number}-{i}" for i in range(count)]


def single_and_batch_rows(ledger, kind: str, seconds: float) -> list[dict[str, Any]]:
    """Reserve and settle of ``BATCH`` queries by single calls and by one batch call (one thread).

    Rounds alternate (1000 single reserves, one reserve_many of 1000, 1000 single
    settles, one settle_many of 1000), so the two sides of each ratio see the same
    conditions on a shared machine. Only the calls themselves are timed; what a
    round reserved is released, or what it settles was reserved, off the clock."""
    caps, usage = [100] * BATCH, [60] * BATCH
    spent = dict.fromkeys(("reserve, single calls", f"reserve_many, {BATCH} per call",
                           "settle, single calls", f"settle_many, {BATCH} per call"), 0.0)
    rounds = 0
    while min(spent.values()) < seconds:
        ids = [ids_for(part, rounds, BATCH) for part in ("sr", "br", "ss", "bs")]
        start = time.perf_counter()
        for query_id in ids[0]:
            ledger.reserve(query_id, 100)
        spent["reserve, single calls"] += time.perf_counter() - start
        start = time.perf_counter()
        ledger.reserve_many(ids[1], caps)
        spent[f"reserve_many, {BATCH} per call"] += time.perf_counter() - start
        ledger.release_many(ids[0])
        ledger.release_many(ids[1])
        ledger.reserve_many(ids[2] + ids[3], caps * 2)
        start = time.perf_counter()
        for query_id in ids[2]:
            ledger.settle(query_id, 60)
        spent["settle, single calls"] += time.perf_counter() - start
        start = time.perf_counter()
        ledger.settle_many(ids[3], usage)
        spent[f"settle_many, {BATCH} per call"] += time.perf_counter() - start
        rounds += 1
    return [row(kind, operation, "1 thread", rounds * BATCH / value) for operation, value in spent.items()]


def row(ledger: str, operation: str, workers: str, ops_per_s: float) -> dict[str, Any]:
    return {"ledger": ledger, "operation": operation, "workers": workers, "ops_per_s": ops_per_s}


def redis_process(port: int, name: str, start_at: float, seconds: float, worker: str) -> int:
    """Reserve + settle cycles from ``start_at`` (wall-clock time, so that all processes run together
    once they have started up) for ``seconds``; returns how many cycles ran."""
    import redis

    ledger = RedisLedger(redis.Redis(host="127.0.0.1", port=port), name)
    cycle, done = ledger_cycle(ledger, worker), 0
    time.sleep(max(start_at - time.time(), 0.0))
    deadline = time.time() + seconds
    while time.time() < deadline:
        cycle(done)
        done += 1
    return done


def measure(seconds: float) -> tuple[list[dict[str, Any]], dict[str, float]]:
    import redis

    rows: list[dict[str, Any]] = []
    floors: dict[str, float] = {}

    lock, box = threading.Lock(), [0]

    def lock_and_add(r: int) -> int:
        for _ in range(BATCH):
            with lock:
                box[0] += 100
        return BATCH

    floors["lock + add"] = per_second(seconds, lock_and_add)
    memory = Ledger(BIG_BUDGET)
    rows += single_and_batch_rows(memory, "in-process", seconds)
    rows.append(row("in-process", "reserve + settle", "8 threads",
                    in_threads(8, seconds, lambda k: ledger_cycle(memory, f"m8-{k}"))))
    assert memory.snapshot().balanced

    process, port, directory = start_redis()
    try:
        client = redis.Redis(host="127.0.0.1", port=port)

        def incrby_round_trips(r: int) -> int:
            for _ in range(BATCH):
                client.incrby("floor", 100)
            return BATCH

        def incrby_pipelined(r: int) -> int:
            pipe = client.pipeline(transaction=False)
            for _ in range(BATCH):
                pipe.incrby("floor", 100)
            pipe.execute()
            return BATCH

        floors["INCRBY, one per round trip"] = per_second(seconds, incrby_round_trips)
        floors[f"INCRBY, {BATCH} pipelined per round trip"] = per_second(seconds, incrby_pipelined)
        shared = RedisLedger.create(client, f"bench-{uuid.uuid4().hex}", BIG_BUDGET)
        rows += single_and_batch_rows(shared, "Redis", seconds)
        rows.append(row("Redis", "reserve + settle", "8 threads",
                        in_threads(8, seconds, lambda k: ledger_cycle(shared, f"r8-{k}"))))
        assert shared.snapshot().balanced
        name = f"bench-{uuid.uuid4().hex}"
        RedisLedger.create(client, name, BIG_BUDGET)
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            start_at = time.time() + 5  # time for the processes to start (and import clear_fast)
            counts = pool.starmap(redis_process, [(port, name, start_at, seconds, f"p{k}") for k in range(4)])
        books = RedisLedger(client, name).snapshot()
        assert books.balanced and books.granted == 100 * sum(counts)
        rows.append(row("Redis", "reserve + settle", "4 processes", 2 * sum(counts) / seconds))
        client.close()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    for entry in rows:
        if entry["ledger"] == "in-process":
            entry["vs"] = {"lock + add": entry["ops_per_s"] / floors["lock + add"]}
        else:
            entry["vs"] = {name: entry["ops_per_s"] / value for name, value in floors.items() if name.startswith("INCRBY")}
    return rows, floors


def batch_speedup(rows: list[dict[str, Any]], ledger: str) -> float:
    ops = {(r["ledger"], r["operation"], r["workers"]): r["ops_per_s"] for r in rows}
    return ops[(ledger, f"reserve_many, {BATCH} per call", "1 thread")] / ops[(ledger, "reserve, single calls", "1 thread")]


def print_table(rows: list[dict[str, Any]], floors: dict[str, float]) -> None:
    print("floors (operations per second):")
    for name, value in floors.items():
        print(f"  {name:<38} {value:>12,.0f}")
    print()
    print(f"{'ledger':<11} {'operation':<28} {'workers':<12} {'ops/s':>11}  {'x floor':<40}")
    for entry in rows:
        ratios = ", ".join(f"{value:.3g} x {name}" for name, value in entry["vs"].items())
        print(f"{entry['ledger']:<11} {entry['operation']:<28} {entry['workers']:<12} {entry['ops_per_s']:>11,.0f}  {ratios}")
    print()
    for ledger in ("in-process", "Redis"):
        print(f"{ledger}: reserve_many of {BATCH} grants / {BATCH} single reserve calls = "
              f"{batch_speedup(rows, ledger):.1f}x" + ("  (target >= 20x)" if ledger == "Redis" else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    arguments = parser.parse_args()
    rows, floors = measure(arguments.seconds)
    print_table(rows, floors)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "benchmark": "ledger operations per second (each reserve, settle or release of one query is one operation)",
        "seconds_per_measurement": arguments.seconds,
        "batch": BATCH,
        "clear_fast": clear_fast.__version__,
        "kernel": clear_fast.IMPLEMENTATION,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "floors_ops_per_s": floors,
        "rows": rows,
        "batch_reserve_speedup": {ledger: batch_speedup(rows, ledger) for ledger in ("in-process", "Redis")},
    }
    (RESULTS / "ledger.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS / 'ledger.json'}")


if __name__ == "__main__":
    main()
