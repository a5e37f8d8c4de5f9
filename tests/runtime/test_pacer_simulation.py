"""The pacer over whole periods: the budget lasts, ends spent, and buys nearly what hindsight would.

Traffic comes from clear_fast.workloads (true accuracy-at-a-cap curves drawn
from the paper's measured threshold pools). The reference is the offline
optimum with hindsight: clear_fast.allocate over every query of the period.
"""

from __future__ import annotations

import numpy as np
import pytest

import clear_fast as cf
from clear_fast.runtime import Pacer, schedule_from_history
from clear_fast.workloads import make_stream

from pacer_traffic import PERIOD, Clock, accuracy, arrival_times, feed, hindsight, rising_arrival_times, shifting

N = 1000


@pytest.mark.parametrize("per_query", [200, 300])
def test_stationary_traffic_spends_the_budget_on_schedule_and_nearly_matches_hindsight(per_query):
    curves = make_stream("Balanced", N, seed=1).curves
    run = feed(curves, per_query, sample=make_stream("Balanced", 256, seed=2).curves)
    best = hindsight(curves, run.budget)
    assert 0.95 <= run.spend_share <= 1.0
    assert abs(run.spent_at_half / run.budget - 0.5) < 0.05  # neither early exhaustion nor hoarding
    assert accuracy(curves, run.caps) >= 100 * best.utility / N - 1.0


@pytest.mark.parametrize(("first", "second"), [("Balanced", "MostlyHard"), ("MostlyEasy", "MostlyHard")])
def test_traffic_whose_mix_shifts_mid_period(first, second):
    curves = shifting(first, second, N, seed=3)
    run = feed(curves, 300, sample=make_stream(first, 256, seed=5).curves)
    best = hindsight(curves, run.budget)
    assert 0.95 <= run.spend_share <= 1.0
    assert accuracy(curves, run.caps) >= 100 * best.utility / N - 2.0


def fixed_price_caps(curves, sample, per_query, budget):
    """Baseline: the warm-start price held all period, each cap cut to what is left."""
    price = cf.allocate(sample, per_query * len(sample)).shadow_price
    caps = cf.best_response(curves, price)
    left = budget - np.concatenate([[0], np.cumsum(caps)[:-1]])
    return np.where(caps <= left, caps, 0)


def test_a_sharp_shift_is_followed_while_a_fixed_price_runs_dry():
    curves = shifting("MostlyHard", "MostlyEasy", N, seed=3)
    sample = make_stream("MostlyHard", 256, seed=5).curves
    run = feed(curves, 200, sample=sample)
    assert 0.95 <= run.spend_share <= 1.0
    fixed = fixed_price_caps(curves, sample, 200, run.budget)
    last_funded = np.flatnonzero(fixed)[-1]
    assert fixed.sum() > 0.99 * run.budget and last_funded < 0.85 * N  # the fixed price spends it all too early
    assert np.flatnonzero(run.caps)[-1] > 0.97 * N  # the pacer still funds queries at the end
    assert accuracy(curves, run.caps) > accuracy(curves, fixed) + 1.0


def test_a_schedule_learned_from_the_last_period_recovers_most_of_the_hindsight_value():
    # Hindsight front-loads tokens onto the half that buys more; a linear
    # schedule cannot know which half that is, the last period's shape can.
    last_period = shifting("MostlyHard", "MostlyEasy", N, seed=13)
    schedule = schedule_from_history(arrival_times(N, 9), hindsight(last_period, 200 * N).tokens, PERIOD)
    curves = shifting("MostlyHard", "MostlyEasy", N, seed=3)
    sample = make_stream("MostlyHard", 256, seed=5).curves
    linear = feed(curves, 200, sample=sample)
    learned = feed(curves, 200, sample=sample, schedule=schedule)
    best = 100 * hindsight(curves, learned.budget).utility / N
    assert 0.95 <= learned.spend_share <= 1.0
    assert learned.spent_at_half < 0.4 * learned.budget  # it saved for the easy half
    assert accuracy(curves, learned.caps) >= best - 3.0
    assert accuracy(curves, learned.caps) > accuracy(curves, linear.caps) + 2.0


def test_a_fleet_of_pacers_sharing_one_ledger_paces_as_one(make_ledger):
    # Four workers, each with its own pacer, each seeing a quarter of the traffic. They share
    # the spend and the arrival count through the ledger, so none mistakes its own quarter
    # of the traffic for the whole.
    curves = make_stream("Balanced", N, seed=1).curves
    budget, clock = 300 * N, Clock()
    ledger = make_ledger(budget, clock=clock)
    pacers = [
        Pacer(ledger=ledger, period=PERIOD, sample=make_stream("Balanced", 256, seed=2 + k).curves,
              expected_queries=N, clock=clock)
        for k in range(4)
    ]
    caps = np.zeros(N, dtype=np.int64)
    for i, moment in enumerate(arrival_times(N, 0)):
        clock.now = moment
        caps[i] = pacers[i % 4].quote(curves.subset([i])).tokens[0]
        if caps[i]:
            with ledger.hold(f"q{i}", int(caps[i])):
                pass  # the call used its whole cap
    books = ledger.snapshot()
    assert books.arrivals == N
    assert 0.95 <= books.spent / budget <= 1.0
    assert accuracy(curves, caps) >= 100 * hindsight(curves, budget).utility / N - 1.0


def test_traffic_volume_that_rises_through_the_period():
    # Three quarters of the queries come in the second half. A linear schedule gives the
    # early few too much; a schedule shaped like the last period's arrivals does not.
    curves = make_stream("Balanced", N, seed=1).curves
    sample = make_stream("Balanced", 256, seed=2).curves
    times = rising_arrival_times(N, 0)
    by_arrivals = schedule_from_history(rising_arrival_times(N, 7), np.ones(N), PERIOD)
    linear = feed(curves, 200, sample=sample, times=times)
    shaped = feed(curves, 200, sample=sample, times=times, schedule=by_arrivals)
    best = 100 * hindsight(curves, shaped.budget).utility / N
    assert 0.95 <= linear.spend_share <= 1.0 and 0.95 <= shaped.spend_share <= 1.0
    assert accuracy(curves, shaped.caps) >= best - 1.5
    assert accuracy(curves, shaped.caps) > accuracy(curves, linear.caps) + 1.5


def test_usage_below_the_caps_is_made_up_by_a_lower_price():
    curves = make_stream("Balanced", N, seed=1).curves
    run = feed(curves, 300, sample=make_stream("Balanced", 256, seed=2).curves, usage_share=0.6)
    assert 0.95 <= run.spend_share <= 1.0
    assert run.caps.sum() > 1.3 * run.budget  # caps rose because calls used less than them


def test_bursts_are_solved_as_batches():
    curves = make_stream("Balanced", N, seed=1).curves
    run = feed(curves, 300, sample=make_stream("Balanced", 256, seed=2).curves, burst=20)
    best = hindsight(curves, run.budget)
    assert 0.95 <= run.spend_share <= 1.0
    assert accuracy(curves, run.caps) >= 100 * best.utility / N - 1.0
