"""A worker process of the fault-injection test: threads spending one Redis ledger, each keeping its own tally.

Every thread reserves, settles and releases (single calls and batches) until a
stop file appears, counting what the ledger answered. Any error ends the thread
and is reported; the tallies are what the books must match to the token.
"""

from __future__ import annotations

import os
import random
import threading


def spend_until_stopped(ledger, worker: str, seed: int, stop_file: str, tally: dict) -> None:
    rng = random.Random(seed)
    i = 0
    try:
        while not os.path.exists(stop_file):
            if rng.random() < 0.6:
                query_id = f"{worker}-{i}"
                tally["granted"] += ledger.reserve(query_id, rng.randint(1, 500)).tokens
                if rng.random() < 0.75:
                    tally["used"] += ledger.settle(query_id, rng.randint(0, 600)).used  # some overrun
                else:
                    tally["released"] += ledger.release(query_id).tokens
            else:
                ids = [f"{worker}-{i}-{k}" for k in range(3)]
                granted = ledger.reserve_many(ids, [rng.randint(1, 500) for _ in ids])
                tally["granted"] += sum(held.tokens for held in granted)
                used = [rng.randint(0, 500) for _ in ids[:2]]
                tally["used"] += sum(s.used for s in ledger.settle_many(ids[:2], used))
                tally["released"] += sum(r.tokens for r in ledger.release_many(ids[2:]))
            tally["operations"] += 1
            i += 1
    except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
        tally["errors"].append(f"{worker}: {type(error).__name__}: {error}")


def fleet_worker(port: int, name: str, process: int, threads: int, stop_file: str) -> dict:
    """Entry point of one process: its own client (short timeouts), one handle, ``threads`` threads."""
    import redis

    from clear_fast.runtime import RedisLedger

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.25, socket_connect_timeout=0.25)
    ledger = RedisLedger(client, name, retry_for=30)
    tallies = [{"granted": 0, "used": 0, "released": 0, "operations": 0, "errors": []} for _ in range(threads)]
    workers = [
        threading.Thread(target=spend_until_stopped, args=(ledger, f"p{process}t{k}", 1000 * process + k, stop_file, tally))
        for k, tally in enumerate(tallies)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    client.close()
    total = {key: sum(t[key] for t in tallies) for key in ("granted", "used", "released", "operations")}
    total["errors"] = [error for t in tallies for error in t["errors"]]
    return total
