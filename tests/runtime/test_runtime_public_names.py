"""The runtime's public names are pinned: adding or dropping one is a decision, not an accident."""

from __future__ import annotations

import clear_fast
import clear_fast.runtime as runtime

RUNTIME = {
    "BudgetExceeded", "BudgetWindow", "Decision", "Defer", "FallBack", "Hold", "Ledger", "LedgerAPI",
    "LedgerError", "LedgerExists", "LedgerNotFound", "LedgerSnapshot", "LedgerStateLost", "LedgerUnavailable",
    "Overrun", "Pacer", "PacerStatus", "PersistenceWarning", "Quote", "RedisLedger", "Refuse",
    "Release", "Reservation", "ReservationClosed", "ReservationOpen", "Settlement", "TenantShares",
    "UnknownReservation", "linear_schedule", "schedule_from_history",
}
TOP_LEVEL = {
    "BudgetExceeded", "Defer", "FallBack", "Ledger", "LedgerError", "Pacer", "RedisLedger", "Refuse",
    "TenantShares", "schedule_from_history",
}


def test_runtime_all_is_pinned_and_importable():
    assert set(runtime.__all__) == RUNTIME
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None


def test_top_level_exports_are_the_runtimes_own_objects():
    assert TOP_LEVEL <= set(clear_fast.__all__)
    for name in TOP_LEVEL:
        assert getattr(clear_fast, name) is getattr(runtime, name)
