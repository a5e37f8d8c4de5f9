"""Processes x threads spend one Redis ledger while its server is paused, then killed and restarted.

The workers use short socket timeouts, so the pause makes redis-py resend calls
(which the server runs when it wakes) and the restart breaks every connection.
At the end the books must match every worker's own tally to the token: nothing
charged twice, nothing lost, nothing left reserved, and no worker saw an error.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time

import pytest

from clear_fast.runtime import RedisLedger

from fault_workers import fleet_worker
from redis_server import RedisServer

pytestmark = pytest.mark.redis

PROCESSES, THREADS = 3, 4
ALWAYS_FSYNC = ("--appendonly", "yes", "--appendfsync", "always")


def wait_for_spend(ledger, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while ledger.snapshot().granted < at_least:
        assert time.monotonic() < deadline, "the workers did not start spending"
        time.sleep(0.05)


def test_books_match_every_workers_tally_through_a_pause_and_a_restart():
    server = RedisServer(ALWAYS_FSYNC)
    stop_file = os.path.join(tempfile.mkdtemp(prefix="clear-fast-stop-"), "stop")
    try:
        ledger = RedisLedger.create(server.client(), "fleet", 10**12, retry_for=30)
        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            jobs = [pool.apply_async(fleet_worker, (server.port, "fleet", p, THREADS, stop_file)) for p in range(PROCESSES)]
            wait_for_spend(ledger, 200_000)
            server.pause()
            time.sleep(1.0)
            server.resume()
            before_restart = ledger.snapshot().granted
            time.sleep(0.5)
            assert ledger.snapshot().granted > before_restart  # spending resumed after the pause
            server.restart()  # SIGKILL, then start again from the append-only file
            after_restart = ledger.snapshot().granted
            time.sleep(0.7)
            assert ledger.snapshot().granted > after_restart  # and after the restart
            open(stop_file, "w").close()
            tallies = [job.get(timeout=120) for job in jobs]
    finally:
        server_client = server.client()
        books = RedisLedger(server_client, "fleet").snapshot()
        server_client.close()
        server.stop()
        shutil.rmtree(os.path.dirname(stop_file), ignore_errors=True)
    assert [error for tally in tallies for error in tally["errors"]] == []
    granted, used, released = (sum(tally[key] for tally in tallies) for key in ("granted", "used", "released"))
    assert sum(tally["operations"] for tally in tallies) > 300
    assert (books.granted, books.charged, books.released) == (granted, used, released)
    assert books.refunded == granted - released - (used - books.overrun)
    assert (books.reserved, books.open_reservations, books.expired, books.balanced) == (0, 0, 0, True)
