"""What happens to a query the price turns away: refuse with the reason, defer, or fall back."""

from __future__ import annotations

import asyncio
import math

import pytest

import clear_fast as cf
from clear_fast.runtime import Defer, FallBack, Pacer, Refuse
from clear_fast.workloads import make_stream

from pacer_traffic import Clock

EASY = cf.SurgeCurves(120.0, 0.9 / 150**2, 1 / 150, form="cumulative")
HARD = cf.SurgeCurves(1500.0, 0.6 / 150**2, 1 / 150, form="cumulative")
SMALL_MODEL = cf.SurgeCurves(60.0, 0.5 / 100**2, 1 / 100, form="cumulative")


def priced_pacer(price: float, clock=None) -> Pacer:
    return Pacer(10**7, 3600, price=price, clock=clock or Clock(), resolve_every=10**6)


def between(low: float, high: float) -> float:
    return math.sqrt(low * high)


def test_a_funded_query_runs_whatever_the_policy():
    price = float(cf.breakeven_price(EASY)[0]) / 2
    decision = priced_pacer(price).admit(EASY, policy=Defer(10, sleep=lambda s: None))
    assert decision.action == "run" and decision.tokens == int(cf.best_response(EASY, price)[0]) > 0


def test_refuse_gives_the_break_even_against_the_price():
    be = float(cf.breakeven_price(HARD)[0])
    decision = priced_pacer(be * 3).admit(HARD)  # Refuse is the default
    assert (decision.action, decision.tokens) == ("refuse", 0)
    assert decision.breakeven == pytest.approx(be) and decision.price == pytest.approx(3 * be)
    assert f"{be:.6g} is below the current price {3 * be:.6g}" in decision.reason
    assert priced_pacer(be * 3).admit(HARD, policy=Refuse()) == decision


def ahead_of_schedule_pacer(clock: Clock) -> Pacer:
    sample = make_stream("Balanced", 256, seed=2).curves
    pacer = Pacer(1_000_000, 3600, sample=sample, expected_queries=4000, clock=clock, resolve_every=1)
    clock.now = 1800.0
    pacer.record(620_000)  # ahead of the schedule by more than a catch-up horizon: paused
    return pacer


def test_defer_waits_until_the_price_falls_below_break_even():
    clock = Clock()
    pacer = ahead_of_schedule_pacer(clock)
    waiting = Defer(timeout=1800, poll=60, sleep=lambda seconds: setattr(clock, "now", clock.now + seconds))
    decision = pacer.admit(EASY, policy=waiting)
    assert decision.action == "run" and decision.tokens > 0
    assert 0 < decision.waited < 1800
    assert decision.price < decision.breakeven  # it ran once the price fell below its break-even


def test_defer_gives_up_after_its_timeout_with_the_reason():
    clock = Clock()
    pacer = ahead_of_schedule_pacer(clock)
    decision = pacer.admit(EASY, policy=Defer(timeout=120, poll=60, sleep=lambda s: setattr(clock, "now", clock.now + s)))
    assert (decision.action, decision.tokens, decision.waited) == ("refuse", 0, 120.0)
    assert decision.reason.startswith("deferred 120 s without the price falling far enough; abandoned: its break-even")
    assert decision.price > decision.breakeven


def test_async_defer_waits_without_blocking():
    clock = Clock()
    pacer = ahead_of_schedule_pacer(clock)
    ticks = []

    async def fake_sleep(seconds: float) -> None:
        clock.now += seconds
        ticks.append(seconds)
        await asyncio.sleep(0)

    decision = asyncio.run(pacer.aadmit(EASY, policy=Defer(timeout=1800, poll=60, asleep=fake_sleep)))
    assert decision.action == "run" and decision.waited == 60.0 * len(ticks) > 0


def test_fall_back_to_a_fixed_cheap_action():
    pacer = priced_pacer(float(cf.breakeven_price(HARD)[0]) * 3)
    decision = pacer.admit(HARD, policy=FallBack("no-thinking", tokens=256))
    assert (decision.action, decision.tokens, decision.alternative) == ("fallback", 256, "no-thinking")
    assert "fell back to a cheaper action with 256 tokens" in decision.reason


def test_fall_back_to_a_smaller_model_priced_on_its_own_curve():
    be_hard, be_small = float(cf.breakeven_price(HARD)[0]), float(cf.breakeven_price(SMALL_MODEL)[0])
    assert be_hard < be_small
    price = between(be_hard, be_small)
    decision = priced_pacer(price).admit(HARD, policy=FallBack("small-model", curve=SMALL_MODEL))
    assert decision.action == "fallback" and decision.alternative == "small-model"
    assert decision.tokens == int(cf.best_response(SMALL_MODEL, price)[0]) > 0
    too_dear = priced_pacer(be_small * 2).admit(HARD, policy=FallBack("small-model", curve=SMALL_MODEL))
    assert too_dear.action == "refuse" and "both turned away" in too_dear.reason


def test_policy_arguments_are_checked():
    with pytest.raises(ValueError, match="give the alternative's `curve` or a fixed `tokens` cap"):
        FallBack("x")
    with pytest.raises(ValueError, match="give the alternative's `curve` or a fixed `tokens` cap"):
        FallBack("x", curve=SMALL_MODEL, tokens=5)
    with pytest.raises(ValueError, match="`timeout` must be a finite number of seconds > 0, got 0"):
        Defer(0)
    with pytest.raises(ValueError, match="`curve` must be a SurgeCurves of one query"):
        priced_pacer(1e-4).admit(make_stream("Balanced", 3, seed=0).curves)
