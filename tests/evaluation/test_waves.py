"""Waves: the leftover of a pass re-allocated to queries abandoned or cut at their cap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import clear_fast as cf
from clear_fast.evaluation import RiskAwareClearPolicy, UniformPolicy, WavesPolicy, evaluate, predicted_curves
from clear_fast.waves import next_wave, rerun_value, run_waves
from clear_fast.workloads import NoisyThresholdOracle, SimulatedReasoner, make_stream


def _reference_value(tau_hat, spread, p, beta, grant, tried, decoding):
    """P(correct at grant | not correct at tried) by scipy quadrature over log tau ~ Normal(log tau_hat, spread)."""
    F = lambda x: stats.gamma.cdf(max(x, 0.0), 2, scale=1 / beta)  # noqa: E731

    def over_tau(g):
        return integrate.quad(
            lambda z: g(tau_hat * math.exp(spread * z)) * stats.norm.pdf(z), -8, 8,
            points=[math.log(max(b, 1e-9) / tau_hat) / spread for b in (grant, tried) if b > 0], limit=400,
        )[0]

    not_before = over_tau(lambda t: 1 - p * F(tried - t))
    if decoding == "deterministic":
        solved = over_tau(lambda t: p * (F(grant - t) - F(tried - t)))
    else:
        solved = over_tau(lambda t: (1 - p * F(tried - t)) * p * F(grant - t))
    return solved / not_before


@pytest.mark.parametrize("decoding", ["deterministic", "sampled"])
def test_the_value_of_a_rerun_matches_scipy_quadrature(decoding):
    tau_hat = np.array([200.0, 200.0, 350.0, 90.0])
    spread = np.array([0.3, 0.6, 0.2, 0.5])
    p = np.array([0.8, 0.5, 0.9, 0.3])
    beta = 1 / 40.0
    curves = cf.SurgeCurves(tau_hat, p * beta**2, beta, weight=[1, 2, 1, 1], form="cumulative")
    tried = np.array([0.0, 220.0, 300.0, 150.0])
    grants = np.array([[150, 260, 400], [230, 300, 500], [310, 400, 600], [160, 200, 400]], float)
    got = rerun_value(curves, spread, grants, tried=tried, decoding=decoding)
    for i in range(4):
        for j in range(3):
            expected = [1, 2, 1, 1][i] * _reference_value(tau_hat[i], spread[i], p[i], beta, grants[i, j], tried[i], decoding)
            assert got[i, j] == pytest.approx(expected, rel=2e-3, abs=1e-6), (i, j)
    # never run: the plain expected utility
    np.testing.assert_allclose(got[0], cf.expected_utility(curves.subset([0]), spread[:1], grants[:1])[0], rtol=2e-3)
    # a grant not above the earlier cap is worth nothing
    assert rerun_value(curves, spread, tried, tried=tried, decoding=decoding)[1:].tolist() == [0.0, 0.0, 0.0]


def test_a_wave_funds_only_queries_never_run_or_cut_and_stays_within_its_budget():
    beta = 1 / 20.0
    curves = cf.SurgeCurves([100.0] * 6, 0.9 * beta**2, beta, form="cumulative")
    tried = np.array([0, 120, 120, 120, 0, 120])
    cut = np.array([False, True, False, True, False, True])
    correct = np.array([False, False, False, False, False, True])  # the last was cut after its answer
    plan = next_wave(curves, 0.3, 1000, tried=tried, cut=cut, correct=correct)
    assert plan.candidates.tolist() == [True, True, False, True, True, False]
    assert plan.spent <= 1000 and np.all(plan.tokens[~plan.candidates] == 0)
    rerun = plan.tokens[[1, 3]]
    assert np.all(rerun > 120)  # a cut query is rerun only past its earlier cap
    assert np.all(plan.expected_utility[plan.tokens > 0] > 0)
    assert next_wave(curves, 0.3, 0, tried=tried, cut=cut).spent == 0
    # below the cheapest useful grant nothing is funded
    assert next_wave(curves, 0.3, 100, tried=np.full(6, 120), cut=np.ones(6, bool)).spent == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 900))
def test_waves_never_spend_more_than_the_budget(seed, per_query):
    stream = make_stream("UShaped", 60, seed=seed % 50)
    tau_hat, _ = NoisyThresholdOracle(stream, 0.4, seed=seed).predict(stream.texts)
    predicted = predicted_curves(stream, tau_hat)
    model = SimulatedReasoner(stream.curves, seed=seed)
    budget = per_query * len(stream)
    first = cf.allocate_uncertain(predicted, 0.4, budget).tokens
    result = run_waves(model.answer_many, predicted, 0.4, budget, first, max_waves=4)
    assert result.spent <= result.committed <= budget
    once, used, _ = model.answer_many(first)
    assert np.all(result.correct[once])  # what the first pass solved stays solved
    assert result.correct.sum() >= once.sum()
    for caps in result.caps[1:]:
        assert np.all(caps[once] == 0)  # a solved query is never run again


def test_waves_add_accuracy_on_every_stream_and_budget():
    for name in ("Balanced", "MostlyHard"):
        stream = make_stream(name, 300, seed=3)
        result = evaluate(stream, [UniformPolicy(), RiskAwareClearPolicy(0.2), WavesPolicy(0.2)], [100, 300, 800, 1500], reasoner_seed=3)
        for budget in (100, 300, 800, 1500):
            row = {r.policy: r for r in result.rows if r.budget_per_query == budget}
            waves, first = row["RiskAware+waves"], row["RiskAwareCLEAR"]
            assert waves.accuracy >= first.accuracy and waves.accuracy >= row["Uniform"].accuracy
            assert waves.tokens_used <= waves.tokens_granted <= waves.budget
            assert waves.abandonment_rate <= first.abandonment_rate
            assert waves.shadow_price == first.shadow_price
        low = {r.policy: r for r in result.rows if r.budget_per_query == 300}
        assert low["RiskAware+waves"].accuracy > low["RiskAwareCLEAR"].accuracy  # the leftover buys something


def test_bad_wave_arguments_are_refused():
    beta = 1 / 20.0
    curves = cf.SurgeCurves([100.0, 200.0], 0.9 * beta**2, beta, form="cumulative")
    with pytest.raises(ValueError, match="form 'cumulative'"):
        rerun_value(cf.SurgeCurves([100.0], 0.01, beta), 0.3, [150.0])
    with pytest.raises(ValueError, match="`cut` must be 2 booleans"):
        next_wave(curves, 0.3, 100, tried=[0, 0], cut=[0, 1])
    with pytest.raises(ValueError, match="`tried` must be >= 0"):
        next_wave(curves, 0.3, 100, tried=[-1, 0], cut=[False, False])
    with pytest.raises(ValueError, match="`decoding` must be one of"):
        rerun_value(curves, 0.3, [150.0, 250.0], decoding="greedy")
    with pytest.raises(ValueError, match="`first` grants 300 tokens, over the budget of 200"):
        run_waves(lambda caps: (caps > 0, caps, caps < 0), curves, 0.3, 200, np.array([150, 150]))
    with pytest.raises(ValueError, match="`answer` used 160 tokens at a cap of 150"):
        run_waves(lambda caps: (caps > 0, caps + 10, caps < 0), curves, 0.3, 400, np.array([150, 150]))
