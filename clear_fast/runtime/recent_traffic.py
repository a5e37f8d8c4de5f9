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
    """A sliding window of query curves.

    Parameters
    ----------
    size : int
        Most queries kept; older ones fall out.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.form: str | None = None
        self._rows: deque[tuple[float, float, float, float, float, float]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._rows)

    def check_form(self, curves: SurgeCurves) -> None:
        """Refuse curves of a different form than those already seen (one window, one form)."""
        if self.form is None:
            self.form = curves.form
        elif curves.form != self.form:
            raise ValueError(f"`curves` have form {curves.form!r}, but this pacer prices {self.form!r} curves")

    def add(self, curves: SurgeCurves) -> None:
        """Append queries (the oldest fall out)."""
        self.check_form(curves)
        columns = (curves.tau, curves.alpha, curves.beta, curves.weight, curves.min_tokens, curves.max_tokens)
        self._rows.extend(zip(*(column.tolist() for column in columns)))

    def curves(self) -> SurgeCurves:
        """The window as one SurgeCurves."""
        tau, alpha, beta, weight, low, high = (np.array(column) for column in zip(*self._rows))
        return SurgeCurves(tau, alpha, beta, weight=weight, min_tokens=low, max_tokens=high, form=self.form or "surge")
