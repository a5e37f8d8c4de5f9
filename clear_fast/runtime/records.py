"""What the ledgers hand back: reservations, settlements and snapshots of the books."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ClosesReservations(Protocol):
    """The part of a ledger a :class:`Reservation` calls back into (any ledger has it)."""

    def settle(self, query_id: Any, used: Any) -> Settlement: ...

    def release(self, query_id: Any) -> Release: ...

    async def asettle(self, query_id: Any, used: Any) -> Settlement: ...

    async def arelease(self, query_id: Any) -> Release: ...


@dataclass(frozen=True)
class Reservation:
    """Tokens held for one query between ``reserve`` and ``settle``/``release``.

    Attributes
    ----------
    query_id : str
    tokens : int
        Tokens held: the cap to send to the model.
    deadline : float or None
        Ledger-clock time after which an unsettled reservation is released
        automatically (None: it never expires).
    """

    query_id: str
    tokens: int
    deadline: float | None
    ledger: ClosesReservations

    def settle(self, used: Any) -> Settlement:
        """Settle this reservation: shorthand for ``ledger.settle(query_id, used)``."""
        return self.ledger.settle(self.query_id, used)

    def release(self) -> Release:
        """Release this reservation: shorthand for ``ledger.release(query_id)``."""
        return self.ledger.release(self.query_id)

    async def asettle(self, used: Any) -> Settlement:
        """Async twin of :meth:`settle`."""
        return await self.ledger.asettle(self.query_id, used)

    async def arelease(self) -> Release:
        """Async twin of :meth:`release`."""
        return await self.ledger.arelease(self.query_id)


@dataclass(frozen=True)
class Settlement:
    """The outcome of settling one query.

    Attributes
    ----------
    query_id : str
    reserved : int
        Tokens that were held (0 for a late settle after the reservation expired).
    used : int
        Tokens really spent, all of them charged.
    refunded : int
        ``max(reserved - used, 0)``, returned to the free pool.
    overrun : int
        ``max(used - reserved, 0)``: tokens spent past the cap (an endpoint that
        ignored it, or a settle that came after the reservation expired).
    late : bool
        True when the reservation had already expired when the settle came.
    """

    query_id: str
    reserved: int
    used: int
    refunded: int
    overrun: int
    late: bool = False


@dataclass(frozen=True)
class Release:
    """The outcome of releasing one query: ``tokens`` returned to the free pool.

    ``late`` is True when the reservation had already been released by its
    timeout (``tokens`` is then 0: they were returned at expiry), as in
    :class:`Settlement`.
    """

    query_id: str
    tokens: int
    late: bool = False


@dataclass(frozen=True)
class Overrun:
    """One settle whose usage exceeded its reservation."""

    query_id: str
    reserved: int
    used: int

    @property
    def excess(self) -> int:
        """Tokens spent past the reservation."""
        return self.used - self.reserved


@dataclass(frozen=True)
class LedgerSnapshot:
    """The books at one instant, read atomically.

    The current window:

    allowance
        Tokens this window may spend: the budget, plus what rolled over.
    spent, reserved
        Tokens settled in this window, and tokens held by open reservations.
    free
        ``max(allowance - spent - reserved, 0)``: what a new reservation may take.
    overdrawn
        ``max(spent + reserved - allowance, 0)``. Reservations never cause it; it
        is non-zero only when settles charged more than was reserved, and never
        exceeds the overruns.

    Totals since the ledger was created (they never reset):

    granted
        Tokens ever reserved.
    charged
        Tokens ever charged at settle (the real spend, overruns included).
    refunded, released, expired
        Tokens returned to the pool by settles, releases and timeouts.
    overrun, overrun_count
        Tokens charged past their reservation, and how many settles did so.
    arrivals
        Queries noted with ``note_arrivals`` (pacers sharing the ledger count the
        fleet's traffic there, to know its arrival rate).

    The books balance when
    ``granted == (charged - overrun) + refunded + released + expired + reserved``;
    :attr:`balanced` checks it.
    """

    budget: int
    allowance: int
    spent: int
    reserved: int
    open_reservations: int
    window: int
    window_start: float
    window_end: float
    granted: int
    charged: int
    refunded: int
    released: int
    expired: int
    overrun: int
    overrun_count: int
    arrivals: int = 0

    @property
    def free(self) -> int:
        """Tokens a new reservation may take now."""
        return max(self.allowance - self.spent - self.reserved, 0)

    @property
    def overdrawn(self) -> int:
        """Tokens by which this window is past its allowance (only ever through overruns)."""
        return max(self.spent + self.reserved - self.allowance, 0)

    @property
    def balanced(self) -> bool:
        """True when every token ever granted is accounted for."""
        within_caps = self.charged - self.overrun
        return self.granted == within_caps + self.refunded + self.released + self.expired + self.reserved
