"""The interface every ledger offers, and the parts they share.

A subclass implements four atomic primitives (``_reserve``, ``_settle``,
``_release``, ``_snapshot``) on already-validated arguments; this class
validates input, turns refusals into :class:`BudgetExceeded`, and provides the
async twins and the context manager on top.
"""

from __future__ import annotations

import abc
from typing import Any

from .._checks import as_budget, as_text_id
from .errors import BudgetExceeded, ReservationClosed
from .records import LedgerSnapshot, Release, Reservation, Settlement
from .window import BudgetWindow


def as_floor(at_least: Any, tokens: int) -> int | None:
    """``at_least`` as a whole number of tokens <= ``tokens``, or None."""
    if at_least is None:
        return None
    floor = as_budget(at_least, "at_least")
    if floor > tokens:
        raise ValueError(f"`at_least` must be <= `tokens` ({tokens}), got {floor}")
    return floor


class LedgerAPI(abc.ABC):
    """Reserve tokens before a model call, settle what was really used after it.

    Methods
    -------
    reserve(query_id, tokens, at_least=None) -> Reservation
        Hold ``tokens`` for a query (or what is free, if ``at_least`` that
        many), or raise :class:`BudgetExceeded`.
    try_reserve(query_id, tokens, at_least=None) -> Reservation or None
        The same, returning None instead of raising when the budget says no.
    settle(query_id, used) -> Settlement
        Charge the tokens really used; refund the rest of the reservation.
    release(query_id) -> Release
        Return the whole reservation (the call failed or was cancelled).
    hold(query_id, tokens) -> Hold
        Context manager (``with`` or ``async with``) around reserve/settle/release.
    snapshot() -> LedgerSnapshot
        The books at one instant.

    Every method has an async twin (``areserve``, ``atry_reserve``, ``asettle``,
    ``arelease``, ``asnapshot``).
    """

    #: the budget and its windows; set by every ledger's constructor
    window: BudgetWindow

    # -- primitives a ledger implements ------------------------------------------------------

    @abc.abstractmethod
    def _reserve(self, query_id: str, tokens: int, at_least: int | None) -> Reservation | BudgetExceeded:
        """Hold ``tokens`` atomically (or the free tokens, if ``at_least`` <= free < ``tokens``),
        or return (not raise) the refusal."""

    @abc.abstractmethod
    def _settle(self, query_id: str, used: int) -> Settlement:
        """Close a reservation, charging ``used``."""

    @abc.abstractmethod
    def _release(self, query_id: str) -> Release:
        """Close a reservation, charging nothing."""

    @abc.abstractmethod
    def _snapshot(self) -> LedgerSnapshot:
        """The books, read atomically."""

    @abc.abstractmethod
    def _note_arrivals(self, count: int) -> int:
        """Add to the arrivals counter atomically; return the new total."""

    async def _in_background(self, function: Any, *args: Any) -> Any:
        """Run a primitive from async code. Ledgers that block on I/O override this."""
        return function(*args)

    # -- the public interface ----------------------------------------------------------------

    def try_reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation | None:
        """Hold ``tokens`` for ``query_id``; None when the budget cannot cover them.

        Parameters
        ----------
        query_id : str or int
            Names the call; unique among open reservations.
        tokens : int
            Whole number of tokens >= 0, the cap the call will be given.
        at_least : int, optional
            Accept a smaller grant: when fewer than ``tokens`` are free but at
            least ``at_least`` are, hold all the free tokens. The grant is
            ``Reservation.tokens``: use it as the cap.

        Raises
        ------
        TypeError, ValueError
            On a bad id or token count.
        ReservationOpen
            When ``query_id`` already holds a reservation.
        """
        outcome = self._reserve(*self._reservation_arguments(query_id, tokens, at_least))
        return None if isinstance(outcome, BudgetExceeded) else outcome

    @staticmethod
    def _reservation_arguments(query_id: Any, tokens: Any, at_least: Any) -> tuple[str, int, int | None]:
        wanted = as_budget(tokens, "tokens")
        return as_text_id(query_id), wanted, as_floor(at_least, wanted)

    def reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation:
        """Hold ``tokens`` for ``query_id``, or raise :class:`BudgetExceeded` (nothing held).

        See :meth:`try_reserve` for the arguments and the other errors.
        """
        outcome = self._reserve(*self._reservation_arguments(query_id, tokens, at_least))
        if isinstance(outcome, BudgetExceeded):
            raise outcome
        return outcome

    def settle(self, query_id: Any, used: Any) -> Settlement:
        """Charge the ``used`` tokens of ``query_id`` and refund the rest of its reservation.

        Usage above the reservation is charged too (the tokens were really
        spent) and recorded as an overrun. A settle after the reservation
        expired is accepted and charged in full as an overrun (``late=True``).

        Raises
        ------
        TypeError, ValueError
            When ``used`` is not a whole number >= 0 (the reservation stays open).
        UnknownReservation
            When the ledger holds no reservation under ``query_id``.
        ReservationClosed
            When it was already settled or released.
        """
        return self._settle(as_text_id(query_id), as_budget(used, "used"))

    def release(self, query_id: Any) -> Release:
        """Return the whole reservation of ``query_id`` to the free pool.

        Releasing a reservation that already expired is not an error (its
        tokens were returned at expiry); see :meth:`settle` for the others.
        """
        return self._release(as_text_id(query_id))

    def snapshot(self) -> LedgerSnapshot:
        """The books at this instant (expired reservations already swept)."""
        return self._snapshot()

    def note_arrivals(self, count: Any = 1) -> int:
        """Count ``count`` arriving queries; return the total so far (``snapshot().arrivals``).

        Pacers that share a ledger count their arrivals here, so each one knows
        the arrival rate of the whole fleet and not only its own.
        """
        return self._note_arrivals(as_budget(count, "count"))

    def hold(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Hold:
        """Reserve for the length of a ``with`` (or ``async with``) block.

        On entry the tokens are reserved (:class:`BudgetExceeded` if they cannot
        be). Inside, call ``reservation.settle(used)`` once the usage is known.
        If the block raises before settling, the reservation is released. If it
        ends normally without settling, the reservation is settled at its full
        size: unreported usage is assumed to have used the whole cap, so the
        books never under-count. ``at_least`` works as in :meth:`try_reserve`.
        """
        return Hold(self, *self._reservation_arguments(query_id, tokens, at_least))

    # -- async twins ----------------------------------------------------------------------

    async def areserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation:
        """Async twin of :meth:`reserve`."""
        outcome = await self._in_background(self._reserve, *self._reservation_arguments(query_id, tokens, at_least))
        if isinstance(outcome, BudgetExceeded):
            raise outcome
        return outcome

    async def atry_reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation | None:
        """Async twin of :meth:`try_reserve`."""
        outcome = await self._in_background(self._reserve, *self._reservation_arguments(query_id, tokens, at_least))
        return None if isinstance(outcome, BudgetExceeded) else outcome

    async def asettle(self, query_id: Any, used: Any) -> Settlement:
        """Async twin of :meth:`settle`."""
        return await self._in_background(self._settle, as_text_id(query_id), as_budget(used, "used"))

    async def arelease(self, query_id: Any) -> Release:
        """Async twin of :meth:`release`."""
        return await self._in_background(self._release, as_text_id(query_id))

    async def asnapshot(self) -> LedgerSnapshot:
        """Async twin of :meth:`snapshot`."""
        return await self._in_background(self._snapshot)


class Hold:
    """Context manager returned by :meth:`LedgerAPI.hold`: a reservation that cannot leak."""

    def __init__(self, ledger: LedgerAPI, query_id: str, tokens: int, at_least: int | None) -> None:
        self._ledger = ledger
        self._query_id = query_id
        self._tokens = tokens
        self._at_least = at_least
        self.reservation: Reservation | None = None
        self.outcome: Settlement | Release | None = None

    def _close(self, failed: bool) -> None:
        try:
            if failed:
                self.outcome = self._ledger.release(self._query_id)
            else:
                self.outcome = self._ledger.settle(self._query_id, self._granted())
        except ReservationClosed:
            pass  # settled (or released) inside the block, as intended

    async def _aclose(self, failed: bool) -> None:
        try:
            if failed:
                self.outcome = await self._ledger.arelease(self._query_id)
            else:
                self.outcome = await self._ledger.asettle(self._query_id, self._granted())
        except ReservationClosed:
            pass

    def _granted(self) -> int:
        return self._tokens if self.reservation is None else self.reservation.tokens

    def __enter__(self) -> Reservation:
        self.reservation = self._ledger.reserve(self._query_id, self._tokens, at_least=self._at_least)
        return self.reservation

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self._close(failed=kind is not None)

    async def __aenter__(self) -> Reservation:
        self.reservation = await self._ledger.areserve(self._query_id, self._tokens, at_least=self._at_least)
        return self.reservation

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        import asyncio  # here, not at import: only async callers need it

        # A cancelled task still releases: shield the bookkeeping from the cancellation.
        await asyncio.shield(self._aclose(failed=kind is not None))
