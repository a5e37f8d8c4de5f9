"""Many workers at once: the budget holds at every observed instant and the books balance to the token."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import uuid

import pytest
import redis as redis_client_module

from clear_fast.runtime import Ledger, RedisLedger

from ledger_hammer import Tally, ahammer, hammer, hammer_redis_process


class Watcher(threading.Thread):
    """Reads snapshots in a loop and records any instant where the budget did not hold."""

    def __init__(self, ledger) -> None:
        super().__init__(daemon=True)
        self.ledger = ledger
        self.stop = threading.Event()
        self.looks = 0
        self.violations: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            books = self.ledger.snapshot()
            self.looks += 1
            if books.spent + books.reserved > books.allowance or not books.balanced:
                self.violations.append(repr(books))


def check_books(ledger, tally: Tally, budget: int) -> None:
    books = ledger.snapshot()
    assert tally.errors == []
    assert (books.reserved, books.open_reservations) == (0, 0)
    assert books.granted == tally.granted
    assert books.charged == books.spent == tally.used  # to the token
    assert books.released == tally.released
    assert books.refunded == tally.granted - tally.used - tally.released
    assert books.overrun == 0 and books.expired == 0
    assert books.spent <= budget
    assert books.balanced


def test_sixteen_threads_and_an_asyncio_loop_share_one_ledger():
    budget = 150_000
    ledger = Ledger(budget)
    watcher = Watcher(ledger)
    tallies = [Tally() for _ in range(17)]

    def thread_worker(k: int) -> None:
        tallies[k] = hammer(ledger, f"t{k}", rounds=500, seed=k)

    def loop_worker() -> None:
        async def many():
            parts = await asyncio.gather(*(ahammer(ledger, f"a{j}", 100, 100 + j) for j in range(8)))
            total = Tally()
            for part in parts:
                total.add(part)
            return total

        tallies[16] = asyncio.run(many())

    threads = [threading.Thread(target=thread_worker, args=(k,)) for k in range(16)]
    threads.append(threading.Thread(target=loop_worker))
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watcher.stop.set()
    watcher.join()

    total = Tally()
    for tally in tallies:
        total.add(tally)
    assert total.operations > 10_000
    assert total.refused > 0  # the budget ran out part-way: refusals happened under contention
    assert watcher.violations == [] and watcher.looks > 10
    check_books(ledger, total, budget)


@pytest.mark.redis
def test_several_processes_share_one_redis_ledger(redis_port):
    budget = 60_000
    name = f"fleet-{uuid.uuid4().hex}"
    client = redis_client_module.Redis(host="127.0.0.1", port=redis_port)
    ledger = RedisLedger.create(client, name, budget)
    watcher = Watcher(ledger)
    watcher.start()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        jobs = [
            pool.apply_async(hammer_redis_process, (redis_port, name, f"p{k}", 400, k)) for k in range(4)
        ]
        tallies = [job.get(timeout=120) for job in jobs]

    async def from_a_loop():
        return await asyncio.gather(*(ahammer(ledger, f"loop{j}", 50, 500 + j) for j in range(4)))

    tallies += asyncio.run(from_a_loop())
    watcher.stop.set()
    watcher.join()
    client.close()

    total = Tally()
    for tally in tallies:
        total.add(tally)
    assert total.refused > 0
    assert watcher.violations == [] and watcher.looks > 10
    check_books(ledger, total, budget)


@pytest.mark.redis
def test_a_killed_worker_reservation_expires_on_the_server_clock(redis_port):
    import time

    from ledger_hammer import reserve_then_die

    name = f"dies-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    client = redis_client_module.Redis(host="127.0.0.1", port=redis_port)
    ledger = RedisLedger.create(client, name, 1000, reservation_timeout=0.5)
    worker = context.Process(target=reserve_then_die, args=(redis_port, name))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == -9  # killed between reserve and settle
    time.sleep(0.6)
    books = ledger.snapshot()
    client.close()
    assert (books.granted, books.expired, books.reserved, books.free) == (700, 700, 0, 1000)
    assert books.balanced
