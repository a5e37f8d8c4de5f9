"""What only the Redis ledger has: shared names, stored settings, key layout, lazy import."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from clear_fast.runtime import RedisLedger

pytestmark = pytest.mark.redis


def test_two_handles_on_one_name_share_one_budget(redis_client):
    name = f"shared-{uuid.uuid4().hex}"
    first = RedisLedger(redis_client, name, 1000)
    second = RedisLedger(redis_client, name, 1000)
    first.reserve("a", 600)
    assert second.try_reserve("b", 500) is None
    second.settle("a", 100)  # any handle may settle any reservation
    assert first.snapshot().spent == 100


def test_different_settings_under_one_name_are_refused(redis_client):
    name = f"clash-{uuid.uuid4().hex}"
    RedisLedger(redis_client, name, 1000, period=60)
    with pytest.raises(ValueError, match=rf"ledger '{name}' already exists with budget=1000, but this RedisLedger was created with budget=2000"):
        RedisLedger(redis_client, name, 2000, period=60)
    with pytest.raises(ValueError, match="reservation_timeout"):
        RedisLedger(redis_client, name, 1000, period=60, reservation_timeout=5)


def test_keys_are_namespaced_under_one_hash_tag_and_delete_removes_them(redis_client):
    name = f"keys-{uuid.uuid4().hex}"
    ledger = RedisLedger(redis_client, name, 100, reservation_timeout=60)
    ledger.reserve("q", 10)
    found = sorted(key.decode() for key in redis_client.scan_iter(f"clear_fast:{{{name}}}:*"))
    assert found == [f"clear_fast:{{{name}}}:{part}" for part in ("deadline", "open", "state")]
    ledger.delete()
    assert list(redis_client.scan_iter(f"clear_fast:{{{name}}}:*")) == []


def test_bad_arguments(redis_client):
    with pytest.raises(TypeError, match="`client` must be a redis.Redis client"):
        RedisLedger("localhost:6379", "x", 10)
    with pytest.raises(ValueError, match="`name` must be a non-empty string without braces"):
        RedisLedger(redis_client, "a{b}", 10)


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
