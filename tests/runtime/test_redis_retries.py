"""Timeouts and retries: a call sent twice (or more) acts once and answers as the first time."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from clear_fast.runtime import LedgerUnavailable, RedisLedger, ReservationClosed

from faulty_clients import ReplyDroppingClient, ledger_operation
from redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def dropping(redis_port):
    client = ReplyDroppingClient(host="127.0.0.1", port=redis_port)
    yield client
    client.close()


def tokens_sent(client: ReplyDroppingClient, operation: str) -> list[bytes]:
    """The token of every script call of ``operation`` the client sent (the keys come first, then the arguments)."""
    return [args[3 + int(args[2]) + 5] for args in client.sent if ledger_operation(args) == operation]


def test_every_operation_whose_reply_was_lost_answers_as_the_first_time(dropping):
    ledger = RedisLedger.create(dropping, f"retry-{uuid.uuid4().hex}", 1000, reservation_timeout=600)
    dropping.drop = {"reserve": 2}
    reservation = ledger.reserve("q", 400)  # not ReservationOpen: the retry finds its own reservation
    assert (reservation.tokens, reservation.deadline is not None) == (400, True)
    sent = tokens_sent(dropping, "reserve")
    assert len(sent) == 3 and len(set(sent)) == 1  # three times on the server, one token

    dropping.drop = {"settle": 1}
    settled = ledger.settle("q", 150)  # not ReservationClosed: the retry gets the first settle's outcome
    assert (settled.reserved, settled.used, settled.refunded, settled.late) == (400, 150, 250, False)

    ledger.reserve("r", 100)
    dropping.drop = {"release": 1}
    assert ledger.release("r").tokens == 100

    dropping.drop = {"reserve": 1}
    batch = ledger.reserve_many(["a", "b", "c"], [300, 300, 300])
    assert [held.tokens if held else None for held in batch] == [300, 300, None]
    dropping.drop = {"settle": 1}
    assert [s.used for s in ledger.settle_many(["a", "b"], [300, 350])] == [300, 350]

    books = ledger.snapshot()
    assert (books.granted, books.charged, books.released, books.overrun) == (1100, 800, 100, 50)
    assert (books.reserved, books.balanced) == (0, True)
    with pytest.raises(ReservationClosed, match=r"already settled \(used 150 of 400\)"):
        ledger.settle("q", 150)  # a new call (a new token) is a double settle, as it should be


def test_a_reserve_answered_after_it_expired_returns_the_grant_it_made(dropping, clock):
    ledger = RedisLedger.create(dropping, f"retry-{uuid.uuid4().hex}", 1000, reservation_timeout=5, clock=clock)
    original = dropping.execute_command

    def reserve_then_time_passes(*args, **options):
        reply = original(*args, **options)
        if ledger_operation(args) == "reserve":
            clock.advance(10)  # the answer is lost and by the retry the reservation has expired
        return reply

    dropping.execute_command = reserve_then_time_passes
    dropping.drop = {"reserve": 1}
    held = ledger.reserve("q", 400)
    dropping.execute_command = original
    assert held.tokens == 400
    books = ledger.snapshot()
    assert (books.granted, books.expired, books.open_reservations) == (400, 400, 0)  # granted once, not twice
    assert ledger.settle("q", 300).late  # the slow worker's usage is still charged


def test_a_paused_server_with_short_socket_timeouts_leaves_exact_books():
    """redis-py resends calls that time out; when the server wakes it runs every copy it got."""
    server = RedisServer()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.2)
        ledger = RedisLedger.create(client, "paused", 10**9, retry_for=30)
        tallies = [[0, 0, 0] for _ in range(6)]  # granted, used, released
        stop = threading.Event()

        def worker(k: int) -> None:
            i = 0
            while not stop.is_set():
                query_id = f"w{k}-{i}"
                tallies[k][0] += ledger.reserve(query_id, 100).tokens
                if i % 4 == 0:
                    tallies[k][2] += ledger.release(query_id).tokens
                else:
                    tallies[k][1] += ledger.settle(query_id, 60 + k).used
                i += 1

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        server.pause()
        time.sleep(1.5)
        server.resume()
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        books = ledger.snapshot()
        granted, used, released = (sum(t[i] for t in tallies) for i in range(3))
        assert (books.granted, books.charged, books.released) == (granted, used, released)
        assert (books.reserved, books.open_reservations, books.balanced) == (0, 0, True)
        # The pause really made copies: the server ran more script calls than the ledger made.
        calls = client.info("commandstats")["cmdstat_evalsha"]["calls"]
        # a reserve and a close per query; the first call (refused: the script was not loaded yet),
        # the create, its attach and the snapshot
        operations = books.granted // 100 * 2 + 4
        assert calls > operations
    finally:
        server.stop()


def test_a_server_that_stays_away_longer_than_retry_for_raises_ledger_unavailable():
    server = RedisServer()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.1, retry=Retry(NoBackoff(), 0))
        ledger = RedisLedger.create(client, "away", 1000, retry_for=0.5)
        ledger.reserve("q", 400)
        server.pause()
        started = time.monotonic()
        with pytest.raises(LedgerUnavailable, match=r"did not answer `settle` on ledger 'away' for 0.5 s .* may or may not have taken effect") as away:
            ledger.settle("q", 300)
        assert away.value.operation == "settle"
        assert time.monotonic() - started < 3
        server.resume()
        # The server ran the settle it had received: retrying it says so instead of charging twice.
        with pytest.raises(ReservationClosed, match=r"already settled \(used 300 of 400\)"):
            ledger.settle("q", 300)
        assert ledger.snapshot().charged == 300
    finally:
        server.stop()
