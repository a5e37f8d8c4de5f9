"""The online shadow price: caps for queries that arrive one at a time.

A batch solve (:func:`clear_fast.allocate`) sees every query before choosing.
A stream does not, so the pacer keeps one price per token and quotes each
arriving query its best response at that price: the same rule as the batch
solve, so a query is abandoned exactly when its break-even price is below the
current price.

The price is a dual variable moved by the spend. The budget has a schedule
(linear over the period unless told otherwise). Every ``resolve_every`` arrivals the pacer asks how
many tokens the schedule allows over the next ``catch_up`` seconds, given what
is already committed (ahead of schedule: fewer; behind: more), divides them by
the arrivals expected in that time, and sets the price that clears that
per-query budget on the recent window of traffic (one batch solve). Spending
too fast raises the price; too slow lowers it; a shift in the difficulty mix
moves it as soon as the window fills with the new mix.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._checks import as_budget, as_integer_at_least, as_nonnegative_number, as_positive_number, as_seconds
from ..allocate import allocate
from ..curves import SurgeCurves
from ..pricing import best_response, breakeven_price
from .fairness import TenantShares
from .ledger_api import LedgerAPI
from .pacer_books import LedgerBooks, OwnBooks, PeriodBooks
from .policies import Decision, Refuse, run_decision
from .quote import Quote
from .recent_traffic import RecentTraffic
from .schedule import Schedule, check_schedule, linear_schedule


@dataclass(frozen=True)
class PacerStatus:
    """The pacer's state at one instant: the price, and the period's books against its schedule."""

    price: float
    budget: int
    committed: int
    scheduled: float
    period_start: float
    period_end: float
    arrivals: int
    window: int


class Pacer:
    """Quotes token caps to a stream of queries so one budget lasts its period.

    Parameters
    ----------
    budget : int, optional
        Tokens per period. Omit it when pacing a ``ledger`` (its allowance is used).
    period : float, optional
        Seconds per period. Omit it when the ``ledger`` has a rate budget (its
        windows are used); required otherwise.
    ledger : Ledger or RedisLedger, optional
        Read budget and spend from this ledger (spent plus reserved), so every
        worker sharing the ledger moves the price. Without one, report spend
        with :meth:`record`.
    sample : SurgeCurves, optional
        Curves of typical queries for the warm start: the first price clears
        ``budget / expected_queries`` tokens per query on this sample.
    expected_queries : float, optional
        Queries expected per period; needed with ``sample``, and the arrival
        rate used until enough arrivals have been seen.
    price : float, optional
        Starting price per token instead of a warm start from a sample.
    catch_up : float, optional
        Spend horizon in seconds: a deviation from the schedule is made up over
        this long (default a tenth of the period).
    schedule : callable, optional
        Fraction of the budget to have spent by each fraction of the period
        (default linear; see :func:`schedule_from_history`).
    window : int, default 256
        Recent queries the price is solved on.
    resolve_every : int, default 32
        Arrivals between two price updates.
    fairness : TenantShares, optional
        Per-tenant value weights and minimum shares (see :class:`TenantShares`).
    clock : callable, optional
        Time in seconds (default: the ledger's clock, else ``time.monotonic``).

    Notes
    -----
    The pacer is thread-safe (one lock). It only advises: a cap it quotes is
    enforced by reserving it on a ledger. Each update costs one
    :func:`clear_fast.allocate` over ``window`` queries.
    """

    def __init__(
        self,
        budget: Any = None,
        period: Any = None,
        *,
        ledger: LedgerAPI | None = None,
        sample: SurgeCurves | None = None,
        expected_queries: Any = None,
        price: Any = None,
        catch_up: Any = None,
        schedule: Schedule | None = None,
        window: int = 256,
        resolve_every: int = 32,
        fairness: TenantShares | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if clock is None:
            clock = getattr(ledger, "clock", None) or time.monotonic
        if not callable(clock):
            raise TypeError(f"`clock` must be callable, got {clock!r:.80}")
        self._clock = clock
        origin = float(clock())
        if ledger is None:
            if budget is None or period is None:
                raise ValueError("give `budget` and `period`, or a `ledger` to read them from")
            self.period = as_seconds("period", period)
            self._books: OwnBooks | LedgerBooks = OwnBooks(as_budget(budget), self.period, origin)
        else:
            if not isinstance(ledger, LedgerAPI):
                raise TypeError(f"`ledger` must be a Ledger or RedisLedger, got {type(ledger).__name__}")
            if budget is not None:
                raise ValueError("`budget` comes from the ledger when one is given: leave it out")
            ledger_period = ledger.window.period
            if ledger_period is not None and period is not None and float(period) != ledger_period:
                raise ValueError(f"`period` is {period!r} but the ledger's windows last {ledger_period!r} s")
            if ledger_period is None and period is None:
                raise ValueError("the ledger has a total budget: give the `period` to pace it over")
            self.period = as_seconds("period", period if ledger_period is None else ledger_period)
            self._books = LedgerBooks(ledger, self.period, origin)
        self.catch_up = self.period / 10 if catch_up is None else as_seconds("catch_up", catch_up)
        self.resolve_every = as_integer_at_least("resolve_every", resolve_every, 1)
        self.schedule = linear_schedule if schedule is None else check_schedule(schedule)
        self._traffic = RecentTraffic(as_integer_at_least("window", window, 1))
        if fairness is not None and not isinstance(fairness, TenantShares):
            raise TypeError(f"`fairness` must be a TenantShares, got {type(fairness).__name__}")
        self.fairness = fairness
        self._lock = threading.RLock()
        self._arrival_log: deque[tuple[float, int]] = deque(maxlen=self._traffic.size)
        self._since_update = 0
        self._updated_at = origin
        self._prior_rate: float | None = None
        if expected_queries is not None:
            self._prior_rate = as_positive_number("expected_queries", expected_queries) / self.period
        self._price = self._start_price(sample, price, origin)

    # -- the price ---------------------------------------------------------------------------

    def _start_price(self, sample: SurgeCurves | None, price: Any, now: float) -> float:
        if price is not None:
            if sample is not None:
                raise ValueError("give a starting `price` or a `sample` to solve for one, not both")
            return as_nonnegative_number("price", price)
        if sample is None:
            raise ValueError("give a `sample` of typical curves (with `expected_queries`) or a starting `price`")
        if not isinstance(sample, SurgeCurves) or len(sample) == 0:
            raise TypeError("`sample` must be a non-empty SurgeCurves")
        if self._prior_rate is None:
            raise ValueError("a `sample` needs `expected_queries` (queries per period) to know each query's share")
        self._traffic.add(sample)
        per_query = self._books.read(now).budget / (self._prior_rate * self.period)
        return float(allocate(sample, int(per_query * len(sample))).shadow_price)

    def _scheduled(self, books: PeriodBooks, at: float) -> float:
        """Tokens the schedule allows to be spent by time ``at``."""
        fraction = min(max((at - books.start) / (books.end - books.start), 0.0), 1.0)
        return books.budget * float(self.schedule(fraction))

    def _update_price(self, now: float, books: PeriodBooks) -> None:
        """The dual update: clear the schedule's tokens for the next ``catch_up`` seconds on recent traffic."""
        horizon = min(self.catch_up, max(books.end - now, 1e-9))
        allowed = max(self._scheduled(books, now + horizon) - books.committed, 0.0)
        allowed = min(allowed, books.remaining)
        rate = self._arrival_rate(now)
        if rate is None:
            rate = self._prior_rate
        if rate is None or len(self._traffic) == 0:
            return  # nothing to learn from yet: keep the starting price
        per_query = allowed / max(rate * horizon, 1.0)
        if per_query <= 0:
            self._price = math.inf  # ahead of schedule by a whole horizon: pause
            return
        self._price = float(allocate(self._traffic.curves(), int(per_query * len(self._traffic))).shadow_price)

    def _arrival_rate(self, now: float) -> float | None:
        """Queries per second lately, from the arrivals counter (the fleet's, with a ledger).

        None until a quarter of a window's worth of arrivals has been counted.
        """
        if len(self._arrival_log) < 2:
            return None
        (first_time, first_count), (_, last_count) = self._arrival_log[0], self._arrival_log[-1]
        if last_count - first_count < max(8, self._traffic.size // 4) or now <= first_time:
            return None
        return (last_count - first_count) / (now - first_time)

    @property
    def price(self) -> float:
        """The current price per token (``inf``: paused, ahead of schedule)."""
        return self._price

    def status(self) -> PacerStatus:
        """The price and the period's books against the schedule, now."""
        with self._lock:
            now = float(self._clock())
            books = self._books.read(now)
            return PacerStatus(
                self._price, books.budget, books.committed, self._scheduled(books, now),
                books.start, books.end, books.arrivals, len(self._traffic),
            )

    # -- quotes ------------------------------------------------------------------------------

    def quote(self, curves: SurgeCurves, *, tenant: str | None = None) -> Quote:
        """Caps for arriving queries at the current price.

        Parameters
        ----------
        curves : SurgeCurves
            One query, or a burst that arrived together (solved as one batch:
            :func:`clear_fast.allocate` over the burst, with the tokens the burst
            would buy at the current price).
        tenant : str, optional
            Whose queries these are, for the pacer's ``fairness`` rules.

        Returns
        -------
        Quote
            ``tokens`` (0 = abandon), the price used, break-even prices, and ``why(i)``.
        """
        return self._quote(curves, tenant, arrival=True)

    async def aquote(self, curves: SurgeCurves, *, tenant: str | None = None) -> Quote:
        """Async twin of :meth:`quote`, run in a worker thread: a price update (a batch
        solve) or a Redis ledger's round trips never stall the event loop."""
        import asyncio  # here, not at import: only async callers need it

        return await asyncio.to_thread(self._quote, curves, tenant, arrival=True)

    def requote(self, curves: SurgeCurves, *, tenant: str | None = None) -> Quote:
        """Quote queries again that were already quoted (a deferred query, its fallback).

        The same as :meth:`quote`, except that nothing is counted: not as an
        arrival, not in the recent traffic, not in the tenant shares.
        """
        return self._quote(curves, tenant, arrival=False)

    def _quote(self, curves: SurgeCurves, tenant: str | None, *, arrival: bool) -> Quote:
        if not isinstance(curves, SurgeCurves):
            raise TypeError(f"`curves` must be a SurgeCurves, got {type(curves).__name__}")
        if tenant is not None and not isinstance(tenant, str):
            raise TypeError(f"`tenant` must be a string or None, got {tenant!r:.80}")
        with self._lock:
            self._traffic.check_form(curves)
            now = float(self._clock())
            if arrival:
                self._books.note_arrivals(len(curves))
            books = self._books.read(now)
            if arrival:
                self._since_update += len(curves)
                self._arrival_log.append((now, books.arrivals))
            # Update on enough arrivals, or when time alone has moved the schedule (a quiet spell).
            if self._since_update >= self.resolve_every or now - self._updated_at > self.catch_up / 4:
                self._update_price(now, books)
                self._since_update, self._updated_at = 0, now
            if arrival:
                self._traffic.add(curves)
            priced = curves if self.fairness is None else self.fairness.weighted(curves, tenant)
            price = self._price if self.fairness is None else self._price * self.fairness.discount(tenant)
            tokens, limited = self._caps(priced, price, books.remaining)
            if self.fairness is not None and arrival:
                self.fairness.observe(tenant, tokens)
            return Quote(tokens, price, breakeven_price(priced), limited, books.remaining)

    @staticmethod
    def _caps(curves: SurgeCurves, price: float, remaining: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(curves)
        if n == 0 or math.isinf(price):
            return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        wanted = best_response(curves, price)
        if n > 1:
            # A burst: one batch solve, so the burst's tokens go where they buy the most.
            tokens = allocate(curves, int(min(wanted.sum(), remaining))).tokens.copy()
            return tokens, (tokens < wanted) & (wanted.sum() > remaining)
        tokens = wanted.copy()
        limited = tokens > remaining
        if limited[0]:
            tokens[0] = remaining if remaining >= math.ceil(curves.lower[0]) else 0
        return tokens, limited

    def admit(self, curve: SurgeCurves, *, policy: Any = None, tenant: str | None = None) -> Decision:
        """Quote one query and, if the price turns it away, apply ``policy``.

        Parameters
        ----------
        curve : SurgeCurves of one query
        policy : Refuse, Defer or FallBack, optional
            What to do when the query is not funded (default :class:`Refuse`).
        tenant : str, optional
            For the pacer's fairness rules.

        Returns
        -------
        Decision
            ``action`` "run", "fallback" or "refuse", the cap, and the reason.
        """
        self._check_one(curve)
        quote = self.quote(curve, tenant=tenant)
        if quote.funded[0]:
            return run_decision(quote)
        return (policy or Refuse()).decide(self, curve, quote, tenant)

    async def aadmit(self, curve: SurgeCurves, *, policy: Any = None, tenant: str | None = None) -> Decision:
        """Async twin of :meth:`admit`: a deferred query waits without blocking the event loop."""
        self._check_one(curve)
        quote = await self.aquote(curve, tenant=tenant)
        if quote.funded[0]:
            return run_decision(quote)
        return await (policy or Refuse()).adecide(self, curve, quote, tenant)

    @staticmethod
    def _check_one(curve: SurgeCurves) -> None:
        if not isinstance(curve, SurgeCurves) or len(curve) != 1:
            raise ValueError(f"`curve` must be a SurgeCurves of one query, got {curve!r:.80}")

    def record(self, tokens: Any) -> None:
        """Report tokens really spent (at settle) when the pacer keeps its own books.

        Raises
        ------
        RuntimeError
            When the pacer reads its spend from a ledger.
        """
        with self._lock:
            self._books.record(float(self._clock()), as_budget(tokens, "tokens"))

    def __repr__(self) -> str:
        return f"Pacer(period={self.period:g} s, price={self._price:.6g})"
