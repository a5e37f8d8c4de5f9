"""The pacer's rules, one at a time: the warm start, the quote, bursts, the dual update, the books."""

from __future__ import annotations

import math

import numpy as np
import pytest

import clear_fast as cf
from clear_fast.runtime import Ledger, Pacer
from clear_fast.workloads import make_stream

from pacer_traffic import Clock


@pytest.fixture
def sample():
    return make_stream("Balanced", 256, seed=2).curves


@pytest.fixture
def arrivals():
    return make_stream("Balanced", 300, seed=7).curves


def test_warm_start_is_the_batch_price_of_the_sample(sample):
    pacer = Pacer(1_000_000, 3600, sample=sample, expected_queries=4000, clock=Clock())
    expected = cf.allocate(sample, int(1_000_000 / 4000 * 256)).shadow_price
    assert pacer.price == expected > 0


def test_a_quote_is_the_best_response_at_the_current_price(sample, arrivals):
    pacer = Pacer(2 * 10**8, 3600, sample=sample, expected_queries=10**6, clock=Clock(), resolve_every=10**6)
    price = pacer.price
    be = cf.breakeven_price(arrivals)
    wanted = cf.best_response(arrivals, price)
    for i in range(len(arrivals)):
        quote = pacer.quote(arrivals.subset([i]))
        assert quote.price == price
        assert quote.tokens[0] == wanted[i]
        assert quote.breakeven[0] == pytest.approx(be[i])
        if be[i] < price * 0.999:
            assert quote.tokens[0] == 0 and "is below the current price" in quote.why()
        if be[i] > price * 1.001:
            assert quote.tokens[0] > 0 and "beats the current price" in quote.why()
    assert 0 < np.count_nonzero(wanted) < len(arrivals)  # both outcomes were exercised


def test_a_burst_is_one_batch_solve(sample, arrivals):
    pacer = Pacer(10**9, 3600, sample=sample, expected_queries=10**6, clock=Clock(), resolve_every=10**6)
    burst = arrivals.subset(np.arange(40))
    demand = int(cf.best_response(burst, pacer.price).sum())
    quote = pacer.quote(burst)
    assert np.array_equal(quote.tokens, cf.allocate(burst, demand).tokens)
    assert quote.tokens.sum() <= demand


def test_the_last_tokens_of_a_period_are_cut_to_what_is_left(sample):
    clock = Clock()
    pacer = Pacer(10_000, 3600, price=1e-6, clock=clock, resolve_every=10**6)
    pacer.record(9_700)
    easy = cf.SurgeCurves(100.0, 0.9 / 150**2, 1 / 150, form="cumulative")
    quote = pacer.quote(easy)
    assert quote.tokens[0] == 300 and quote.budget_limited[0]
    assert "cut to what is left of the period's budget (300)" in quote.why()
    pacer.record(250)
    quote = pacer.quote(easy)  # 50 left: below the query's threshold of 100
    assert quote.tokens[0] == 0 and "the period's budget is spent (50 tokens left" in quote.why()
    clock.now = 3600.0  # a new period: the budget is back
    assert pacer.quote(easy).tokens[0] > 300
    assert pacer.status().committed == 0


def test_spending_ahead_of_schedule_raises_the_price_and_behind_lowers_it(sample, arrivals):
    prices = {}
    for label, spent in (("behind", 100_000), ("on", 500_000), ("ahead", 800_000)):
        clock = Clock()
        pacer = Pacer(1_000_000, 3600, sample=sample, expected_queries=4000, clock=clock, resolve_every=1)
        clock.now = 1800.0
        pacer.record(spent)
        pacer.quote(arrivals.subset([0]))  # an arrival triggers the update
        prices[label] = pacer.price
    assert prices["behind"] < prices["on"] < prices["ahead"]
    assert math.isinf(prices["ahead"])  # ahead by more than the catch-up horizon: pause


def test_a_paused_pacer_funds_nothing_and_says_why(sample, arrivals):
    clock = Clock()
    pacer = Pacer(1_000_000, 3600, sample=sample, expected_queries=4000, clock=clock, resolve_every=1)
    clock.now = 100.0
    pacer.record(500_000)
    quote = pacer.quote(arrivals.subset([0]))
    assert math.isinf(pacer.price)
    quote = pacer.quote(arrivals.subset([1]))
    assert quote.tokens[0] == 0 and "ahead of the budget's schedule" in quote.why()


def test_a_pacer_on_a_ledger_reads_budget_and_spend_from_it(sample, arrivals):
    clock = Clock()
    ledger = Ledger(1_000_000, period=3600, clock=clock)
    calm = Pacer(ledger=ledger, sample=sample, expected_queries=4000, resolve_every=1)
    assert calm.status().budget == 1_000_000 and calm.status().period_end == 3600.0
    clock.now = 1800.0
    calm.quote(arrivals.subset([0]))
    calm_price = calm.price
    ledger.reserve("big-job", 500_000)  # another worker holds tokens: committed as far as pacing goes
    busy_status = calm.status()
    assert busy_status.committed == 500_000
    calm.quote(arrivals.subset([1]))
    assert calm.price > calm_price
    with pytest.raises(RuntimeError, match="reads its spend from its ledger"):
        calm.record(10)


def test_a_total_budget_ledger_is_paced_over_the_given_period(sample):
    clock = Clock()
    pacer = Pacer(ledger=Ledger(50_000, clock=clock), period=600, sample=sample, expected_queries=200)
    status = pacer.status()
    assert (status.budget, status.period_start, status.period_end) == (50_000, 0.0, 600.0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({}, ValueError, "give `budget` and `period`, or a `ledger`"),
        ({"budget": 10, "period": 0, "price": 1.0}, ValueError, "`period` must be a finite number of seconds > 0, got 0"),
        ({"budget": -1, "period": 5, "price": 1.0}, ValueError, "`budget` must be a finite number >= 0, got -1"),
        ({"budget": 10, "period": 5}, ValueError, "give a `sample` of typical curves"),
        ({"budget": 10, "period": 5, "price": -1.0}, ValueError, "`price` must be a finite number >= 0, got -1.0"),
        ({"budget": 10, "period": 5, "price": 1.0, "window": 0}, ValueError, "`window` must be an integer >= 1, got 0"),
        ({"budget": 10, "period": 5, "price": 1.0, "catch_up": -3}, ValueError, "`catch_up` must be a finite number"),
        ({"budget": 10, "period": 5, "price": 1.0, "schedule": lambda f: f * f * 2}, ValueError, "`schedule` must map 0 to 0 and 1 to 1"),
        ({"budget": 10, "period": 5, "price": 1.0, "schedule": lambda f: abs(math.sin(f * 7.85398))}, ValueError, "`schedule` must never decrease"),
        ({"budget": 10, "period": 5, "price": 1.0, "fairness": {"a": 0.5}}, TypeError, "`fairness` must be a TenantShares"),
    ],
)
def test_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        Pacer(**arguments)


def test_sample_needs_expected_queries_and_ledger_excludes_budget(sample):
    with pytest.raises(ValueError, match="a `sample` needs `expected_queries`"):
        Pacer(10, 5, sample=sample)
    with pytest.raises(ValueError, match="`budget` comes from the ledger"):
        Pacer(10, ledger=Ledger(10, period=5), price=1.0)


def test_quotes_refuse_bad_curves(sample):
    pacer = Pacer(1000, 60, price=1e-4, clock=Clock())
    with pytest.raises(TypeError, match="`curves` must be a SurgeCurves, got list"):
        pacer.quote([1, 2])
    pacer.quote(cf.SurgeCurves(10.0, 1e-3, 1e-2, form="surge"))
    with pytest.raises(ValueError, match="`curves` have form 'cumulative', but this pacer prices 'surge' curves"):
        pacer.quote(sample.subset([0]))


def test_async_quotes_run_off_the_event_loop(sample, arrivals):
    import asyncio
    import threading

    seen = []

    def clock():
        seen.append(threading.get_ident())
        return 0.0

    pacer = Pacer(10**6, 3600, sample=sample, expected_queries=4000, clock=clock)
    seen.clear()
    quote = asyncio.run(pacer.aquote(arrivals.subset([0])))
    assert len(quote) == 1
    assert seen and threading.get_ident() not in seen


def test_threads_share_one_pacer_and_ledger_safely(sample, arrivals):
    import threading

    ledger = Ledger(60_000, period=3600)
    pacer = Pacer(ledger=ledger, sample=sample, expected_queries=400, resolve_every=4)
    errors = []

    def worker(k: int) -> None:
        try:
            for j in range(40):
                i = (k * 40 + j) % len(arrivals)
                cap = int(pacer.quote(arrivals.subset([i])).tokens[0])
                if cap and ledger.try_reserve(f"{k}-{j}", cap) is not None:
                    ledger.settle(f"{k}-{j}", cap // 2)
        except Exception as error:  # collected: a thread's exception would otherwise vanish
            errors.append(repr(error))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    books = ledger.snapshot()
    assert errors == []
    assert books.arrivals == 320 and books.reserved == 0 and books.balanced
    assert books.spent <= 60_000
