"""Reserve, settle, release and the books, for both ledgers (in-process and Redis)."""

from __future__ import annotations

import asyncio

import pytest

from clear_fast.runtime import BudgetExceeded, ReservationOpen


def test_reserve_settle_refunds_the_unused_part(make_ledger):
    ledger = make_ledger(1000)
    reservation = ledger.reserve("q1", 600)
    assert (reservation.query_id, reservation.tokens, reservation.deadline) == ("q1", 600, None)
    assert ledger.snapshot().free == 400
    settlement = ledger.settle("q1", 250)
    assert (settlement.reserved, settlement.used, settlement.refunded, settlement.overrun) == (600, 250, 350, 0)
    books = ledger.snapshot()
    assert (books.spent, books.reserved, books.free, books.open_reservations) == (250, 0, 750, 0)
    assert books.balanced


def test_refusal_raises_with_the_numbers_and_holds_nothing(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve("a", 700)
    with pytest.raises(BudgetExceeded) as refused:
        ledger.reserve("b", 301)
    error = refused.value
    assert (error.requested, error.free, error.allowance, error.reserved) == (301, 300, 1000, 700)
    assert "301 tokens" in str(error) and "only 300 free" in str(error)
    assert ledger.try_reserve("b", 301) is None
    assert ledger.snapshot().reserved == 700
    assert ledger.try_reserve("b", 300).tokens == 300  # exactly the free tokens is allowed
    assert ledger.snapshot().free == 0


def test_at_least_takes_what_is_left_when_that_is_enough(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve("a", 850)
    partial = ledger.reserve("b", 400, at_least=100)
    assert partial.tokens == 150  # the grant is the cap to use
    with pytest.raises(BudgetExceeded) as refused:
        ledger.reserve("c", 400, at_least=1)
    assert refused.value.free == 0
    ledger.release("b")
    assert ledger.try_reserve("c", 400, at_least=200) is None  # 150 free < 200
    assert ledger.try_reserve("c", 100, at_least=50).tokens == 100  # enough free: the full request
    hold = ledger.hold("d", 500, at_least=10)
    with hold as reservation:
        assert reservation.tokens == 50
    assert hold.outcome.used == 50  # unreported usage is charged at the grant, not the request
    with pytest.raises(ValueError, match=r"`at_least` must be <= `tokens` \(10\), got 11"):
        ledger.reserve("e", 10, at_least=11)
    assert ledger.snapshot().balanced


def test_release_returns_everything(make_ledger):
    ledger = make_ledger(500)
    ledger.reserve(7, 500)  # integer ids are accepted as their text
    released = ledger.release("7")
    assert (released.query_id, released.tokens, released.late) == ("7", 500, False)
    books = ledger.snapshot()
    assert (books.spent, books.reserved, books.released, books.free) == (0, 0, 500, 500)


def test_overrun_is_charged_recorded_and_visible(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve("honest", 400)
    ledger.reserve("ignores-cap", 600)
    ledger.settle("honest", 400)
    settlement = ledger.settle("ignores-cap", 750)
    assert (settlement.overrun, settlement.refunded) == (150, 0)
    books = ledger.snapshot()
    assert books.spent == 1150  # really spent, so charged
    assert books.overdrawn == 150 == books.overrun  # past the budget by exactly the overrun, and shown
    assert books.overrun_count == 1 and books.free == 0 and books.balanced
    assert [(o.query_id, o.reserved, o.used, o.excess) for o in ledger.overruns] == [("ignores-cap", 600, 750, 150)]
    with pytest.raises(BudgetExceeded):
        ledger.reserve("next", 1)


def test_arrivals_are_counted_for_pacers(make_ledger):
    ledger = make_ledger(100)
    assert ledger.note_arrivals() == 1
    assert ledger.note_arrivals(5) == 6
    assert ledger.snapshot().arrivals == 6
    with pytest.raises(ValueError, match="`count` must be a finite number >= 0, got -2"):
        ledger.note_arrivals(-2)


def test_an_open_id_cannot_be_reserved_twice_but_can_be_reused_after_closing(make_ledger):
    ledger = make_ledger(1000)
    ledger.reserve("q", 10)
    with pytest.raises(ReservationOpen, match="'q' already holds a reservation of 10 tokens"):
        ledger.reserve("q", 20)
    ledger.settle("q", 5)
    assert ledger.reserve("q", 20).tokens == 20


def test_zero_tokens_and_whole_float_counts_are_accepted(make_ledger, clock):
    ledger = make_ledger(0, reservation_timeout=5, clock=clock)
    assert ledger.reserve("zero", 0).tokens == 0  # a zero budget still admits a zero reservation
    assert ledger.release("zero").tokens == 0
    ledger.reserve("zero", 0)
    assert ledger.settle("zero", 0).refunded == 0
    ledger.reserve("zero", 0)
    clock.advance(6)
    assert ledger.snapshot().expired == 0
    ledger = make_ledger(10)
    assert ledger.reserve("float", 4.0).tokens == 4
    assert ledger.settle("float", 3.0).used == 3
    assert ledger.snapshot().balanced


def test_hold_settles_inside_and_releases_on_error(make_ledger):
    ledger = make_ledger(1000)
    with ledger.hold("ok", 300) as reservation:
        reservation.settle(120)
    with pytest.raises(RuntimeError):
        with ledger.hold("fails", 300):
            raise RuntimeError("model call failed")
    hold = ledger.hold("unreported", 200)
    with hold:
        pass  # usage never reported: charged at the full cap
    assert hold.outcome.used == 200
    books = ledger.snapshot()
    assert (books.spent, books.reserved, books.released) == (320, 0, 300)
    assert books.balanced


def test_async_twins_and_async_hold(make_ledger):
    ledger = make_ledger(1000)

    async def scenario():
        first = await ledger.areserve("a", 400)
        assert await ledger.atry_reserve("too-much", 700) is None
        with pytest.raises(BudgetExceeded):
            await ledger.areserve("too-much", 700)
        await first.asettle(100)
        async with ledger.hold("b", 500) as held:
            await held.asettle(500)
        with pytest.raises(ValueError):
            async with ledger.hold("c", 100):
                raise ValueError("cancelled call")
        second = await ledger.areserve("d", 50)
        await second.arelease()
        return await ledger.asnapshot()

    books = asyncio.run(scenario())
    assert (books.spent, books.reserved, books.released, books.granted) == (600, 0, 150, 1050)
    assert books.balanced


def test_cancelled_task_inside_hold_releases(make_ledger):
    ledger = make_ledger(100)

    async def scenario():
        entered = asyncio.Event()

        async def worker():
            async with ledger.hold("slow", 80):
                entered.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(worker())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.05)  # the shielded release may finish just after the cancellation
        return ledger.snapshot()

    books = asyncio.run(scenario())
    assert (books.reserved, books.released, books.free) == (0, 80, 100)
