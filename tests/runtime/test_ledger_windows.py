"""Rate budgets: windows restart each period, with and without rollover."""

from __future__ import annotations

import math

import pytest


def test_total_budget_never_resets(make_ledger, clock):
    ledger = make_ledger(100, clock=clock)
    ledger.reserve("a", 100)
    ledger.settle("a", 100)
    clock.advance(10**6)
    books = ledger.snapshot()
    assert (books.window, books.free, books.window_end) == (0, 0, math.inf)


def test_rate_budget_restarts_each_period_without_rollover(make_ledger, clock):
    ledger = make_ledger(1000, period=60, clock=clock)
    ledger.reserve("a", 300)
    ledger.settle("a", 300)
    clock.advance(60)  # unspent 700 is lost
    books = ledger.snapshot()
    assert (books.window, books.allowance, books.spent, books.free) == (1, 1000, 0, 1000)
    assert books.window_start == pytest.approx(books.window_end - 60)


def test_rollover_carries_unspent_tokens_and_idle_windows(make_ledger, clock):
    ledger = make_ledger(1000, period=60, rollover=True, clock=clock)
    ledger.reserve("a", 300)
    ledger.settle("a", 300)
    clock.advance(60)
    assert ledger.snapshot().allowance == 1700
    clock.advance(120)  # two idle windows carry their whole allowance
    assert ledger.snapshot().allowance == 1700 + 2000


def test_rollover_is_capped_by_max_carry(make_ledger, clock):
    ledger = make_ledger(1000, period=60, rollover=True, max_carry=500, clock=clock)
    clock.advance(60 * 5)
    books = ledger.snapshot()
    assert (books.window, books.allowance) == (5, 1500)


def test_overrun_is_repaid_from_the_next_window_with_rollover(make_ledger, clock):
    ledger = make_ledger(1000, period=60, rollover=True, clock=clock)
    ledger.reserve("a", 1000)
    ledger.settle("a", 1200)
    clock.advance(60)
    assert ledger.snapshot().allowance == 800


def test_open_reservation_keeps_holding_across_a_window_end(make_ledger, clock):
    ledger = make_ledger(1000, period=60, clock=clock)
    ledger.reserve("long", 400)
    clock.advance(61)
    books = ledger.snapshot()
    assert (books.window, books.reserved, books.free) == (1, 400, 600)
    ledger.settle("long", 350)
    books = ledger.snapshot()
    assert (books.spent, books.free, books.refunded) == (350, 650, 50)
    assert books.balanced
