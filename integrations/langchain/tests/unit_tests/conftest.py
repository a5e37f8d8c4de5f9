"""Fixtures for the offline tests: no network, a simulated reasoning model that records its calls."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from clear_fast import SurgeCurves
from clear_fast.workloads.chat_model import SimulatedReasoningChatModel
from recording_reasoner import RecordingReasoner

_LOCAL = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that is not to this machine."""
    connect = socket.socket.connect

    def local_only(sock: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if host not in _LOCAL:
            raise ConnectionRefusedError(f"network is off in unit tests: connection to {address!r} refused")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.fixture
def curves() -> SurgeCurves:
    """Eight queries from easy to hopeless, accuracy-at-a-cap curves."""
    tau = np.array([20.0, 35.0, 50.0, 80.0, 120.0, 400.0, 900.0, 1500.0])
    return SurgeCurves.from_peak(tau, 0.95, 25.0, form="cumulative")


@pytest.fixture
def reasoner(curves: SurgeCurves) -> RecordingReasoner:
    return RecordingReasoner(curves, seed=3)


@pytest.fixture
def model(reasoner: RecordingReasoner) -> SimulatedReasoningChatModel:
    return SimulatedReasoningChatModel(reasoner=reasoner)
