"""Bad input and faulty call sequences: clear errors, nothing lost, books still balance."""

from __future__ import annotations

import pytest

from clear_fast.runtime import Ledger, ReservationClosed, UnknownReservation


@pytest.mark.parametrize(
    ("used", "error", "message"),
    [
        (-1, ValueError, "`used` must be a finite number >= 0, got -1"),
        (2.5, ValueError, "`used` must be a whole number of tokens, got 2.5"),
        (float("nan"), ValueError, "`used` must be a finite number >= 0, got nan"),
        ("12", TypeError, "`used` must be a whole number of tokens, got '12'"),
        (None, TypeError, "`used` must be a whole number of tokens, got None"),
        (True, TypeError, "`used` must be a whole number of tokens, got True"),
    ],
)
def test_bad_usage_is_refused_and_the_reservation_stays_open(make_ledger, used, error, message):
    ledger = make_ledger(100)
    ledger.reserve("q", 60)
    with pytest.raises(error) as raised:
        ledger.settle("q", used)
    assert str(raised.value) == message
    assert ledger.snapshot().reserved == 60  # nothing lost: a correct settle still works
    assert ledger.settle("q", 50).refunded == 10
    assert ledger.snapshot().balanced


@pytest.mark.parametrize(
    ("query_id", "tokens", "error", "message"),
    [
        ("q", -5, ValueError, "`tokens` must be a finite number >= 0, got -5"),
        ("q", 1.5, ValueError, "`tokens` must be a whole number of tokens, got 1.5"),
        ("q", "10", TypeError, "`tokens` must be a whole number of tokens, got '10'"),
        ("", 10, ValueError, "`query_id` must not be empty"),
        (3.0, 10, TypeError, "`query_id` must be a string or an integer, got 3.0"),
        (None, 10, TypeError, "`query_id` must be a string or an integer, got None"),
    ],
)
def test_bad_reservations_are_refused(make_ledger, query_id, tokens, error, message):
    ledger = make_ledger(100)
    with pytest.raises(error) as raised:
        ledger.reserve(query_id, tokens)
    assert str(raised.value) == message
    assert ledger.snapshot().granted == 0


def test_settle_or_release_of_an_unknown_id(make_ledger):
    ledger = make_ledger(100)
    with pytest.raises(UnknownReservation, match="cannot settle query 'ghost': the ledger holds no reservation"):
        ledger.settle("ghost", 5)
    with pytest.raises(UnknownReservation, match="cannot release query 'ghost'"):
        ledger.release("ghost")
    books = ledger.snapshot()
    assert (books.spent, books.charged) == (0, 0)


def test_double_settle_and_release_after_settle(make_ledger):
    ledger = make_ledger(100)
    ledger.reserve("q", 40)
    ledger.settle("q", 30)
    with pytest.raises(ReservationClosed, match=r"cannot settle query 'q': its reservation was already settled \(used 30 of 40\)"):
        ledger.settle("q", 30)
    with pytest.raises(ReservationClosed, match="cannot release query 'q'"):
        ledger.release("q")
    ledger.reserve("r", 10)
    ledger.release("r")
    with pytest.raises(ReservationClosed, match="already released"):
        ledger.settle("r", 10)
    books = ledger.snapshot()
    assert (books.spent, books.charged, books.released) == (30, 30, 10)
    assert books.balanced


def test_reservation_that_outlives_its_timeout_is_returned(make_ledger, clock):
    ledger = make_ledger(100, reservation_timeout=30, clock=clock)
    reservation = ledger.reserve("dies", 70)
    assert reservation.deadline == pytest.approx(clock.now + 30)
    clock.advance(29)
    assert ledger.snapshot().reserved == 70
    clock.advance(2)  # the worker died: nobody will settle
    books = ledger.snapshot()
    assert (books.reserved, books.expired, books.free, books.open_reservations) == (0, 70, 100, 0)
    assert books.balanced
    assert ledger.release("dies").late  # a clean-up after expiry is not an error


def test_settle_after_expiry_is_charged_as_a_late_overrun(make_ledger, clock):
    ledger = make_ledger(100, reservation_timeout=10, clock=clock)
    ledger.reserve("slow", 50)
    clock.advance(11)
    ledger.reserve("other", 90)  # the expired tokens were reusable
    late = ledger.settle("slow", 45)
    assert (late.late, late.reserved, late.used, late.overrun) == (True, 0, 45, 45)
    books = ledger.snapshot()
    assert (books.spent, books.reserved, books.overrun, books.overdrawn) == (45, 90, 45, 35)
    assert books.balanced
    with pytest.raises(ReservationClosed):
        ledger.settle("slow", 45)


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="`budget` must be a finite number >= 0, got -1"):
        Ledger(-1)
    with pytest.raises(ValueError, match="`period` must be a finite number of seconds > 0, got 0"):
        Ledger(10, period=0)
    with pytest.raises(ValueError, match="`rollover=True` needs a `period`"):
        Ledger(10, rollover=True)
    with pytest.raises(ValueError, match="`max_carry` only applies with `rollover=True`"):
        Ledger(10, period=5, max_carry=3)
    with pytest.raises(ValueError, match="`reservation_timeout` must be a finite number of seconds > 0, got -2"):
        Ledger(10, reservation_timeout=-2)
    with pytest.raises(TypeError, match="`clock` must be callable"):
        Ledger(10, clock=3)
