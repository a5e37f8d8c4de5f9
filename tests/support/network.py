"""Keep a test session on this machine: any connection to another host is refused."""

from __future__ import annotations

import socket
from typing import Any

import pytest

LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def refuse_remote_connections(monkeypatch: Any) -> None:
    """Patch ``socket.connect`` (through pytest's ``monkeypatch``) to refuse non-local addresses."""
    connect = socket.socket.connect

    def local_only(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in LOCAL_HOSTS:
            raise ConnectionRefusedError(f"network is off in these tests: connection to {address!r} refused")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture(autouse=True)
def network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that is not to this machine (import it into a conftest to apply it there)."""
    refuse_remote_connections(monkeypatch)
