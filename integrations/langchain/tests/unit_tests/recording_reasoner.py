"""A SimulatedReasoner that remembers every (query, cap) it was asked, and how many ran at once."""

from __future__ import annotations

import threading
import time

from clear_fast import SurgeCurves
from clear_fast.workloads.simulated_model import SimulatedReasoner


class RecordingReasoner:
    """A SimulatedReasoner that remembers every (query, cap) it was asked, and how many ran at once."""

    def __init__(self, curves: SurgeCurves, *, seed: int = 0, delay: float = 0.0) -> None:
        self.inner = SimulatedReasoner(curves, seed=seed)
        self.calls: list[tuple[int, int]] = []
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def answer(self, query: int, cap: int):
        with self._lock:
            self.calls.append((query, cap))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self.inner.answer(query, cap)
        finally:
            with self._lock:
                self.in_flight -= 1

    def queries(self) -> set[int]:
        return {q for q, _ in self.calls}
