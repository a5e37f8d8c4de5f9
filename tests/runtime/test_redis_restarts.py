"""A Redis server that dies, restarts, or comes back with older books.

Each test runs its own redis-server (``RedisServer``) and kills it with SIGKILL:
with an append-only file nothing the ledger acknowledged is lost; without
persistence, or restored from an older snapshot, the ledger refuses to hand out
its budget again until an operator acknowledges.
"""

from __future__ import annotations

import pytest

from clear_fast.runtime import (
    LedgerNotFound,
    LedgerStateLost,
    RedisLedger,
    ReservationClosed,
    UnknownReservation,
)

from redis_server import FORGETFUL, RedisServer

pytestmark = pytest.mark.redis

# fsync before every answer: a killed server keeps everything it acknowledged, whatever the disk does.
ALWAYS_FSYNC = ("--appendonly", "yes", "--appendfsync", "always")
# Snapshots only when told (SAVE): a restart loads the last one, older than the books.
SNAPSHOTS = ("--appendonly", "no", "--save", "")


@pytest.fixture
def server_factory():
    servers = []

    def make(settings):
        servers.append(RedisServer(settings))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


def spend(ledger, prefix: str, rounds: int) -> None:
    for i in range(rounds):
        ledger.reserve(f"{prefix}{i}", 100)
        ledger.settle(f"{prefix}{i}", 60)


def test_with_an_append_only_file_a_killed_server_loses_nothing(server_factory):
    server = server_factory(ALWAYS_FSYNC)
    client = server.client()
    ledger = RedisLedger.create(client, "durable", 100_000, reservation_timeout=3600)
    spend(ledger, "q", 50)
    ledger.reserve("open", 500)
    ledger.reserve_many(["b1", "b2"], [10, 20])
    ledger.settle("b1", 10)
    before = ledger.snapshot()
    server.kill()
    server.start()
    assert ledger.snapshot() == before  # the same handle carries on: same epoch, same count
    fresh = RedisLedger(server.client(), "durable")
    assert fresh.snapshot() == before
    assert fresh.settle("open", 400).refunded == 100  # the open reservation survived
    with pytest.raises(ReservationClosed):
        ledger.settle("b1", 10)  # and so did the closed ids
    assert ledger.snapshot().balanced


def test_without_persistence_a_killed_server_is_noticed_not_restarted(server_factory):
    server = server_factory(FORGETFUL)
    client = server.client()
    ledger = RedisLedger.create(client, "forgetful", 100_000, persistence="ignore")
    spend(ledger, "q", 20)
    server.kill()
    server.start()
    with pytest.raises(LedgerStateLost, match="it is gone from the server: it was deleted, or the server restarted") as lost:
        ledger.reserve("next", 100)  # a live handle does not see a full budget again
    assert lost.value.reason == "lost"
    with pytest.raises(LedgerNotFound):
        RedisLedger(server.client(), "forgetful", persistence="ignore")  # nor does a new one
    assert list(server.client().scan_iter("*")) == []  # refusing wrote nothing
    # The operator's answer: create it again, deliberately (here with what is left of the budget).
    again = RedisLedger.create(server.client(), "forgetful", 100_000 - 20 * 60, persistence="ignore")
    assert again.snapshot().free == 100_000 - 1200
    with pytest.raises(LedgerStateLost, match="it was created again") as replaced:
        ledger.reserve("next", 100)  # the old handle's reservations are not in the new ledger
    assert replaced.value.reason == "replaced"


def test_books_restored_from_an_older_snapshot_halt_the_ledger_until_acknowledged(server_factory):
    server = server_factory(SNAPSHOTS)
    client = server.client()
    ledger = RedisLedger.create(client, "rolled", 100_000, persistence="ignore")
    spend(ledger, "old", 10)
    client.save()  # the snapshot the server will come back with
    at_snapshot = ledger.snapshot()
    spend(ledger, "new", 10)  # spent after the snapshot: lost in the restart
    ledger.reserve("open", 700)
    server.kill()
    server.start()

    with pytest.raises(LedgerStateLost, match=r"its books went back in time \(a client had seen operation 41 of generation 0, but the server holds 20 of generation 0\)") as halted:
        ledger.reserve("next", 100)
    assert halted.value.reason == "halted"
    with pytest.raises(LedgerStateLost, match="acknowledge_reset"):
        RedisLedger(server.client(), "rolled", persistence="ignore")  # a new handle is refused too
    with pytest.raises(LedgerStateLost):
        ledger.snapshot()

    # The operator checks the books, acknowledges, and adds the spend they know was lost.
    accepted = RedisLedger.acknowledge_reset(server.client(), "rolled", persistence="ignore")
    assert accepted.snapshot().spent == at_snapshot.spent == 600
    with pytest.raises(UnknownReservation):
        accepted.settle("open", 700)  # made after the snapshot: the books never had it
    accepted.reserve("lost-spend", 0)
    accepted.settle("lost-spend", 10 * 60)  # charged as an overrun, on the record
    assert ledger.reserve("next", 100).tokens == 100  # the old handle works again: a new generation
    books = accepted.snapshot()
    assert (books.spent, books.reserved, books.overrun, books.balanced) == (1200, 100, 600, True)


def test_acknowledging_a_ledger_that_does_not_exist_is_refused(server_factory):
    server = server_factory(FORGETFUL)
    with pytest.raises(LedgerNotFound):
        RedisLedger.acknowledge_reset(server.client(), "never", persistence="ignore")
