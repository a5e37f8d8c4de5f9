"""The in-process ledger: one lock around plain integers.

Every operation takes the lock, first rolls the window forward and returns
expired reservations to the pool, then does its work; so each operation sees
and leaves consistent books. Async callers use the same lock: an operation
never awaits while holding it and takes microseconds, so the event loop is
not held up.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable

from .._checks import as_integer_at_least, as_optional_seconds
from .errors import BudgetExceeded, ReservationClosed, ReservationOpen, UnknownReservation
from .ledger_api import LedgerAPI
from .ledger_arguments import Request
from .records import LedgerSnapshot, Overrun, Release, Reservation, Settlement
from .window import BudgetWindow


class Ledger(LedgerAPI):
    """A token budget shared by the threads and tasks of one process.

    Parameters
    ----------
    budget : int
        Tokens in total, or per ``period``.
    period : float, optional
        Seconds per window for a rate budget (``budget`` tokens per ``period``).
    rollover : bool, default False
        Carry unspent tokens (or an overdraft) into the next window.
    max_carry : int, optional
        Most tokens that may roll over.
    reservation_timeout : float, optional
        Seconds after which an unsettled reservation is released, so a worker
        that dies between reserve and settle does not hold tokens forever.
    clock : callable, default time.monotonic
        Returns the time in seconds; inject a fake one in tests.
    remember : int, default 100_000
        How many closed ids are remembered to recognise a double settle.

    Notes
    -----
    Reserving never lets ``spent + reserved`` pass the window's allowance. Only
    an overrun (a settle with more tokens than were reserved: an endpoint that
    ignored the cap) can; those tokens are charged, because they were really
    spent, and counted in ``snapshot().overrun`` and :attr:`overruns`. The
    window is then overdrawn by at most the overruns it received.
    """

    def __init__(
        self,
        budget: Any,
        *,
        period: Any = None,
        rollover: bool = False,
        max_carry: Any = None,
        reservation_timeout: Any = None,
        clock: Callable[[], float] = time.monotonic,
        remember: int = 100_000,
    ) -> None:
        self.window = BudgetWindow(budget, period, rollover, max_carry)
        self.reservation_timeout = as_optional_seconds("reservation_timeout", reservation_timeout)
        if not callable(clock):
            raise TypeError(f"`clock` must be callable, got {clock!r:.80}")
        self._clock = clock
        self._remember = as_integer_at_least("remember", remember, 0)
        self._lock = threading.Lock()
        self._origin = float(clock())
        self._window_index = 0
        self._allowance = self.window.budget
        self._spent = 0
        self._reserved = 0
        self._open: dict[str, tuple[int, float | None]] = {}
        self._deadlines: list[tuple[float, str]] = []
        self._closed: OrderedDict[str, str] = OrderedDict()
        self._totals = dict.fromkeys(
            ("granted", "charged", "refunded", "released", "expired", "overrun", "overrun_count"), 0
        )
        self._overruns: deque[Overrun] = deque(maxlen=1000)
        self._arrivals = 0

    @property
    def clock(self) -> Callable[[], float]:
        """The clock this ledger keeps time with (a pacer reading the ledger uses it too)."""
        return self._clock

    @property
    def overruns(self) -> list[Overrun]:
        """The most recent overruns (up to 1000), oldest first."""
        with self._lock:
            return list(self._overruns)

    # -- housekeeping under the lock ---------------------------------------------------------

    def _catch_up(self) -> float:
        """Roll the window and expire reservations up to now; return now."""
        now = float(self._clock())
        index = self.window.index(now - self._origin)
        if index > self._window_index:
            self._allowance = self.window.next_allowance(self._allowance, self._spent, index - self._window_index)
            self._spent = 0
            self._window_index = index
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, query_id = heapq.heappop(self._deadlines)
            held = self._open.get(query_id)
            if held is not None and held[1] == deadline:
                del self._open[query_id]
                self._reserved -= held[0]
                self._totals["expired"] += held[0]
                self._forget_later(query_id, "expired")
        return now

    def _forget_later(self, query_id: str, how: str) -> None:
        self._closed[query_id] = how
        self._closed.move_to_end(query_id)
        while len(self._closed) > self._remember:
            self._closed.popitem(last=False)

    def _closed_error(self, query_id: str, operation: str) -> Exception:
        how = self._closed.get(query_id)
        if how is None:
            return UnknownReservation(query_id, operation)
        return ReservationClosed(query_id, operation, how)

    # -- primitives: each checks the whole batch, then applies it, under one lock -------------

    def _reserve_many(self, requests: list[Request]) -> list[Reservation | BudgetExceeded]:
        with self._lock:
            now = self._catch_up()
            for query_id, _, _ in requests:
                if query_id in self._open:
                    raise ReservationOpen(query_id, self._open[query_id][0])
            return [self._reserve_one(now, *request) for request in requests]

    def _reserve_one(self, now: float, query_id: str, tokens: int, at_least: int | None) -> Reservation | BudgetExceeded:
        free = self._allowance - self._spent - self._reserved
        if tokens > free:
            if at_least is None or free < at_least:
                return BudgetExceeded(query_id, tokens, max(free, 0), self._allowance, self._spent, self._reserved)
            tokens = free  # a smaller grant the caller said it can use
        deadline = None if self.reservation_timeout is None else now + self.reservation_timeout
        self._open[query_id] = (tokens, deadline)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, query_id))
        self._closed.pop(query_id, None)
        self._reserved += tokens
        self._totals["granted"] += tokens
        return Reservation(query_id, tokens, deadline, self)

    def _check_closable(self, ids: list[str], operation: str) -> None:
        """Raise the first id's error that is neither open nor expired (then the batch changes nothing)."""
        for query_id in ids:
            if query_id not in self._open and self._closed.get(query_id) != "expired":
                raise self._closed_error(query_id, operation)

    def _settle_many(self, usages: list[tuple[str, int]]) -> list[Settlement]:
        with self._lock:
            self._catch_up()
            self._check_closable([query_id for query_id, _ in usages], "settle")
            return [self._settle_one(query_id, used) for query_id, used in usages]

    def _settle_one(self, query_id: str, used: int) -> Settlement:
        held = self._open.pop(query_id, None)
        if held is None:
            reserved, late = 0, True  # expired: the worker was slow, not dead, and its tokens were really spent
        else:
            reserved, late = held[0], False
            self._reserved -= reserved
        refunded = max(reserved - used, 0)
        overrun = max(used - reserved, 0)
        self._spent += used
        self._totals["charged"] += used
        self._totals["refunded"] += refunded
        if overrun:
            self._totals["overrun"] += overrun
            self._totals["overrun_count"] += 1
            self._overruns.append(Overrun(query_id, reserved, used))
        self._forget_later(query_id, f"settled (used {used} of {reserved})")
        return Settlement(query_id, reserved, used, refunded, overrun, late)

    def _release_many(self, ids: list[str]) -> list[Release]:
        with self._lock:
            self._catch_up()
            self._check_closable(ids, "release")
            return [self._release_one(query_id) for query_id in ids]

    def _release_one(self, query_id: str) -> Release:
        held = self._open.pop(query_id, None)
        if held is None:
            return Release(query_id, 0, late=True)
        self._reserved -= held[0]
        self._totals["released"] += held[0]
        self._forget_later(query_id, "released")
        return Release(query_id, held[0])

    def _note_arrivals(self, count: int) -> int:
        with self._lock:
            self._arrivals += count
            return self._arrivals

    def _snapshot(self) -> LedgerSnapshot:
        with self._lock:
            self._catch_up()
            start, end = self.window.bounds(self._origin, self._window_index)
            return LedgerSnapshot(
                budget=self.window.budget,
                allowance=self._allowance,
                spent=self._spent,
                reserved=self._reserved,
                open_reservations=len(self._open),
                window=self._window_index,
                window_start=start,
                window_end=end,
                **self._totals,
                arrivals=self._arrivals,
            )

    def __repr__(self) -> str:
        period = "total" if self.window.period is None else f"per {self.window.period:g} s"
        return f"Ledger(budget={self.window.budget} {period})"
