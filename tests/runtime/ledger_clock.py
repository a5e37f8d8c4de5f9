"""A clock the tests move by hand, for windows and reservation timeouts."""

from __future__ import annotations


class FakeClock:
    """Starts at 1000 s (not 0, so an origin of 0 is never assumed) and moves only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
