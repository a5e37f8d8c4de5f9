"""Workers that hammer a ledger with random reserve/settle/release, keeping their own tally.

Used by the concurrency tests, in threads, in an asyncio loop and in separate
processes. The tally is what the books must agree with at the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from clear_fast.runtime import BudgetExceeded


@dataclass
class Tally:
    granted: int = 0
    used: int = 0
    released: int = 0
    refused: int = 0
    operations: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.granted += other.granted
        self.used += other.used
        self.released += other.released
        self.refused += other.refused
        self.operations += other.operations
        self.errors.extend(other.errors)


def one_round(ledger, query_id: str, rng: random.Random, tally: Tally) -> None:
    """Reserve a random cap, then settle (usage <= cap) or release, checking each answer."""
    tokens = rng.randint(1, 200)
    try:
        reservation = ledger.reserve(query_id, tokens)
    except BudgetExceeded as refusal:
        tally.refused += 1
        tally.operations += 1
        if refusal.free >= tokens:
            tally.errors.append(f"refused {tokens} with {refusal.free} free")
        return
    tally.granted += tokens
    if rng.random() < 0.25:
        released = ledger.release(query_id)
        tally.released += released.tokens
    else:
        used = rng.randint(0, tokens)
        settlement = ledger.settle(query_id, used)
        tally.used += used
        if settlement.refunded != tokens - used or settlement.overrun != 0:
            tally.errors.append(f"settle {query_id}: {settlement}")
    tally.operations += 2


def hammer(ledger, worker: str, rounds: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    for i in range(rounds):
        one_round(ledger, f"{worker}-{i}", rng, tally)
    return tally


async def ahammer(ledger, worker: str, rounds: int, seed: int) -> Tally:
    """The async twin of :func:`hammer`, through the async methods."""
    rng = random.Random(seed)
    tally = Tally()
    for i in range(rounds):
        query_id = f"{worker}-{i}"
        tokens = rng.randint(1, 200)
        reservation = await ledger.atry_reserve(query_id, tokens)
        tally.operations += 1
        if reservation is None:
            tally.refused += 1
            continue
        tally.granted += tokens
        if rng.random() < 0.25:
            tally.released += (await reservation.arelease()).tokens
        else:
            used = rng.randint(0, tokens)
            await reservation.asettle(used)
            tally.used += used
        tally.operations += 1
    return tally


def hammer_redis_process(port: int, name: str, worker: str, rounds: int, seed: int) -> Tally:
    """Entry point of a separate process: its own client, the same named ledger."""
    import redis

    from clear_fast.runtime import RedisLedger

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        return hammer(RedisLedger(client, name), worker, rounds, seed)
    finally:
        client.close()


def reserve_then_die(port: int, name: str) -> None:
    """Entry point of a process that reserves and is killed before it can settle."""
    import os
    import signal

    import redis

    from clear_fast.runtime import RedisLedger

    ledger = RedisLedger(redis.Redis(host="127.0.0.1", port=port), name)
    ledger.reserve("doomed", 700)
    os.kill(os.getpid(), signal.SIGKILL)
