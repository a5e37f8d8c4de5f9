"""Batches: reserve_many, settle_many, release_many on both ledgers, one atomic step each."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clear_fast.runtime import BudgetExceeded, Ledger, ReservationClosed, ReservationOpen, UnknownReservation

from ledger_clock import FakeClock


def test_a_batch_reserves_in_order_and_returns_none_where_the_budget_said_no(make_ledger):
    ledger = make_ledger(1000)
    granted = ledger.reserve_many(["a", "b", "c", 7], [400, 500, 200, 100])
    assert [None if r is None else (r.query_id, r.tokens) for r in granted] == [
        ("a", 400), ("b", 500), None, ("7", 100)
    ]  # c asked for 200 with 100 free; the 100 that 7 asked for still fitted after it
    books = ledger.snapshot()
    assert (books.reserved, books.granted, books.open_reservations) == (1000, 1000, 3)


def test_at_least_in_a_batch_for_all_or_per_query(make_ledger):
    ledger = make_ledger(1000)
    first = ledger.reserve_many(["a", "b", "c"], [600, 600, 600], at_least=100)
    assert [r.tokens if r else None for r in first] == [600, 400, None]
    ledger.release_many(["a", "b"])
    second = ledger.reserve_many(["d", "e"], np.array([900, 300]), at_least=[0, 50])
    assert [r.tokens for r in second] == [900, 100]


def test_a_batch_settles_and_releases_like_single_calls(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve_many(["a", "b", "c"], [300, 300, 300])
    settled = ledger.settle_many(["a", "b"], [100, 350])
    assert [(s.reserved, s.used, s.refunded, s.overrun) for s in settled] == [(300, 100, 200, 0), (300, 350, 0, 50)]
    (released,) = ledger.release_many(["c"])
    assert (released.query_id, released.tokens, released.late) == ("c", 300, False)
    books = ledger.snapshot()
    assert (books.spent, books.reserved, books.released, books.overrun, books.balanced) == (450, 0, 300, 50, True)
    assert [o.query_id for o in ledger.overruns] == ["b"]


def test_one_bad_id_refuses_the_whole_batch_and_changes_nothing(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve_many(["a", "b"], [100, 100])
    before = ledger.snapshot()
    with pytest.raises(ReservationOpen, match="'b' already holds a reservation of 100 tokens"):
        ledger.reserve_many(["c", "b"], [10, 10])
    with pytest.raises(UnknownReservation, match="cannot settle query 'ghost'"):
        ledger.settle_many(["a", "ghost"], [5, 5])
    ledger.release("b")
    with pytest.raises(ReservationClosed, match="cannot release query 'b': its reservation was already released"):
        ledger.release_many(["a", "b"])
    after = ledger.snapshot()
    assert (after.reserved, after.spent, after.granted) == (100, 0, before.granted)
    assert after.released == 100  # only the single release of b
    assert ledger.settle("a", 100).refunded == 0  # a stayed open through every refused batch


def test_bad_batches_are_refused_before_anything_changes(make_ledger):
    ledger = make_ledger(1000)
    cases = [
        (lambda: ledger.reserve_many(["a", "a"], [1, 1]), ValueError, "`query_ids` holds 'a' twice: each query needs its own id"),
        (lambda: ledger.reserve_many(["a", "b"], [1]), ValueError, "`tokens` has 1 items, expected 2 (one per query id)"),
        (lambda: ledger.reserve_many(["a", "b"], [1, -1]), ValueError, "`tokens[1]` must be a finite number >= 0, got -1"),
        (lambda: ledger.reserve_many(["a", ""], [1, 1]), ValueError, "`query_ids[1]` must not be empty"),
        (lambda: ledger.reserve_many("ab", [1, 1]), TypeError, "`query_ids` must be a sequence (a list, a tuple or a 1-D array), got 'ab'"),
        (lambda: ledger.reserve_many(["a"], [5], at_least=[6]), ValueError, "`at_least[0]` must be <= `tokens[0]` (5), got 6"),
        (lambda: ledger.reserve_many(["a"], [5], at_least=6), ValueError, "`at_least` must be <= `tokens[0]` (5), got 6"),
        (lambda: ledger.settle_many(["a"], [2.5]), ValueError, "`used[0]` must be a whole number of tokens, got 2.5"),
        (lambda: ledger.release_many([None]), TypeError, "`query_ids[0]` must be a string or an integer, got None"),
    ]
    for call, error, message in cases:
        with pytest.raises(error) as raised:
            call()
        assert str(raised.value) == message
    assert ledger.snapshot().granted == 0


def test_empty_batches_do_nothing(make_ledger):
    ledger = make_ledger(10)
    assert ledger.reserve_many([], []) == [] and ledger.settle_many([], []) == [] and ledger.release_many([]) == []


def test_async_batches(make_ledger):
    ledger = make_ledger(1000)

    async def scenario():
        granted = await ledger.areserve_many(["a", "b"], [600, 600])
        assert [r is None for r in granted] == [False, True]
        (settled,) = await ledger.asettle_many(["a"], [10])
        assert settled.refunded == 590
        await ledger.areserve_many(["c"], [50])
        assert [r.tokens for r in await ledger.arelease_many(["c"])] == [50]
        return await ledger.asnapshot()

    books = asyncio.run(scenario())
    assert (books.spent, books.released, books.reserved, books.balanced) == (10, 50, 0, True)


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(0, 1000),
    caps=st.lists(st.integers(0, 400), min_size=1, max_size=8),
    floors=st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=8, max_size=8),
    usage=st.lists(st.integers(0, 500), min_size=8, max_size=8),
)
def test_a_batch_gives_what_the_same_single_calls_in_order_give(budget, caps, floors, usage):
    ids = [f"q{i}" for i in range(len(caps))]
    floors = [None if f is None else min(f, cap) for f, cap in zip(floors, caps)]
    clock = FakeClock()
    singles, batched = Ledger(budget, clock=clock), Ledger(budget, clock=clock)
    one_by_one = [singles.try_reserve(i, cap, at_least=f) for i, cap, f in zip(ids, caps, floors)]
    together = batched.reserve_many(ids, caps, at_least=floors)
    assert [r and r.tokens for r in one_by_one] == [r and r.tokens for r in together]
    held = [r.query_id for r in together if r is not None]
    used = usage[: len(held)]
    assert [singles.settle(i, u) for i, u in zip(held, used)] == batched.settle_many(held, used)
    assert singles.snapshot() == batched.snapshot()


def test_batch_refusals_carry_the_numbers_for_single_calls(make_ledger):
    ledger = make_ledger(100)
    ledger.reserve_many(["a"], [80])
    with pytest.raises(BudgetExceeded) as refused:
        ledger.reserve("b", 30)
    assert (refused.value.free, refused.value.reserved) == (20, 80)
