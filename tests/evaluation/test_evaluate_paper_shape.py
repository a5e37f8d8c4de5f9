"""The evaluation reproduces the paper's shape: big gains when tokens are scarce, none when ample."""

import numpy as np
import pytest

from clear_fast.evaluation import ClearPolicy, OraclePolicy, UniformPolicy, evaluate
from clear_fast.workloads import STREAM_SHAPES, NoisyThresholdOracle, make_stream

SEEDS = (0, 1, 2)


def _mean_series(shape, policies, budgets, metric, predictor_sigma=None, noise_seed=0):
    """Mean over stream seeds of one metric per policy, 500-query streams as in the paper."""
    totals = {p.name: np.zeros(len(budgets)) for p in policies}
    for seed in SEEDS:
        stream = make_stream(shape, 500, seed=seed)
        predictor = None
        if predictor_sigma is not None:
            predictor = NoisyThresholdOracle(stream, predictor_sigma, seed=noise_seed + 10 * seed)
        result = evaluate(stream, policies, budgets, predictor=predictor, reasoner_seed=seed)
        for p in policies:
            totals[p.name] += result.series(shape, p.name, metric) / len(SEEDS)
    return totals


@pytest.mark.parametrize("metric", ["accuracy", "expected_accuracy"])
def test_clear_at_least_doubles_uniform_at_300_tokens_per_query_on_balanced(metric):
    means = _mean_series("Balanced", [ClearPolicy(), UniformPolicy()], [300], metric)
    assert means["CLEAR"][0] >= 2.0 * means["Uniform"][0]
    assert means["Uniform"][0] > 0.05  # the ratio is not carried by a near-zero baseline


@pytest.mark.parametrize("shape", STREAM_SHAPES)
def test_clear_converges_to_uniform_at_ample_budget(shape):
    means = _mean_series(shape, [ClearPolicy(), UniformPolicy()], [1500], "expected_accuracy")
    assert abs(means["CLEAR"][0] - means["Uniform"][0]) <= 0.03


def test_gains_shrink_as_predictor_noise_grows():
    sigmas = (0.0, 0.25, 0.5, 1.0)
    gains = []
    for sigma in sigmas:
        means = _mean_series("Balanced", [ClearPolicy(), UniformPolicy()], [300], "expected_accuracy", sigma)
        gains.append(means["CLEAR"][0] - means["Uniform"][0])
    assert all(later < earlier for earlier, later in zip(gains, gains[1:])), gains
    assert gains[-1] < 0.6 * gains[0]


def test_clear_abandons_most_queries_when_scarce_and_none_when_ample():
    means = _mean_series("Balanced", [ClearPolicy()], [100, 1500], "abandonment_rate")
    assert means["CLEAR"][0] > 0.5
    assert means["CLEAR"][1] == 0.0


def test_oracle_is_best_in_expectation():
    stream = make_stream("UShaped", 300, seed=4)
    result = evaluate(stream, budgets_per_query=[150, 400, 800])
    for budget in (150, 400, 800):
        rows = {r.policy: r.expected_accuracy for r in result.rows if r.budget_per_query == budget}
        # The oracle maximises total true utility; allocate's optimality gap is below one query's worth.
        assert all(rows["Oracle"] >= value - 1.0 / len(stream) for value in rows.values()), rows


def test_realised_accuracy_tracks_expected_accuracy():
    stream = make_stream("Balanced", 3000, seed=6)
    result = evaluate(stream, [OraclePolicy(), UniformPolicy()], [200, 600, 1200], reasoner_seed=1)
    for row in result.rows:
        p = row.expected_accuracy
        assert abs(row.accuracy - p) <= 4 * np.sqrt(p * (1 - p) / len(stream)) + 1e-9, row


def test_a_risk_aware_clear_recovers_what_prediction_error_costs():
    from clear_fast.evaluation import RiskAwareClearPolicy

    policies = [ClearPolicy(), RiskAwareClearPolicy(0.3), UniformPolicy()]
    means = _mean_series("Balanced", policies, [300, 600], "expected_accuracy", predictor_sigma=0.3)
    assert np.all(means["RiskAwareCLEAR"] > means["CLEAR"] + 0.01)
    assert np.all(means["RiskAwareCLEAR"] > means["Uniform"])
