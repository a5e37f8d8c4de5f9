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


# -- the Redis ledger's own failures ---------------------------------------------------------------


class LedgerNotFound(LedgerError, LookupError):
    """No ledger of that name exists on the Redis server (attaching needs one)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"there is no Redis ledger {name!r} on the server: create it once with RedisLedger.create(client, "
            f"{name!r}, budget, ...). If it existed, it was deleted or the server lost its data: see 'Running the "
            "ledger in production' in docs/runtime.md before creating it again"
        )


class LedgerExists(LedgerError):
    """``RedisLedger.create`` named a ledger that already exists; nothing was changed."""

    def __init__(self, name: str, created: str) -> None:
        self.name = name
        super().__init__(
            f"the Redis ledger {name!r} already exists (created at {created}): attach to it with "
            f"RedisLedger(client, {name!r}), or delete it first"
        )


class LedgerStateLost(LedgerError):
    """The ledger's books on the server are not the ones this handle was using; nothing was done.

    ``reason`` is ``"lost"`` (the ledger is gone: deleted, or the server lost its
    data), ``"replaced"`` (it was created again since this handle attached) or
    ``"halted"`` (its books went back in time, e.g. a restart from an older
    snapshot, and every operation is refused until an operator calls
    ``RedisLedger.acknowledge_reset``).
    """

    def __init__(self, name: str, reason: str, detail: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"the Redis ledger {name!r} cannot be used: {detail}")


class LedgerUnavailable(LedgerError):
    """The Redis server did not answer within the handle's ``retry_for`` seconds.

    The operation may or may not have taken effect on the server. Retrying it is
    safe: a settle or release that did take effect then raises
    :class:`ReservationClosed`, a reserve :class:`ReservationOpen`.
    """

    def __init__(self, name: str, operation: str, seconds: float, error: BaseException) -> None:
        self.name = name
        self.operation = operation
        super().__init__(
            f"the Redis server did not answer `{operation}` on ledger {name!r} for {seconds:g} s (last error: "
            f"{error}); it may or may not have taken effect"
        )


class PersistenceWarning(UserWarning):
    """The Redis server's settings can lose the ledger's writes (see ``RedisLedger``'s ``persistence``)."""
