"""Random operation sequences: the in-process ledger (Python) and the Redis ledger (Lua) agree step by step.

Two implementations written independently in two languages must give the same
answer to every operation and the same books after it, and both must keep the
invariants: the books balance, reservations never overspend, and a window is
overdrawn by no more than the overruns charged to it.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clear_fast.runtime import BudgetExceeded, Ledger, LedgerError, RedisLedger

from ledger_clock import FakeClock

pytestmark = pytest.mark.redis

IDS = ["a", "b", "c", "d"]
some_ids = st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)
amounts = st.lists(st.integers(0, 450), min_size=3, max_size=3)
operation = st.one_of(
    st.tuples(st.just("reserve_many"), some_ids, amounts),
    st.tuples(st.just("settle_many"), some_ids, amounts),
    st.tuples(st.just("release_many"), some_ids, st.just([])),
    st.tuples(st.just("reserve"), st.sampled_from(IDS), st.integers(0, 450)),
    st.tuples(st.just("reserve_some"), st.sampled_from(IDS), st.integers(0, 450)),
    st.tuples(st.just("settle"), st.sampled_from(IDS), st.integers(0, 500)),
    st.tuples(st.just("release"), st.sampled_from(IDS), st.just(0)),
    st.tuples(st.just("advance"), st.just(""), st.integers(0, 50)),
    st.tuples(st.just("arrive"), st.just(""), st.integers(0, 3)),
)
setup = st.fixed_dictionaries(
    {
        "budget": st.integers(0, 1200),
        "window": st.sampled_from(["total", "rate", "rollover", "capped"]),
        "timeout": st.sampled_from([None, 30, 75]),
    }
)


def options(config: dict, clock: FakeClock) -> dict:
    window = config["window"]
    chosen = {"clock": clock, "reservation_timeout": config["timeout"]}
    if window != "total":
        chosen["period"] = 60
    if window in ("rollover", "capped"):
        chosen["rollover"] = True
    if window == "capped":
        chosen["max_carry"] = 300
    return chosen


def outcome(ledger, kind: str, query_id: str, amount: int):
    """What an operation did, comparable across implementations (records without the ledger handle)."""
    try:
        if kind == "reserve":
            held = ledger.reserve(query_id, amount)
            return ("reserved", held.tokens, held.deadline)
        if kind == "reserve_some":
            held = ledger.reserve(query_id, amount, at_least=amount // 3)
            return ("reserved", held.tokens, held.deadline)
        if kind == "settle":
            return ledger.settle(query_id, amount)
        if kind == "reserve_many":
            granted = ledger.reserve_many(query_id, amount[: len(query_id)], at_least=amount[-1] // 4)
            return [None if held is None else (held.query_id, held.tokens, held.deadline) for held in granted]
        if kind == "settle_many":
            return ledger.settle_many(query_id, amount[: len(query_id)])
        if kind == "release_many":
            return ledger.release_many(query_id)
        return ledger.release(query_id)
    except BudgetExceeded as refused:
        return ("refused", refused.free, refused.allowance, refused.spent, refused.reserved)
    except (LedgerError, ValueError) as error:  # ValueError: an at_least above a batch's cap
        return (type(error).__name__, str(error))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=setup, steps=st.lists(operation, min_size=1, max_size=40))
def test_both_ledgers_agree_and_keep_the_invariants(redis_client, config, steps):
    clock = FakeClock()
    memory = Ledger(config["budget"], **options(config, clock))
    shared = RedisLedger.create(redis_client, f"agree-{uuid.uuid4().hex}", config["budget"], **options(config, clock))
    try:
        for kind, query_id, amount in steps:
            if kind == "advance":
                clock.advance(amount)
            elif kind == "arrive":
                assert memory.note_arrivals(amount) == shared.note_arrivals(amount)
            else:
                assert outcome(memory, kind, query_id, amount) == outcome(shared, kind, query_id, amount)
            books = memory.snapshot()
            assert shared.snapshot() == books
            assert books.balanced
            assert books.overdrawn <= books.overrun  # only overruns ever take a window past its allowance
    finally:
        shared.delete()
