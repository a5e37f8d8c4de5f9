"""Threshold pools: the measured recall curves read as distributions of tau."""

import numpy as np
import pytest

from clear_fast.workloads import paper_data, threshold_pools
from clear_fast.workloads.pools import FLOOR_TOKENS, ThresholdPool

MEASURED = paper_data()["recall_vs_tokens"]
BENCHMARK_OF = {"easy": "GSM8K", "medium": "MATH500", "hard": "AIME_AMC"}


@pytest.mark.parametrize("pool_name", ["easy", "medium", "hard"])
def test_cdf_passes_through_every_measured_point(pool_name):
    pool = threshold_pools()[pool_name]
    measured = MEASURED[BENCHMARK_OF[pool_name]]
    np.testing.assert_allclose(pool.cdf(measured["tokens"]), np.array(measured["recall_pct"]) / 100, atol=1e-12)
    assert pool.cdf(FLOOR_TOKENS) == 0.0
    assert pool.cdf(1e6) == 1.0


@pytest.mark.parametrize("pool_name", ["easy", "medium", "hard"])
def test_quantile_inverts_cdf_where_the_cdf_rises(pool_name):
    pool = threshold_pools()[pool_name]
    shares = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(pool.cdf(pool.quantile(shares)), shares, atol=1e-9)


def test_cdf_is_linear_in_log_tokens_between_measured_caps():
    easy = threshold_pools()["easy"]
    # Halfway between 256 and 512 in log-tokens is sqrt(256 * 512): recall halfway between 28% and 87%.
    assert easy.cdf(np.sqrt(256 * 512)) == pytest.approx((0.28 + 0.87) / 2)


@pytest.mark.parametrize("pool_name", ["easy", "medium", "hard"])
def test_sampled_thresholds_follow_the_measured_recall(pool_name):
    pool = threshold_pools()[pool_name]
    n = 20_000
    tau = pool.sample(n, np.random.default_rng(7))
    measured = MEASURED[BENCHMARK_OF[pool_name]]
    for cap, pct in zip(measured["tokens"], measured["recall_pct"]):
        share = pct / 100
        # Binomial standard error of an empirical share, floor 1/n; allow four of them.
        tolerance = 4 * max(np.sqrt(share * (1 - share) / n), 1 / n)
        assert abs(np.mean(tau <= cap) - share) <= tolerance, (cap, share)


def test_gsm8k_mass_beyond_the_last_cap_lies_below_twice_that_cap():
    easy = threshold_pools()["easy"]
    assert easy.tokens[-1] == 2048 and easy.recall[-1] == 1.0
    assert easy.quantile(1.0) == pytest.approx(2048)


def test_hard_pool_has_no_thresholds_below_its_last_zero_recall():
    hard = threshold_pools()["hard"]
    assert hard.quantile(0.0) == pytest.approx(256)
    assert np.all(hard.sample(5000, np.random.default_rng(0)) >= 256)


def test_pool_arrays_are_read_only():
    pool = threshold_pools()["medium"]
    with pytest.raises(ValueError):
        pool.tokens[0] = 1.0


@pytest.mark.parametrize(
    "tokens, recall, message",
    [
        ([128, 100], [1, 2], "`tokens` must increase"),
        ([32, 128], [1, 2], "start above 64"),
        ([128, 256], [5, 3], "`recall_pct` must be non-decreasing"),
        ([128, 256], [5, 130], "`recall_pct` must be non-decreasing"),
        ([128, 256], [-1, 3], "`recall_pct` must be >= 0"),
        ([128, float("nan")], [1, 3], "`tokens` must be finite"),
    ],
)
def test_bad_recall_curves_are_refused(tokens, recall, message):
    with pytest.raises(ValueError, match=message):
        ThresholdPool.from_recall_curve("x", "X", tokens, recall)


def test_quantile_refuses_shares_outside_unit_interval():
    with pytest.raises(ValueError, match="`share`"):
        threshold_pools()["easy"].quantile([0.5, 1.5])
