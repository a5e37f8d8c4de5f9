"""Fixtures for the runtime tests: a real redis-server, and ledgers of both kinds.

The server is Debian's ``redis-server`` binary started on 127.0.0.1 on a free
port, once per test session, with the persistence a production ledger needs (an
append-only file, fsync'd every second); it is stopped by its pid at the end.
The fault tests start servers of their own (``redis_server.RedisServer``). A missing binary fails the Redis tests with a clear message: they are
never skipped. A CI script that starts its own server can name its port in
``CLEAR_FAST_TEST_REDIS_PORT`` instead (every test uses fresh, unique key names).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from clear_fast.runtime import Ledger, RedisLedger

sys.path.insert(0, str(Path(__file__).parent))

from ledger_clock import FakeClock  # noqa: E402  (support modules beside this file)
from redis_server import RedisServer, running_server_port  # noqa: E402


@pytest.fixture(scope="session")
def redis_port():
    """A redis-server on 127.0.0.1: the one named by CLEAR_FAST_TEST_REDIS_PORT, else our own."""
    given = os.environ.get("CLEAR_FAST_TEST_REDIS_PORT")
    if given:
        yield running_server_port(given)
        return
    server = RedisServer()
    yield server.port
    server.stop()


@pytest.fixture
def redis_client(redis_port):
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port)
    yield client
    client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_ledger(request):
    """Builds ledgers of one kind per test run: the in-process one, then the Redis one."""
    if request.param == "memory":
        return Ledger

    client = request.getfixturevalue("redis_client")

    def make(budget, **options):
        return RedisLedger.create(client, f"test-{uuid.uuid4().hex}", budget, **options)

    return make


@pytest.fixture
def clock():
    return FakeClock()
