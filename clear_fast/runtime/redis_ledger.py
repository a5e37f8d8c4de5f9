"""A ledger kept in Redis, shared by every process and machine that names it.

Same interface and the same books as :class:`~clear_fast.runtime.ledger.Ledger`;
each operation is one call of the Lua script in ``ledger.lua``, so it is
atomic on the server. The ``redis`` package is imported only when a
``RedisLedger`` is created.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from .._checks import as_optional_seconds, as_seconds
from .errors import BudgetExceeded, LedgerError, ReservationClosed, ReservationOpen, UnknownReservation
from .ledger_api import LedgerAPI
from .records import LedgerSnapshot, Overrun, Release, Reservation, Settlement
from .redis_script import ledger_script
from .window import BudgetWindow


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLedger(LedgerAPI):
    """A token budget shared through a Redis server.

    Parameters
    ----------
    client : redis.Redis
        A connected client (``redis.Redis(host=..., port=...)``); it is thread-safe
        (a connection pool) and may be shared.
    name : str
        The ledger's name: every process using the same name on the same server
        shares one budget. Keys are ``clear_fast:{name}:*``.
    budget, period, rollover, max_carry, reservation_timeout
        As for :class:`~clear_fast.runtime.ledger.Ledger`. The first process to
        create ``name`` stores them; a later one passing different values gets a
        ValueError instead of silently using the stored ones.
    clock : callable, optional
        Time in seconds. By default the Redis server's clock is used, so
        machines with skewed clocks still agree on windows and expiries.
    closed_ttl : float, default 86400
        Seconds a closed id is remembered to recognise a double settle.

    Notes
    -----
    Token counts must stay below 1e14 (they are Lua doubles on the server).
    """

    def __init__(
        self,
        client: Any,
        name: str,
        budget: Any,
        *,
        period: Any = None,
        rollover: bool = False,
        max_carry: Any = None,
        reservation_timeout: Any = None,
        clock: Callable[[], float] | None = None,
        closed_ttl: float = 86400.0,
    ) -> None:
        import redis  # lazily: importing clear_fast must not need redis

        if not isinstance(client, redis.Redis):
            raise TypeError(f"`client` must be a redis.Redis client, got {client!r:.80}")
        if not isinstance(name, str) or not name or any(c in name for c in "{}"):
            raise ValueError(f"`name` must be a non-empty string without braces, got {name!r}")
        if clock is not None and not callable(clock):
            raise TypeError(f"`clock` must be callable or None, got {clock!r:.80}")
        self.window = BudgetWindow(budget, period, rollover, max_carry)
        self.reservation_timeout = as_optional_seconds("reservation_timeout", reservation_timeout)
        self.name = name
        self._client = client
        self._clock = clock
        self._closed_ttl = str(int(math.ceil(as_seconds("closed_ttl", closed_ttl))))
        prefix = f"clear_fast:{{{name}}}"
        self.keys = [f"{prefix}:state", f"{prefix}:open", f"{prefix}:deadline", f"{prefix}:overruns"]
        self._closed_prefix = f"{prefix}:closed:"
        self._script = client.register_script(ledger_script())
        self._create_or_check()

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, operation: str, *args: Any) -> list[Any]:
        now = "" if self._clock is None else repr(float(self._clock()))
        reply = self._script(keys=self.keys, args=[operation, now, self._closed_prefix, self._closed_ttl, *args])
        reply = [_text(part) if isinstance(part, bytes) else part for part in reply]
        if reply[0] == "missing":
            raise LedgerError(f"the Redis ledger {self.name!r} was deleted from the server (its keys are gone)")
        return reply

    def _configuration(self) -> list[str]:
        window = self.window
        return [
            str(window.budget),
            repr(window.period or 0.0),
            "1" if window.rollover else "0",
            str(-1 if window.max_carry is None else window.max_carry),
            repr(self.reservation_timeout or 0.0),
        ]

    def _create_or_check(self) -> None:
        wanted = self._configuration()
        reply = self._call("init", *wanted)
        if reply[0] == "created":
            return
        stored = reply[1:]
        names = ("budget", "period", "rollover", "max_carry", "reservation_timeout")
        for field, mine, theirs in zip(names, wanted, stored):
            if float(mine) != float(theirs):
                raise ValueError(
                    f"the Redis ledger {self.name!r} already exists with {field}={theirs}, "
                    f"but this RedisLedger was created with {field}={mine}; use the same settings, "
                    "or delete the ledger with .delete() first"
                )

    async def _in_background(self, function: Any, *args: Any) -> Any:
        import asyncio  # here, not at import: only async callers need it

        # The client blocks on the network: keep the event loop free.
        return await asyncio.to_thread(function, *args)

    # -- primitives --------------------------------------------------------------------------

    def _reserve(self, query_id: str, tokens: int, at_least: int | None) -> Reservation | BudgetExceeded:
        reply = self._call("reserve", query_id, str(tokens), "" if at_least is None else str(at_least))
        if reply[0] == "open":
            raise ReservationOpen(query_id, int(reply[1]))
        if reply[0] == "refused":
            free, allowance, spent, reserved = (int(v) for v in reply[1:5])
            return BudgetExceeded(query_id, tokens, free, allowance, spent, reserved)
        deadline = float(reply[1]) if reply[1] else None
        return Reservation(query_id, int(reply[2]), deadline, self)

    def _settle(self, query_id: str, used: int) -> Settlement:
        reply = self._call("settle", query_id, str(used))
        if reply[0] == "unknown":
            raise UnknownReservation(query_id, "settle")
        if reply[0] == "closed":
            raise ReservationClosed(query_id, "settle", reply[1])
        reserved, used, refunded, overrun, late = (int(v) for v in reply[1:6])
        return Settlement(query_id, reserved, used, refunded, overrun, bool(late))

    def _release(self, query_id: str) -> Release:
        reply = self._call("release", query_id)
        if reply[0] == "unknown":
            raise UnknownReservation(query_id, "release")
        if reply[0] == "closed":
            raise ReservationClosed(query_id, "release", reply[1])
        if reply[0] == "expired":
            return Release(query_id, 0, expired=True)
        return Release(query_id, int(reply[1]))

    def _snapshot(self) -> LedgerSnapshot:
        reply = self._call("snapshot")
        budget, allowance, spent, reserved, open_count, window = (int(v) for v in reply[1:7])
        origin, period = float(reply[7]), float(reply[8])
        start, end = (origin, math.inf) if period == 0 else (origin + window * period, origin + (window + 1) * period)
        totals = (int(v) for v in reply[9:17])
        return LedgerSnapshot(budget, allowance, spent, reserved, open_count, window, start, end, *totals)

    def _note_arrivals(self, count: int) -> int:
        return int(self._call("arrive", str(count))[1])

    # -- extras ------------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The clock windows are computed with: the one given, else wall-clock time (the server's clock
        approximately, as Redis keeps time by it)."""
        return self._clock if self._clock is not None else time.time

    @property
    def overruns(self) -> list[Overrun]:
        """The most recent overruns (up to 1000), oldest first."""
        entries = self._client.lrange(self.keys[3], 0, -1)
        parsed = []
        for entry in reversed(entries):
            query_id, reserved, used = _text(entry).rsplit(" ", 2)
            parsed.append(Overrun(query_id, int(reserved), int(used)))
        return parsed

    def delete(self) -> None:
        """Remove this ledger's keys from the server (remembered closed ids expire on their own)."""
        self._client.delete(*self.keys)

    def __repr__(self) -> str:
        period = "total" if self.window.period is None else f"per {self.window.period:g} s"
        return f"RedisLedger({self.name!r}, budget={self.window.budget} {period})"
