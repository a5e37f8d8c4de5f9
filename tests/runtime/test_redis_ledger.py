"""What only the Redis ledger has: create and attach, stored settings, key layout, delete, lazy import."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from clear_fast.runtime import LedgerExists, LedgerNotFound, LedgerStateLost, RedisLedger, UnknownReservation

pytestmark = pytest.mark.redis


def test_handles_attached_to_one_name_share_one_budget(redis_client):
    name = f"shared-{uuid.uuid4().hex}"
    first = RedisLedger.create(redis_client, name, 1000)
    second = RedisLedger(redis_client, name)
    first.reserve("a", 600)
    assert second.try_reserve("b", 500) is None
    second.settle("a", 100)  # any handle may settle any reservation
    assert first.snapshot().spent == 100


def test_an_attached_handle_uses_the_stored_settings(redis_client):
    name = f"stored-{uuid.uuid4().hex}"
    RedisLedger.create(redis_client, name, 1000, period=60, rollover=True, max_carry=300, reservation_timeout=5,
                       closed_ttl=120)
    attached = RedisLedger(redis_client, name)
    window = attached.window
    assert (window.budget, window.period, window.rollover, window.max_carry) == (1000, 60.0, True, 300)
    assert (attached.reservation_timeout, attached.closed_ttl) == (5.0, 120.0)
    assert repr(attached) == f"RedisLedger('{name}', budget=1000 per 60 s)"


def test_creating_a_ledger_that_exists_is_refused_and_changes_nothing(redis_client):
    name = f"clash-{uuid.uuid4().hex}"
    ledger = RedisLedger.create(redis_client, name, 1000, period=60)
    ledger.reserve("q", 400)
    with pytest.raises(LedgerExists, match=rf"ledger '{name}' already exists \(created at .* UTC\): attach to it"):
        RedisLedger.create(redis_client, name, 2000)
    books = ledger.snapshot()
    assert (books.budget, books.reserved) == (1000, 400)


def test_attaching_to_a_ledger_that_was_never_created_is_refused(redis_client):
    with pytest.raises(LedgerNotFound, match=r"there is no Redis ledger 'nowhere-.*' on the server: create it once"):
        RedisLedger(redis_client, f"nowhere-{uuid.uuid4().hex}")


def test_keys_live_under_one_hash_tag_and_delete_removes_every_one(redis_client):
    name = f"keys-{uuid.uuid4().hex}"
    ledger = RedisLedger.create(redis_client, name, 100, reservation_timeout=60)
    ledger.reserve("q", 10)
    ledger.reserve("r", 10)
    ledger.settle("r", 20)  # an overrun: every key now exists
    found = sorted(key.decode() for key in redis_client.scan_iter(f"clear_fast:{{{name}}}:*"))
    assert found == sorted(ledger.keys)
    assert found == [f"clear_fast:{{{name}}}:{part}" for part in sorted(("closed", "deadline", "forget", "open", "overruns", "state"))]
    assert len(list(redis_client.scan_iter("*"))) >= len(found)
    ledger.delete()
    assert list(redis_client.scan_iter(f"clear_fast:{{{name}}}*")) == []
    with pytest.raises(LedgerStateLost, match="it is gone from the server: it was deleted") as lost:
        ledger.snapshot()
    assert lost.value.reason == "lost"


def test_a_ledger_created_again_after_delete_knows_none_of_the_old_ids(redis_client, clock):
    name = f"again-{uuid.uuid4().hex}"
    old = RedisLedger.create(redis_client, name, 1000, reservation_timeout=10, clock=clock)
    old.reserve("slow", 600)
    clock.advance(11)  # expires: a late settle would be charged in this ledger
    assert old.snapshot().expired == 600
    old.delete()
    new = RedisLedger.create(redis_client, name, 1000, reservation_timeout=10, clock=clock)
    with pytest.raises(UnknownReservation):
        new.settle("slow", 600)  # the late settle of the deleted ledger's id is not charged here
    with pytest.raises(LedgerStateLost, match="it was created again .* after this handle attached") as replaced:
        old.settle("slow", 600)  # nor through a handle of the old one
    assert replaced.value.reason == "replaced"
    books = new.snapshot()
    assert (books.spent, books.charged, books.granted, books.balanced) == (0, 0, 0, True)


def test_bad_arguments(redis_client):
    with pytest.raises(TypeError, match="`client` must be a redis.Redis client"):
        RedisLedger("localhost:6379", "x")
    with pytest.raises(ValueError, match="`name` must be a non-empty string without braces"):
        RedisLedger.create(redis_client, "a{b}", 10)
    with pytest.raises(ValueError, match="`persistence` must be one of"):
        RedisLedger.create(redis_client, f"p-{uuid.uuid4().hex}", 10, persistence="maybe")
    with pytest.raises(ValueError, match="`retry_for` must be a finite number of seconds > 0, got 0"):
        RedisLedger.create(redis_client, f"p-{uuid.uuid4().hex}", 10, retry_for=0)
    with pytest.raises(ValueError, match="`budget` must be at most 100000000000000 tokens, got 10000000000000000"):
        RedisLedger.create(redis_client, f"p-{uuid.uuid4().hex}", 10**16)


def test_importing_clear_fast_does_not_import_redis():
    code = "import sys, clear_fast, clear_fast.runtime; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_missing_redis_server_binary_fails_loudly(monkeypatch):
    import redis_server

    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_server.os.path, "exists", lambda path: False)
    with pytest.raises(pytest.fail.Exception, match="redis-server was not found .* apt-get install redis-server"):
        redis_server.start_redis_server()
