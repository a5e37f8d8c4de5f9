"""Allocation policies: each grants whole tokens within the budget, as its definition says."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast.evaluation import (
    ClearPolicy,
    OraclePolicy,
    ProportionalPolicy,
    SelfEstimatePolicy,
    UniformPolicy,
    apportion,
    predicted_curves,
)
from clear_fast.workloads import NoisyThresholdOracle, make_stream

STREAM = make_stream("Balanced", 200, seed=1)
PREDICTED = predicted_curves(STREAM, NoisyThresholdOracle(STREAM, 0.3, seed=0).predict(STREAM.texts)[0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=40),
    st.integers(0, 10**7),
)
def test_apportion_spends_the_budget_exactly_and_fairly(weights, budget):
    weights = np.array(weights)
    caps = apportion(weights, budget)
    assert caps.dtype == np.int64 and np.all(caps >= 0)
    if weights.sum() > 0:
        assert caps.sum() == budget
        exact = weights * budget / weights.sum()
        assert np.all(np.abs(caps - exact) <= 1.0 + 1e-9 * budget)
    else:
        assert caps.sum() == 0


def test_uniform_gives_everyone_budget_over_n():
    caps = UniformPolicy().decide(STREAM, PREDICTED, 200 * 300 + 199).caps
    assert np.all(caps == 300)


def test_proportional_follows_the_predicted_thresholds():
    caps = ProportionalPolicy().decide(STREAM, PREDICTED, 200 * 400).caps
    assert caps.sum() == 200 * 400
    np.testing.assert_allclose(caps, PREDICTED.tau * 200 * 400 / PREDICTED.tau.sum(), atol=1.0)


def test_clear_and_oracle_are_allocate_on_predicted_and_true_curves():
    budget = 200 * 300
    clear = ClearPolicy().decide(STREAM, PREDICTED, budget)
    expected = cf.allocate(PREDICTED, budget)
    np.testing.assert_array_equal(clear.caps, expected.tokens)
    assert clear.shadow_price == pytest.approx(expected.shadow_price)
    oracle = OraclePolicy().decide(STREAM, PREDICTED, budget)
    np.testing.assert_array_equal(oracle.caps, cf.allocate(STREAM.curves, budget).tokens)


def test_predicted_curves_share_the_models_alpha_and_beta():
    np.testing.assert_array_equal(PREDICTED.beta, STREAM.curves.beta)
    asymptote = PREDICTED.alpha / PREDICTED.beta**2
    np.testing.assert_allclose(asymptote, STREAM.success_probability.mean())
    assert PREDICTED.form == "cumulative"


def test_self_estimate_takes_its_requests_when_they_fit():
    policy = SelfEstimatePolicy(0.5, seed=3)
    wanted = policy.requests(STREAM)
    ample = int(wanted.sum()) + 12345
    caps = policy.decide(STREAM, PREDICTED, ample).caps
    np.testing.assert_array_equal(caps, wanted)
    # Zero noise: the request is the threshold plus the surge's mean length 2 * width.
    exact = SelfEstimatePolicy(0.0).requests(STREAM)
    np.testing.assert_array_equal(exact, np.ceil(STREAM.curves.tau + 2 / STREAM.curves.beta))


def test_self_estimate_scales_requests_down_together_when_over_budget():
    policy = SelfEstimatePolicy(0.5, seed=3)
    wanted = policy.requests(STREAM)
    budget = int(wanted.sum()) // 3
    caps = policy.decide(STREAM, PREDICTED, budget).caps
    assert caps.sum() == budget
    np.testing.assert_allclose(caps, wanted / 3, atol=1.5)


def test_self_estimate_refuses_bad_settings():
    with pytest.raises(ValueError, match="`sigma`"):
        SelfEstimatePolicy(-1.0)
    with pytest.raises(ValueError, match="`seed`"):
        SelfEstimatePolicy(0.5, seed=-2)


def test_risk_aware_clear_stays_in_budget_and_matches_clear_without_spread():
    from clear_fast.evaluation import RiskAwareClearPolicy
    from clear_fast.uncertainty import allocate_uncertain

    budget = 200 * 300 + 17
    caps = RiskAwareClearPolicy(0.3).decide(STREAM, PREDICTED, budget).caps
    assert caps.sum() <= budget and np.all(caps >= 0)
    np.testing.assert_array_equal(caps, allocate_uncertain(PREDICTED, 0.3, budget).tokens)
    # Without spread it is CLEAR on a grid of grants: the same predicted utility, to a fraction of a query.
    sharp = RiskAwareClearPolicy(0.0).decide(STREAM, PREDICTED, budget).caps
    exact = cf.allocate(PREDICTED, budget)
    assert cf.utility(PREDICTED, sharp).sum() >= exact.utility - 0.1
    with pytest.raises(ValueError, match="`spread` must be a finite number >= 0"):
        RiskAwareClearPolicy(-0.1)
