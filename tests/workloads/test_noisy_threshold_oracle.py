"""The noisy threshold oracle: lognormal error of a chosen size, stable per query."""

import numpy as np
import pytest

from clear_fast.workloads import NoisyThresholdOracle, make_stream

STREAM = make_stream("Balanced", 4000, seed=0)


def test_zero_noise_is_the_truth():
    tau, spread = NoisyThresholdOracle(STREAM, 0.0).predict(STREAM.texts)
    np.testing.assert_array_equal(tau, STREAM.curves.tau)
    np.testing.assert_array_equal(spread, 0.0)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_log_errors_have_mean_zero_and_the_chosen_spread(sigma):
    tau, spread = NoisyThresholdOracle(STREAM, sigma, seed=2).predict(STREAM.texts)
    errors = np.log(tau / STREAM.curves.tau)
    n = len(errors)
    assert abs(errors.mean()) <= 4 * sigma / np.sqrt(n)
    # Standard error of a sample standard deviation is about sigma / sqrt(2 n).
    assert abs(errors.std() - sigma) <= 4 * sigma / np.sqrt(2 * n)
    np.testing.assert_array_equal(spread, sigma)


def test_predictions_are_stable_per_query_and_follow_the_order_asked():
    oracle = NoisyThresholdOracle(STREAM, 0.4, seed=1)
    all_tau, _ = oracle.predict(STREAM.texts)
    again, _ = oracle.predict(STREAM.texts)
    np.testing.assert_array_equal(all_tau, again)
    picked, _ = oracle.predict([STREAM.texts[9], STREAM.texts[2], STREAM.texts[9]])
    np.testing.assert_array_equal(picked, all_tau[[9, 2, 9]])
    assert NoisyThresholdOracle(STREAM, 0.4, seed=1).predict(STREAM.texts[:5])[0].tolist() == all_tau[:5].tolist()
    other, _ = NoisyThresholdOracle(STREAM, 0.4, seed=2).predict(STREAM.texts[:5])
    assert not np.array_equal(other, all_tau[:5])


def test_returned_arrays_are_the_callers_own():
    oracle = NoisyThresholdOracle(STREAM, 0.4, seed=1)
    tau, _ = oracle.predict(STREAM.texts[:3])
    tau[:] = -1
    assert np.all(oracle.predict(STREAM.texts[:3])[0] > 0)


def test_bad_inputs_are_refused():
    oracle = NoisyThresholdOracle(STREAM, 0.4)
    with pytest.raises(ValueError, match=r"`texts`\[1\] is not a query of this stream"):
        oracle.predict([STREAM.texts[0], "What is 2 + 2?"])
    with pytest.raises(TypeError, match="a single string"):
        oracle.predict(STREAM.texts[0])
    with pytest.raises(ValueError, match="`sigma` must be a finite number >= 0, got -0.1"):
        NoisyThresholdOracle(STREAM, -0.1)
    with pytest.raises(ValueError, match="`sigma`"):
        NoisyThresholdOracle(STREAM, float("nan"))
    with pytest.raises(TypeError, match="`stream` must be a Stream"):
        NoisyThresholdOracle(STREAM.curves, 0.1)
    with pytest.raises(ValueError, match="`seed` must be >= 0"):
        NoisyThresholdOracle(STREAM, 0.1, seed=-1)
