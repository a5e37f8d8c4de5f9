"""Throw-away redis-servers for the tests (on 127.0.0.1, a free port), or checking one that CI started.

A :class:`RedisServer` can be killed with SIGKILL, paused with SIGSTOP and
restarted on the same port and data directory, for the fault tests. Every
process is stopped by its own pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

# The settings a production ledger needs (docs/runtime.md): an append-only file, fsync'd every second.
DURABLE = ("--appendonly", "yes", "--appendfsync", "everysec")
# No persistence at all: a restart starts empty.
FORGETFUL = ("--save", "", "--appendonly", "no")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_binary() -> str:
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    if binary is None:
        pytest.fail(
            "redis-server was not found on PATH nor at /usr/bin/redis-server: the Redis ledger tests need it. "
            "Install it (Debian/Ubuntu: apt-get install redis-server)."
        )
    return binary


def answers_ping(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process with its own port and data directory.

    Parameters
    ----------
    settings : sequence of str
        Extra command-line settings (``DURABLE``, ``FORGETFUL``, or others).
    """

    def __init__(self, settings: tuple[str, ...] = DURABLE) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="clear-fast-redis-")
        self.settings = tuple(settings)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start (or start again, on the same port and directory) and wait until it answers PING."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
                   "--dbfilename", "dump.rdb", *self.settings]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stderr.read() if self.process.stderr else b""
                pytest.fail(f"redis-server exited at start: {output.decode(errors='replace')[:500]}")
            if answers_ping(self.port):
                return
            time.sleep(0.02)
        self.kill()
        pytest.fail(f"redis-server did not answer on 127.0.0.1:{self.port} within 10 s")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash of the server process."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # a paused process must be able to die
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the server stops answering; connections stay open and commands queue up."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL if it lingers) and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self, **options):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, **options)


def start_redis_server() -> tuple[subprocess.Popen, int]:
    """Start a throw-away redis-server; return the process and its port (its directory is left to the OS)."""
    server = RedisServer()
    assert server.process is not None
    return server.process, server.port


def running_server_port(text: str) -> int:
    """The port of a redis-server someone else started (``CLEAR_FAST_TEST_REDIS_PORT``); it must answer."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if port > 0 and answers_ping(port, timeout=2):
        return port
    pytest.fail(f"CLEAR_FAST_TEST_REDIS_PORT={text!r}, but no redis-server answers PING on 127.0.0.1 at that port")
