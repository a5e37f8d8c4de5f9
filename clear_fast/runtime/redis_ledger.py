"""A ledger kept in Redis, shared by every process and machine that names it.

Same interface and the same books as :class:`~clear_fast.runtime.ledger.Ledger`;
each operation (a single call or a whole batch) is one call of the Lua script in
the ``ledger_*.lua`` files, so it is atomic on the server. The ``redis`` package
is imported only when a ``RedisLedger`` is created.
"""

from __future__ import annotations

import functools
import math
import os
import time
from typing import Any, Callable

from .._checks import as_optional_seconds, as_seconds
from .background import finish_in_thread
from .errors import BudgetExceeded, LedgerExists, ReservationClosed, ReservationOpen, UnknownReservation
from .ledger_api import LedgerAPI
from .ledger_arguments import Request
from .records import LedgerSnapshot, Overrun, Release, Reservation, Settlement
from .redis_calls import LedgerCalls, server_time_text
from .redis_persistence import check_mode, check_persistence
from .window import BudgetWindow


class RedisLedger(LedgerAPI):
    """A token budget shared through a Redis server.

    A ledger is created once, with :meth:`create` (a deployment step, not
    something every worker does); workers attach to it by name::

        RedisLedger.create(client, "fleet-eu", 2_000_000, period=3600, reservation_timeout=600)
        ledger = RedisLedger(client, "fleet-eu")      # in every worker

    Parameters
    ----------
    client : redis.Redis
        A connected client (``redis.Redis(host=..., port=...)``); it is
        thread-safe (a connection pool) and may be shared.
    name : str
        The ledger's name: every handle naming it on the same server shares one
        budget. Keys are ``clear_fast:{name}:*``.
    clock : callable, optional
        Time in seconds. By default the Redis server's clock is used, so
        machines with skewed clocks still agree on windows and expiries.
    persistence : {"warn", "require", "ignore"}
        What to do when the server's settings can lose the ledger's writes (no
        append-only file, ``appendfsync no``, an ``allkeys-*`` eviction policy)
        or cannot be read: warn (:class:`PersistenceWarning`), refuse
        (:class:`LedgerError`), or say nothing.
    retry_for : float, default 10
        Seconds to keep retrying a call the server does not answer (a timeout,
        a lost connection, a restart) before raising :class:`LedgerUnavailable`.
        Retrying is safe: every call carries a token, and a retried call gets the
        outcome of the first.

    Attributes
    ----------
    window : BudgetWindow
        The stored budget and windows.
    reservation_timeout, closed_ttl : float or None
        The stored seconds before an unsettled reservation expires, and that a
        closed id is remembered.
    created : float
        When the ledger was created (server time, seconds since the epoch).

    Raises
    ------
    LedgerNotFound
        When no ledger of that name exists: it was never created, or it was
        deleted, or the server lost its data.
    LedgerStateLost
        When the ledger is halted because its books went back in time.

    Notes
    -----
    Counts are whole numbers up to 1e14 per call, the same limit as the
    in-process ledger's. See "Running the ledger in production" in
    docs/runtime.md for the server settings, ACLs, timeouts and the errors.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        clock: Callable[[], float] | None = None,
        persistence: str = "warn",
        retry_for: float = 10.0,
    ) -> None:
        if clock is not None and not callable(clock):
            raise TypeError(f"`clock` must be callable or None, got {clock!r:.80}")
        self._calls = LedgerCalls(client, name, clock, as_seconds("retry_for", retry_for))
        check_persistence(client, check_mode(persistence), name)
        self._attach()

    def _attach(self) -> None:
        reply = self._calls.call("attach")
        epoch, budget, period, rollover, max_carry, timeout, closed_ttl, created = reply[3:11]
        self.window = BudgetWindow(
            int(budget), float(period) or None, rollover == "1", None if int(max_carry) < 0 else int(max_carry)
        )
        self.reservation_timeout = float(timeout) or None
        self.closed_ttl = float(closed_ttl)
        self.created = float(created)
        self._calls.remember(epoch)

    @classmethod
    def create(
        cls,
        client: Any,
        name: str,
        budget: Any,
        *,
        period: Any = None,
        rollover: bool = False,
        max_carry: Any = None,
        reservation_timeout: Any = None,
        closed_ttl: Any = 86400.0,
        clock: Callable[[], float] | None = None,
        persistence: str = "warn",
        retry_for: float = 10.0,
    ) -> RedisLedger:
        """Create the ledger ``name`` on the server and return a handle attached to it.

        Parameters
        ----------
        budget, period, rollover, max_carry, reservation_timeout
            As for :class:`~clear_fast.runtime.ledger.Ledger`; stored on the
            server, so every handle uses the same.
        closed_ttl : float, default 86400
            Seconds of ledger time a closed id is remembered, to recognise a
            double settle (and a retried one).
        clock, persistence, retry_for
            As for the constructor.

        Raises
        ------
        LedgerExists
            When a ledger of that name exists already (nothing is changed).
        """
        window = BudgetWindow(budget, period, rollover, max_carry)
        timeout = as_optional_seconds("reservation_timeout", reservation_timeout)
        remembered = as_seconds("closed_ttl", closed_ttl)
        if clock is not None and not callable(clock):
            raise TypeError(f"`clock` must be callable or None, got {clock!r:.80}")
        calls = LedgerCalls(client, name, clock, as_seconds("retry_for", retry_for))
        check_persistence(client, check_mode(persistence), name)
        settings = [
            os.urandom(12).hex(),
            str(window.budget),
            repr(window.period or 0.0),
            "1" if window.rollover else "0",
            str(-1 if window.max_carry is None else window.max_carry),
            repr(timeout or 0.0),
            repr(remembered),
        ]
        reply = calls.call("create", *settings)
        if reply[0] == "exists":
            raise LedgerExists(name, server_time_text(reply[1]))
        return cls(client, name, clock=clock, persistence="ignore", retry_for=retry_for)

    @classmethod
    def acknowledge_reset(
        cls,
        client: Any,
        name: str,
        *,
        clock: Callable[[], float] | None = None,
        persistence: str = "warn",
        retry_for: float = 10.0,
    ) -> RedisLedger:
        """Accept the ledger's books as they now are on the server, and let it be used again.

        After a restart from an older snapshot (or a failover to a lagging
        replica) the first handle that notices halts the ledger; every operation
        then raises :class:`LedgerStateLost` until this is called. Check the books
        first (the tokens spent since the snapshot are not in them; add them with
        a settle if you know them). Handles attached before keep working. Also
        call it right after restoring a backup on purpose. Returns a new handle.
        """
        LedgerCalls(client, name, clock, as_seconds("retry_for", retry_for)).call("acknowledge")
        return cls(client, name, clock=clock, persistence=persistence, retry_for=retry_for)

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._calls.name

    @property
    def keys(self) -> list[str]:
        """The ledger's keys on the server (all of them)."""
        return list(self._calls.keys)

    async def _in_background(self, function: Any, *args: Any) -> Any:
        # The client blocks on the network: keep the event loop free, and exact under cancellation.
        return await finish_in_thread(function, *args)

    async def _areserve_many(self, requests: list[Request]) -> list[Reservation | BudgetExceeded]:
        # A caller cancelled while the server granted cannot use the grants: withdraw them.
        token = self._calls.new_token()
        undo = functools.partial(self._withdraw, token)
        return await finish_in_thread(self._reserve_with, requests, token, undo=undo)

    def _raise_refusal(self, reply: list[str], operation: str) -> None:
        kind = reply[0]
        if kind == "open":
            raise ReservationOpen(reply[3], int(reply[4]))
        if kind == "unknown":
            raise UnknownReservation(reply[3], operation)
        if kind == "closed":
            raise ReservationClosed(reply[3], operation, reply[4])

    @staticmethod
    def _lines(reply: list[str]) -> list[list[str]]:
        """The answer of a batch: one line of values per query."""
        return [line.split(" ") for line in reply[3].split("\n")]

    # -- primitives --------------------------------------------------------------------------

    def _reserve_many(self, requests: list[Request]) -> list[Reservation | BudgetExceeded]:
        return self._reserve_with(requests, self._calls.new_token())

    def _reserve_with(self, requests: list[Request], token: str) -> list[Reservation | BudgetExceeded]:
        caps = " ".join(str(tokens) for _, tokens, _ in requests)
        floors = " ".join("-" if at_least is None else str(at_least) for _, _, at_least in requests)
        ids = [query_id for query_id, _, _ in requests]
        reply = self._calls.call("reserve", str(len(requests)), caps, floors, *ids, token=token)
        self._raise_refusal(reply, "reserve")
        outcomes: list[Reservation | BudgetExceeded] = []
        for (query_id, tokens, _), line in zip(requests, self._lines(reply)):
            if line[0] == "g":
                deadline = None if line[2] == "-" else float(line[2])
                outcomes.append(Reservation(query_id, int(line[1]), deadline, self))
            else:
                free, allowance, spent, reserved = (int(value) for value in line[1:5])
                outcomes.append(BudgetExceeded(query_id, tokens, free, allowance, spent, reserved))
        return outcomes

    def _withdraw(self, token: str, outcomes: list[Reservation | BudgetExceeded]) -> None:
        granted = [outcome.query_id for outcome in outcomes if isinstance(outcome, Reservation)]
        if granted:
            self._calls.call("withdraw", str(len(granted)), *granted, token=token)

    def _settle_many(self, usages: list[tuple[str, int]]) -> list[Settlement]:
        usage = " ".join(str(used) for _, used in usages)
        reply = self._calls.call("settle", str(len(usages)), usage, *(query_id for query_id, _ in usages))
        self._raise_refusal(reply, "settle")
        settlements = []
        for (query_id, _), line in zip(usages, self._lines(reply)):
            reserved, used, refunded, overrun, late = (int(value) for value in line)
            settlements.append(Settlement(query_id, reserved, used, refunded, overrun, bool(late)))
        return settlements

    def _release_many(self, ids: list[str]) -> list[Release]:
        reply = self._calls.call("release", str(len(ids)), *ids)
        self._raise_refusal(reply, "release")
        return [
            Release(query_id, int(line[1]), late=line[0] == "expired")
            for query_id, line in zip(ids, self._lines(reply))
        ]

    def _snapshot(self) -> LedgerSnapshot:
        reply = self._calls.call("snapshot")
        open_count, budget, allowance, spent, reserved, window = (int(v) for v in reply[3:9])
        origin, period = float(reply[9]), float(reply[10])
        start, end = (origin, math.inf) if period == 0 else (origin + window * period, origin + (window + 1) * period)
        totals = (int(v) for v in reply[11:19])
        return LedgerSnapshot(budget, allowance, spent, reserved, open_count, window, start, end, *totals)

    def _note_arrivals(self, count: int) -> int:
        return int(self._calls.call("arrive", str(count))[3])

    # -- extras ------------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The clock windows are computed with: the one given, else wall-clock time (the server's clock
        approximately, as Redis keeps time by it)."""
        return self._calls.clock if self._calls.clock is not None else time.time

    @property
    def overruns(self) -> list[Overrun]:
        """The most recent overruns (up to 1000), oldest first."""
        entries = self._calls.call("overruns")[3:]
        parsed = []
        for entry in reversed(entries):
            query_id, reserved, used = entry.rsplit(" ", 2)
            parsed.append(Overrun(query_id, int(reserved), int(used)))
        return parsed

    def delete(self) -> None:
        """Remove the ledger from the server: every key, in one atomic step.

        Handles attached to it (this one included) then raise
        :class:`LedgerStateLost`; a ledger created again under the same name
        starts empty and knows none of the old ids.
        """
        self._calls.call("delete")

    def __repr__(self) -> str:
        period = "total" if self.window.period is None else f"per {self.window.period:g} s"
        return f"RedisLedger({self.name!r}, budget={self.window.budget} {period})"
