"""Tenant isolation with Redis ACLs: a user confined to one ledger's keys can use it and nothing else.

The rule is the one docs/runtime.md gives for production: the ledger's key
pattern, and only the commands its script runs.
"""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from clear_fast.runtime import PersistenceWarning, RedisLedger

pytestmark = pytest.mark.redis

# Every command the ledger's script runs, and the two it needs to run the script at all.
LEDGER_COMMANDS = (
    "+evalsha +script|load +time +exists +del +hget +hset +hdel +hincrby +hmget +hlen "
    "+zadd +zrem +zrangebyscore +lpush +ltrim +lrange"
)


@pytest.fixture
def tenants(redis_client):
    """Two ledgers made by an administrator, and a user allowed only the first one's keys."""
    suffix = uuid.uuid4().hex[:8]
    mine, theirs, user = f"tenant-a-{suffix}", f"tenant-b-{suffix}", f"user-{suffix}"
    RedisLedger.create(redis_client, mine, 1000)
    other = RedisLedger.create(redis_client, theirs, 1000)
    other.reserve("theirs", 300)
    rule = f"on >secret-{suffix} resetkeys ~clear_fast:{{{mine}}}:* resetchannels -@all {LEDGER_COMMANDS}"
    redis_client.execute_command("ACL", "SETUSER", user, *rule.split())
    client = redis.Redis(host="127.0.0.1", port=redis_client.connection_pool.connection_kwargs["port"],
                         username=user, password=f"secret-{suffix}")
    yield client, mine, theirs, other
    client.close()
    redis_client.execute_command("ACL", "DELUSER", user)


def test_a_confined_user_runs_its_own_ledger(tenants, redis_client):
    client, mine, _, _ = tenants
    redis_client.script_flush()  # the user must be able to load the script itself
    ledger = RedisLedger(client, mine, persistence="ignore")
    ledger.reserve("q", 400)
    ledger.settle("q", 450)
    ledger.reserve_many(["a", "b"], [100, 100])
    ledger.release_many(["a", "b"])
    assert [o.excess for o in ledger.overruns] == [50]
    books = ledger.snapshot()
    assert (books.spent, books.released, books.balanced) == (450, 200, True)
    ledger.delete()
    again = RedisLedger.create(client, mine, 500, persistence="ignore")
    assert again.snapshot().free == 500


def test_a_confined_user_cannot_touch_another_ledger(tenants):
    client, _, theirs, other = tenants
    before = other.snapshot()
    with pytest.raises(redis.exceptions.NoPermissionError):
        RedisLedger(client, theirs, persistence="ignore")
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.hgetall(f"clear_fast:{{{theirs}}}:state")
    with pytest.raises(redis.exceptions.NoPermissionError):
        RedisLedger.create(client, f"{theirs}-new", 10, persistence="ignore")
    assert other.snapshot() == before
    assert other.settle("theirs", 300).used == 300


def test_a_user_who_may_not_read_the_settings_is_told_so(tenants):
    client, mine, _, _ = tenants
    with pytest.warns(PersistenceWarning, match=r"its settings could not be read \(CONFIG GET answered: .*permission"):
        RedisLedger(client, mine)


def test_a_wrong_password_is_raised_at_once_not_retried(tenants, redis_client):
    _, mine, _, _ = tenants
    port = redis_client.connection_pool.connection_kwargs["port"]
    # redis-py's own retries are off here: what is checked is that the ledger does not retry either
    stranger = redis.Redis(host="127.0.0.1", port=port, username="nobody", password="wrong", retry=Retry(NoBackoff(), 0))
    started = time.monotonic()
    with pytest.raises(redis.exceptions.AuthenticationError):
        RedisLedger(stranger, mine, persistence="ignore")
    assert time.monotonic() - started < 2  # not retried for retry_for (10 s)
