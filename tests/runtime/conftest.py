"""Fixtures for the runtime tests: a real redis-server, and ledgers of both kinds.

The server is Debian's ``redis-server`` binary started on 127.0.0.1 on a free
port, without persistence, once per test session; it is stopped by its pid at
the end. A missing binary fails the Redis tests with a clear message: they are
never skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from clear_fast.runtime import Ledger, RedisLedger

sys.path.insert(0, str(Path(__file__).parent))

from ledger_clock import FakeClock  # noqa: E402  (a helper module beside this file)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis_server() -> tuple[subprocess.Popen, int]:
    """Start a throw-away redis-server; return the process and its port."""
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if binary is None:
        pytest.fail(
            "redis-server was not found on PATH nor at /usr/bin/redis-server: the Redis ledger tests need it. "
            "Install it (Debian/Ubuntu: apt-get install redis-server)."
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="clear-fast-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stderr.read() if process.stderr else b""
            pytest.fail(f"redis-server exited at start: {output.decode(errors='replace')[:500]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return process, port
        except OSError:
            time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    pytest.fail(f"redis-server did not answer on 127.0.0.1:{port} within 10 s")


@pytest.fixture(scope="session")
def redis_port():
    process, port = start_redis_server()
    yield port
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


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
        return RedisLedger(client, f"test-{uuid.uuid4().hex}", budget, **options)

    return make


@pytest.fixture
def clock():
    return FakeClock()
