"""The interface every ledger offers, and the parts they share.

A subclass implements atomic primitives on already-validated batches
(``_reserve_many``, ``_settle_many``, ``_release_many``) and ``_snapshot`` and
``_note_arrivals``; this class validates input, turns refusals into
:class:`BudgetExceeded`, and provides single calls (batches of one), the async
twins and the context manager on top.
"""

from __future__ import annotations

import abc
from typing import Any

from .._checks import as_text_id
from .errors import BudgetExceeded
from .hold import Hold
from .ledger_arguments import Request, as_count, as_counts, as_query_ids, many_requests, one_request
from .records import LedgerSnapshot, Release, Reservation, Settlement
from .window import BudgetWindow


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
    reserve_many, settle_many, release_many
        The same for a batch of queries, in one atomic step (one round trip on Redis).
    hold(query_id, tokens) -> Hold
        Context manager (``with`` or ``async with``) around reserve/settle/release.
    snapshot() -> LedgerSnapshot
        The books at one instant.

    Every method has an async twin (``areserve``, ``atry_reserve``, ``asettle``,
    ``arelease``, ``areserve_many``, ``asettle_many``, ``arelease_many``,
    ``asnapshot``). A task cancelled during one leaves the books as if the call
    had completed (a settle or release) or had never been made (a reserve).
    """

    #: the budget and its windows; set by every ledger's constructor
    window: BudgetWindow

    # -- primitives a ledger implements ------------------------------------------------------

    @abc.abstractmethod
    def _reserve_many(self, requests: list[Request]) -> list[Reservation | BudgetExceeded]:
        """Grant (or refuse, returning the refusal) each request in order, atomically.

        Raises :class:`ReservationOpen` for the whole batch, reserving nothing, when
        an id already holds a reservation."""

    @abc.abstractmethod
    def _settle_many(self, usages: list[tuple[str, int]]) -> list[Settlement]:
        """Close each reservation charging its usage, atomically; on an unknown or closed id
        raise for the whole batch, changing nothing."""

    @abc.abstractmethod
    def _release_many(self, ids: list[str]) -> list[Release]:
        """Close each reservation charging nothing, atomically; errors as for ``_settle_many``."""

    @abc.abstractmethod
    def _snapshot(self) -> LedgerSnapshot:
        """The books, read atomically."""

    @abc.abstractmethod
    def _note_arrivals(self, count: int) -> int:
        """Add to the arrivals counter atomically; return the new total."""

    async def _in_background(self, function: Any, *args: Any) -> Any:
        """Run a primitive from async code. In process it runs directly: it never waits on
        anything, so no cancellation can land inside it. Ledgers that block on I/O override this."""
        return function(*args)

    async def _areserve_many(self, requests: list[Request]) -> list[Reservation | BudgetExceeded]:
        """``_reserve_many`` from async code; a ledger that runs it in a thread takes the grants
        back when the caller is cancelled before it could see them."""
        return await self._in_background(self._reserve_many, requests)

    # -- the public interface ----------------------------------------------------------------

    def try_reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation | None:
        """Hold ``tokens`` for ``query_id``; None when the budget cannot cover them.

        Parameters
        ----------
        query_id : str or int
            Names the call; unique among open reservations.
        tokens : int
            Whole number of tokens, 0 to 1e14: the cap the call will be given.
        at_least : int, optional
            Accept a smaller grant: when fewer than ``tokens`` are free but at
            least ``at_least`` are, hold all the free tokens. The grant is
            ``Reservation.tokens``: use it as the cap.

        Raises
        ------
        TypeError, ValueError
            On a bad id or token count (nothing is reserved).
        ReservationOpen
            When ``query_id`` already holds a reservation.
        """
        outcome = self._reserve_many([one_request(query_id, tokens, at_least)])[0]
        return None if isinstance(outcome, BudgetExceeded) else outcome

    def reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation:
        """Hold ``tokens`` for ``query_id``, or raise :class:`BudgetExceeded` (nothing held).

        See :meth:`try_reserve` for the arguments and the other errors.
        """
        return _granted(self._reserve_many([one_request(query_id, tokens, at_least)])[0])

    def settle(self, query_id: Any, used: Any) -> Settlement:
        """Charge the ``used`` tokens of ``query_id`` and refund the rest of its reservation.

        Usage above the reservation is charged too (the tokens were really
        spent) and recorded as an overrun. A settle after the reservation
        expired is accepted and charged in full as an overrun (``late=True``).

        Raises
        ------
        TypeError, ValueError
            When ``used`` is not a whole number from 0 to 1e14 (the reservation stays open).
        UnknownReservation
            When the ledger holds no reservation under ``query_id``.
        ReservationClosed
            When it was already settled or released.
        """
        return self._settle_many([(as_text_id(query_id), as_count(used, "used"))])[0]

    def release(self, query_id: Any) -> Release:
        """Return the whole reservation of ``query_id`` to the free pool.

        Releasing a reservation that already expired is not an error (its
        tokens were returned at expiry); see :meth:`settle` for the others.
        """
        return self._release_many([as_text_id(query_id)])[0]

    def reserve_many(self, query_ids: Any, tokens: Any, *, at_least: Any = None) -> list[Reservation | None]:
        """Reserve for a batch of queries in one atomic step; None where the budget said no.

        The requests are granted in order, each as :meth:`try_reserve` would,
        seeing the grants before it: the same outcome as single calls in that
        order, with no other caller in between.

        Parameters
        ----------
        query_ids : sequence of str or int
            One id per query, none twice.
        tokens : sequence of int
            The cap each query asks for.
        at_least : int or sequence of int, optional
            The smallest grant each query accepts (one number for all, or one per query).

        Raises
        ------
        TypeError, ValueError
            On a bad id, a repeated id or a bad count (nothing is reserved).
        ReservationOpen
            When an id already holds a reservation (nothing is reserved).
        """
        requests = many_requests(query_ids, tokens, at_least)
        return [_or_none(outcome) for outcome in self._reserve_many(requests)] if requests else []

    def settle_many(self, query_ids: Any, used: Any) -> list[Settlement]:
        """Settle a batch of queries in one atomic step: the same as :meth:`settle` for each, in order.

        If any id cannot be settled (unknown, already closed) its error is raised
        and nothing in the batch is settled.
        """
        ids = as_query_ids(query_ids)
        usages = list(zip(ids, as_counts(used, "used", len(ids))))
        return self._settle_many(usages) if usages else []

    def release_many(self, query_ids: Any) -> list[Release]:
        """Release a batch of queries in one atomic step: the same as :meth:`release` for each, in order.

        If any id cannot be released its error is raised and nothing in the batch is released.
        """
        ids = as_query_ids(query_ids)
        return self._release_many(ids) if ids else []

    def snapshot(self) -> LedgerSnapshot:
        """The books at this instant (expired reservations already swept)."""
        return self._snapshot()

    def note_arrivals(self, count: Any = 1) -> int:
        """Count ``count`` arriving queries; return the total so far (``snapshot().arrivals``).

        Pacers that share a ledger count their arrivals here, so each one knows
        the arrival rate of the whole fleet and not only its own.
        """
        return self._note_arrivals(as_count(count, "count"))

    def hold(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Hold:
        """Reserve for the length of a ``with`` (or ``async with``) block.

        On entry the tokens are reserved (:class:`BudgetExceeded` if they cannot
        be). Inside, call ``reservation.settle(used)`` once the usage is known.
        If the block raises before settling, the reservation is released. If it
        ends normally without settling, the reservation is settled at its full
        size: unreported usage is assumed to have used the whole cap, so the
        books never under-count. ``at_least`` works as in :meth:`try_reserve`.
        """
        return Hold(self, *one_request(query_id, tokens, at_least))

    # -- async twins ----------------------------------------------------------------------

    async def areserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation:
        """Async twin of :meth:`reserve`."""
        return _granted((await self._areserve_many([one_request(query_id, tokens, at_least)]))[0])

    async def atry_reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation | None:
        """Async twin of :meth:`try_reserve`."""
        return _or_none((await self._areserve_many([one_request(query_id, tokens, at_least)]))[0])

    async def asettle(self, query_id: Any, used: Any) -> Settlement:
        """Async twin of :meth:`settle`."""
        usage = (as_text_id(query_id), as_count(used, "used"))
        return (await self._in_background(self._settle_many, [usage]))[0]

    async def arelease(self, query_id: Any) -> Release:
        """Async twin of :meth:`release`."""
        return (await self._in_background(self._release_many, [as_text_id(query_id)]))[0]

    async def areserve_many(self, query_ids: Any, tokens: Any, *, at_least: Any = None) -> list[Reservation | None]:
        """Async twin of :meth:`reserve_many`."""
        requests = many_requests(query_ids, tokens, at_least)
        return [_or_none(outcome) for outcome in await self._areserve_many(requests)] if requests else []

    async def asettle_many(self, query_ids: Any, used: Any) -> list[Settlement]:
        """Async twin of :meth:`settle_many`."""
        ids = as_query_ids(query_ids)
        usages = list(zip(ids, as_counts(used, "used", len(ids))))
        return await self._in_background(self._settle_many, usages) if usages else []

    async def arelease_many(self, query_ids: Any) -> list[Release]:
        """Async twin of :meth:`release_many`."""
        ids = as_query_ids(query_ids)
        return await self._in_background(self._release_many, ids) if ids else []

    async def asnapshot(self) -> LedgerSnapshot:
        """Async twin of :meth:`snapshot`."""
        return await self._in_background(self._snapshot)


def _granted(outcome: Reservation | BudgetExceeded) -> Reservation:
    if isinstance(outcome, BudgetExceeded):
        raise outcome
    return outcome


def _or_none(outcome: Reservation | BudgetExceeded) -> Reservation | None:
    return None if isinstance(outcome, BudgetExceeded) else outcome
