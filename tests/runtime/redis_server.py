"""Starting a throw-away redis-server for the tests, or checking one that CI started."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest


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


def running_server_port(text: str) -> int:
    """The port of a redis-server someone else started (``CLEAR_FAST_TEST_REDIS_PORT``); it must answer."""
    try:
        port = int(text)
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            if connection.recv(16).startswith(b"+PONG"):
                return port
    except (ValueError, OSError):
        pass
    pytest.fail(f"CLEAR_FAST_TEST_REDIS_PORT={text!r}, but no redis-server answers PING on 127.0.0.1 at that port")
