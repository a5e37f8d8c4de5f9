"""Where a pacer reads its budget and its spend: its own tally, or a ledger.

Either way the pacer sees one period at a time: the tokens the period may
spend, the tokens committed so far, and when the period started and ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .ledger_api import LedgerAPI


@dataclass(frozen=True)
class PeriodBooks:
    """The pacer's view of the current period."""

    budget: int
    committed: int
    start: float
    end: float
    arrivals: int

    @property
    def remaining(self) -> int:
        return max(self.budget - self.committed, 0)


class OwnBooks:
    """Spend recorded through ``Pacer.record``; the budget restarts every period."""

    def __init__(self, budget: int, period: float, origin: float) -> None:
        self.budget = budget
        self.period = period
        self.origin = origin
        self.index = 0
        self.spent = 0
        self.arrivals = 0

    def read(self, now: float) -> PeriodBooks:
        index = max(int(math.floor((now - self.origin) / self.period)), 0)
        if index != self.index:
            self.index, self.spent = index, 0
        start = self.origin + index * self.period
        return PeriodBooks(self.budget, self.spent, start, start + self.period, self.arrivals)

    def note_arrivals(self, count: int) -> None:
        self.arrivals += count

    def record(self, now: float, tokens: int) -> None:
        self.read(now)
        self.spent += tokens


class LedgerBooks:
    """Budget, spend and arrivals read from a ledger: its window's allowance, spent plus reserved.

    Arrivals are counted on the ledger too, so pacers in different processes
    sharing one ledger all see the fleet's arrival rate.

    A ledger with a rate budget gives its own windows; a total-budget ledger is
    paced over ``period`` seconds from ``origin``.
    """

    def __init__(self, ledger: LedgerAPI, period: float, origin: float) -> None:
        self.ledger = ledger
        self.period = period
        self.origin = origin

    def read(self, now: float) -> PeriodBooks:
        books = self.ledger.snapshot()
        if math.isfinite(books.window_end):
            start, end = books.window_start, books.window_end
        else:
            index = max(int(math.floor((now - self.origin) / self.period)), 0)
            start = self.origin + index * self.period
            end = start + self.period
        return PeriodBooks(books.allowance, books.spent + books.reserved, start, end, books.arrivals)

    def note_arrivals(self, count: int) -> None:
        self.ledger.note_arrivals(count)

    def record(self, now: float, tokens: Any) -> None:
        raise RuntimeError(
            "this pacer reads its spend from its ledger: settle usage on the ledger instead of calling record()"
        )
