"""Calibration of the simulated model to the paper's Uniform baseline."""

import numpy as np
import pytest
from scipy.optimize import lsq_linear

from clear_fast.workloads import (
    CALIBRATION,
    STREAM_MIXES,
    SimulatedReasoner,
    derive_calibration,
    make_stream,
    paper_data,
    uniform_expected_accuracy,
)
from clear_fast.workloads.calibration import bounded_least_squares

PAPER = paper_data()["clear_vs_uniform"]


def test_stored_calibration_is_what_the_derivation_gives():
    derived = derive_calibration()
    assert derived.width == CALIBRATION.width
    for pool, p in CALIBRATION.success.items():
        assert derived.success[pool] == pytest.approx(p, abs=5e-5)


def test_success_probabilities_are_ordered_and_valid():
    p = CALIBRATION.success
    assert 1.0 >= p["easy"] > p["medium"] > p["hard"] > 0.0


@pytest.mark.parametrize("shape", list(STREAM_MIXES))
def test_uniform_at_ample_budget_is_within_one_point_of_the_paper(shape):
    expected = uniform_expected_accuracy(shape, [1500.0])[0] * 100
    assert abs(expected - PAPER[shape]["uniform"][-1]) <= 1.0


@pytest.mark.parametrize("shape", ["Balanced", "MostlyHard"])
def test_drawn_stream_and_simulated_model_agree_with_the_analytic_uniform_accuracy(shape):
    n = 6000
    stream = make_stream(shape, n, seed=3)
    for cap in (300, 1500):
        correct, _, _ = SimulatedReasoner(stream.curves, seed=5).answer_many(np.full(n, cap))
        analytic = uniform_expected_accuracy(shape, [float(cap)])[0]
        # Sampling error of thresholds, pools and answers together stays well under 4 standard errors.
        tolerance = 4 * np.sqrt(analytic * (1 - analytic) / n) + 0.005
        assert abs(correct.mean() - analytic) <= tolerance


def test_bounded_least_squares_matches_scipy():
    rng = np.random.default_rng(11)
    for _ in range(30):
        design = rng.random((4, 3))
        target = rng.normal(0.4, 0.5, 4)
        ours = bounded_least_squares(design, target)
        reference = lsq_linear(design, target, bounds=(0.0, 1.0)).x
        assert np.sum((design @ ours - target) ** 2) <= np.sum((design @ reference - target) ** 2) + 1e-10
        np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_uniform_expected_accuracy_refuses_unknown_shapes():
    with pytest.raises(ValueError, match="`stream` must be one of"):
        uniform_expected_accuracy("Spiky", [100.0])
