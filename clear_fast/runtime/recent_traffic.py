"""The last few hundred queries a pacer has seen: its picture of current traffic.

The pacer prices tokens for the queries that will come next; the best guess
of what comes next is what just came. Keeping only a recent window lets the
price follow traffic whose difficulty mix shifts.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..curves import SurgeCurves


class RecentTraffic:
    """A sliding window of query curves with their arrival times.

    Parameters
    ----------
    size : int
        Most queries kept; older ones fall out.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.form: str | None = None
        self._times: deque[float] = deque(maxlen=size)
        self._rows: deque[tuple[float, float, float, float, float, float]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._rows)

    def check_form(self, curves: SurgeCurves) -> None:
        """Refuse curves of a different form than those already seen (one window, one form)."""
        if self.form is None:
            self.form = curves.form
        elif curves.form != self.form:
            raise ValueError(f"`curves` have form {curves.form!r}, but this pacer prices {self.form!r} curves")

    def add(self, curves: SurgeCurves, times: float | np.ndarray | None) -> None:
        """Append queries; ``times`` None marks them as a sample (no arrival time)."""
        self.check_form(curves)
        columns = (curves.tau, curves.alpha, curves.beta, curves.weight, curves.min_tokens, curves.max_tokens)
        stamps = np.broadcast_to(np.nan if times is None else times, (len(curves),))
        for stamp, row in zip(stamps.tolist(), zip(*(column.tolist() for column in columns))):
            self._times.append(stamp)
            self._rows.append(row)

    def curves(self) -> SurgeCurves:
        """The window as one SurgeCurves."""
        tau, alpha, beta, weight, low, high = (np.array(column) for column in zip(*self._rows))
        return SurgeCurves(tau, alpha, beta, weight=weight, min_tokens=low, max_tokens=high, form=self.form or "surge")

    def arrival_rate(self, now: float) -> float | None:
        """Queries per second over the window's timed arrivals (None with fewer than 8 of them)."""
        stamps = np.array(self._times)
        stamps = stamps[~np.isnan(stamps)]
        if stamps.size < 8:
            return None
        span = now - float(stamps.min())
        return float(stamps.size) / span if span > 0 else None
