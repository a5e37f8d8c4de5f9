"""Huge and odd counts: refused before anything changes, with the same error on both ledgers.

The ledgers count in whole tokens up to 1e14 per call. Anything else (beyond
1e14, beyond 2**53 where floats stop being whole numbers, not a whole number,
not a number) is refused with an error naming the argument, the books stay as
they were, and the same call with a good count still works.
"""

from __future__ import annotations

import uuid
from fractions import Fraction

import numpy as np
import pytest

from clear_fast.runtime import Ledger, RedisLedger
from clear_fast.runtime.limits import MAX_ALLOWANCE, MAX_TOKENS

ODD_COUNTS = [
    MAX_TOKENS + 1,
    2**53 + 1,
    10**17,
    10**20,
    10**400,
    1e17,
    1e20,
    float(2**53),
    np.int64(2**62),
    np.uint64(2**64 - 1),
    np.float64(1e15),
    float("inf"),
    float("nan"),
    -1,
    -0.5,
    2.5,
    Fraction(5, 2),
    "100",
    None,
    True,
    b"1",
]


def attempt(call):
    """The exception a call raises, as (type, message), or its result."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - any error is compared, whatever its type
        return (type(error).__name__, str(error))


@pytest.fixture
def twins(redis_client, clock):
    """An in-process and a Redis ledger with the same budget and clock, and an open reservation each."""
    memory = Ledger(MAX_TOKENS, clock=clock)
    shared = RedisLedger.create(redis_client, f"limits-{uuid.uuid4().hex}", MAX_TOKENS, clock=clock)
    for ledger in (memory, shared):
        ledger.reserve("open", 1000)
    yield memory, shared
    shared.delete()


@pytest.mark.redis
@pytest.mark.parametrize("count", ODD_COUNTS, ids=repr)
def test_an_odd_count_is_refused_alike_and_changes_nothing(twins, count):
    memory, shared = twins
    before = shared.snapshot()
    assert before == memory.snapshot()
    calls = {
        "settle": lambda ledger: ledger.settle("open", count),
        "reserve": lambda ledger: ledger.reserve("new", count),
        "at_least": lambda ledger: ledger.reserve("new", MAX_TOKENS, at_least=count),
        "settle_many": lambda ledger: ledger.settle_many(["open"], [count]),
        "reserve_many": lambda ledger: ledger.reserve_many(["new", "other"], [1, count]),
        "arrivals": lambda ledger: ledger.note_arrivals(count),
    }
    if count is None:
        del calls["at_least"]  # None is a valid at_least: no floor
    for name, call in calls.items():
        in_process, on_redis = attempt(lambda: call(memory)), attempt(lambda: call(shared))
        assert isinstance(in_process, tuple) and in_process[0] in ("TypeError", "ValueError"), (name, in_process)
        assert on_redis == in_process, name
    assert shared.snapshot() == before == memory.snapshot()
    assert shared.settle("open", 600) == memory.settle("open", 600)  # the reservation stayed open


@pytest.mark.redis
def test_the_largest_counts_are_exact_on_both_ledgers(twins):
    memory, shared = twins
    for ledger in (memory, shared):
        ledger.release("open")
        assert ledger.reserve("all", MAX_TOKENS).tokens == MAX_TOKENS
        assert ledger.settle("all", MAX_TOKENS - 1).refunded == 1
        ledger.reserve("late", 1)
        settled = ledger.settle("late", MAX_TOKENS)  # an overrun of 1e14 - 1 tokens, charged exactly
        assert (settled.overrun, settled.used) == (MAX_TOKENS - 1, MAX_TOKENS)
        assert ledger.note_arrivals(MAX_TOKENS) == MAX_TOKENS
    assert shared.snapshot() == memory.snapshot()
    books = shared.snapshot()
    assert (books.spent, books.charged, books.overdrawn, books.balanced) == (2 * MAX_TOKENS - 1, 2 * MAX_TOKENS - 1, MAX_TOKENS - 1, True)


@pytest.mark.redis
def test_totals_past_2_to_the_53_stay_exact(redis_client, clock):
    memory = Ledger(MAX_TOKENS, clock=clock)
    shared = RedisLedger.create(redis_client, f"totals-{uuid.uuid4().hex}", MAX_TOKENS, clock=clock)
    ids = [f"q{i}" for i in range(100)]
    for ledger in (memory, shared):
        ledger.reserve("one", 1)
        ledger.settle("one", 1)
        ledger.reserve_many(ids, [0] * len(ids))
        ledger.settle_many(ids, [MAX_TOKENS] * len(ids))  # 1e16 + 1 tokens charged: past 2**53
    books = shared.snapshot()
    assert books == memory.snapshot()
    assert books.charged == 100 * MAX_TOKENS + 1 > 2**53
    assert books.balanced


def test_budgets_beyond_the_limit_are_refused_for_both_ledgers(redis_client):
    for count in (MAX_TOKENS + 1, 10**20, 1e20):
        message = f"`budget` must be at most {MAX_TOKENS} tokens, got {count!r}"
        with pytest.raises(ValueError) as in_process:
            Ledger(count)
        with pytest.raises(ValueError) as on_redis:
            RedisLedger.create(redis_client, f"huge-{uuid.uuid4().hex}", count)
        assert str(in_process.value) == str(on_redis.value) == message
    with pytest.raises(ValueError, match=r"`max_carry` must be at most 100000000000000 tokens"):
        Ledger(10, period=5, rollover=True, max_carry=10**15)


@pytest.mark.redis
def test_rollover_stops_adding_at_the_largest_allowance_on_both_ledgers(redis_client, clock):
    memory = Ledger(MAX_TOKENS, period=60, rollover=True, clock=clock)
    shared = RedisLedger.create(redis_client, f"carry-{uuid.uuid4().hex}", MAX_TOKENS, period=60, rollover=True,
                                clock=clock)
    clock.advance(60 * 5)
    assert shared.snapshot() == memory.snapshot()
    assert memory.snapshot().allowance == 6 * MAX_TOKENS
    clock.advance(60 * 10**6)  # a million idle windows
    books = shared.snapshot()
    assert books == memory.snapshot()
    assert books.allowance == MAX_ALLOWANCE
