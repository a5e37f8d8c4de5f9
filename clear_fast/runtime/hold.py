"""``ledger.hold(...)``: a reservation for the length of a ``with`` or ``async with`` block."""

from __future__ import annotations

from typing import Any, Protocol

from .background import outlast_cancellation
from .errors import ReservationClosed
from .records import Release, Reservation, Settlement


class HoldsReservations(Protocol):
    """The part of a ledger a :class:`Hold` uses (every ledger has it)."""

    def reserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation: ...

    def settle(self, query_id: Any, used: Any) -> Settlement: ...

    def release(self, query_id: Any) -> Release: ...

    async def areserve(self, query_id: Any, tokens: Any, *, at_least: Any = None) -> Reservation: ...

    async def asettle(self, query_id: Any, used: Any) -> Settlement: ...

    async def arelease(self, query_id: Any) -> Release: ...


class Hold:
    """Context manager returned by ``ledger.hold``: a reservation that cannot leak.

    On entry the tokens are reserved. If the block raises (or its task is
    cancelled) before settling, the reservation is released; if it ends normally
    without settling, it is settled at the full grant.
    """

    def __init__(self, ledger: HoldsReservations, query_id: str, tokens: int, at_least: int | None) -> None:
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
        # A cancelled task still closes its reservation, and the books are closed when this returns.
        await outlast_cancellation(self._aclose(failed=kind is not None))
