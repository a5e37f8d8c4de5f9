"""The runtime: budgets that hold while many workers spend them, and prices that adapt.

* :class:`Ledger` (one process) and :class:`RedisLedger` (a fleet): reserve
  tokens before a call, settle what was used after it.
* :class:`Pacer`: an online shadow price for queries arriving one at a time.
* Abandonment policies and tenant fairness, for queries the price turns away.
"""

from .errors import (
    BudgetExceeded,
    LedgerError,
    LedgerExists,
    LedgerNotFound,
    LedgerStateLost,
    LedgerUnavailable,
    PersistenceWarning,
    ReservationClosed,
    ReservationOpen,
    UnknownReservation,
)
from .fairness import TenantShares
from .hold import Hold
from .ledger import Ledger
from .ledger_api import LedgerAPI
from .pacer import Pacer, PacerStatus
from .policies import Decision, Defer, FallBack, Refuse
from .quote import Quote
from .records import LedgerSnapshot, Overrun, Release, Reservation, Settlement
from .redis_ledger import RedisLedger
from .schedule import linear_schedule, schedule_from_history
from .window import BudgetWindow

__all__ = [
    "BudgetExceeded",
    "BudgetWindow",
    "Decision",
    "Defer",
    "FallBack",
    "Hold",
    "Ledger",
    "LedgerAPI",
    "LedgerError",
    "LedgerExists",
    "LedgerNotFound",
    "LedgerSnapshot",
    "LedgerStateLost",
    "LedgerUnavailable",
    "Overrun",
    "Pacer",
    "PacerStatus",
    "PersistenceWarning",
    "Quote",
    "RedisLedger",
    "Refuse",
    "Release",
    "Reservation",
    "ReservationClosed",
    "ReservationOpen",
    "Settlement",
    "TenantShares",
    "UnknownReservation",
    "linear_schedule",
    "schedule_from_history",
]
