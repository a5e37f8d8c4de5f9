"""Errors raised by the ledgers.

Each names the query and carries the numbers as attributes, so a caller can log
or branch on them without parsing the message.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error a ledger raises on purpose."""


class BudgetExceeded(LedgerError):
    """A reservation would take the ledger past its budget; nothing was reserved.

    Attributes
    ----------
    query_id : str
    requested, free, allowance, spent, reserved : int
        The tokens asked for, and the state of the current window when refused.
    """

    def __init__(self, query_id: str, requested: int, free: int, allowance: int, spent: int, reserved: int) -> None:
        self.query_id = query_id
        self.requested = requested
        self.free = free
        self.allowance = allowance
        self.spent = spent
        self.reserved = reserved
        super().__init__(
            f"reserving {requested} tokens for query {query_id!r} would overspend: only {free} free "
            f"(window allowance {allowance}, spent {spent}, reserved {reserved})"
        )


class UnknownReservation(LedgerError, LookupError):
    """The query id holds no reservation and none is remembered as closed."""

    def __init__(self, query_id: str, operation: str) -> None:
        self.query_id = query_id
        super().__init__(f"cannot {operation} query {query_id!r}: the ledger holds no reservation under that id")


class ReservationClosed(LedgerError):
    """The reservation was already settled or released (a double settle or release)."""

    def __init__(self, query_id: str, operation: str, how: str) -> None:
        self.query_id = query_id
        self.how = how
        super().__init__(f"cannot {operation} query {query_id!r}: its reservation was already {how}")


class ReservationOpen(LedgerError):
    """A second reservation under an id that still holds one."""

    def __init__(self, query_id: str, tokens: int) -> None:
        self.query_id = query_id
        super().__init__(
            f"query {query_id!r} already holds a reservation of {tokens} tokens: settle or release it first"
        )
