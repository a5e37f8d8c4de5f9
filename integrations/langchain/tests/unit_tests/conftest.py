"""Fixtures for the offline tests: no network, a simulated reasoning model that records its calls."""

from __future__ import annotations


import numpy as np
import pytest
from clear_fast import SurgeCurves
from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
from recording_reasoner import RecordingReasoner
from support.network import network_off  # noqa: F401  (autouse: applies to every test here)


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
