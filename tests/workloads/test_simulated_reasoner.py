"""The simulated reasoner: accuracy at a cap is the cumulative curve; cut answers say so."""

import numpy as np
import pytest
from scipy import stats

from clear_fast import SurgeCurves, utility
from clear_fast.workloads import SimulatedAnswer, SimulatedReasoner

N = 20_000
TAU, WIDTH, SUCCESS = 300.0, 60.0, 0.8


@pytest.fixture(scope="module")
def identical():
    """Many copies of one query, so empirical shares estimate its curve."""
    curves = SurgeCurves.from_peak(np.full(N, TAU), SUCCESS, WIDTH, form="cumulative")
    return curves, SimulatedReasoner(curves, seed=3)


@pytest.mark.parametrize("cap", [0, 250, 300, 320, 360, 420, 600, 900])
def test_accuracy_at_a_cap_matches_the_cumulative_curve(identical, cap):
    curves, reasoner = identical
    correct, _, _ = reasoner.answer_many(np.full(N, cap))
    expected = float(utility(curves.subset([0]), np.array([cap]))[0])
    # Tolerance: four binomial standard errors (a false alarm about once in 16 000 runs), at least 1/N.
    tolerance = 4 * np.sqrt(expected * (1 - expected) / N) + 1 / N
    assert abs(correct.mean() - expected) <= tolerance


def test_natural_lengths_are_threshold_plus_gamma_two(identical):
    _, reasoner = identical
    lengths = reasoner.natural_lengths
    # Integer lengths are ceil(tau + Gamma(2, width)): P(L <= b) = Gamma cdf at b - tau for whole b.
    grid = np.arange(310, 800, 10)
    empirical = np.array([np.mean(lengths <= b) for b in grid])
    reference = stats.gamma.cdf(grid - TAU, a=2, scale=WIDTH)
    assert np.max(np.abs(empirical - reference)) <= 4 * 0.5 / np.sqrt(N)
    assert lengths.min() > TAU


def test_wrong_answers_have_the_same_length_law(identical):
    _, reasoner = identical
    lengths, knows = reasoner.natural_lengths, reasoner.knows_answer
    assert abs(knows.mean() - SUCCESS) <= 4 * np.sqrt(SUCCESS * (1 - SUCCESS) / N)
    result = stats.ks_2samp(lengths[knows], lengths[~knows])
    assert result.pvalue > 1e-4


def test_tokens_and_finish_reason_semantics():
    curves = SurgeCurves.from_peak([100.0, 400.0, 50.0], 1.0, 20.0, form="cumulative")
    reasoner = SimulatedReasoner(curves, seed=0)
    for query in range(3):
        natural = int(reasoner.natural_lengths[query])
        fits = reasoner.answer(query, natural)
        assert fits == SimulatedAnswer(True, natural, "stop", natural)
        cut = reasoner.answer(query, natural - 1)
        assert cut == SimulatedAnswer(False, natural - 1, "length", natural)
        roomy = reasoner.answer(query, natural + 1000)
        assert roomy.tokens_used == natural and roomy.finish_reason == "stop" and roomy.correct
        not_run = reasoner.answer(query, 0)
        assert not_run.tokens_used == 0 and not not_run.correct and not_run.finish_reason == "length"


def test_a_larger_cap_never_does_worse():
    curves = SurgeCurves.from_peak(np.linspace(50, 900, 400), 0.7, 40.0, form="cumulative")
    reasoner = SimulatedReasoner(curves, seed=9)
    previous = np.zeros(400, dtype=bool)
    for cap in range(0, 1400, 25):
        correct, used, cut = reasoner.answer_many(np.full(400, cap))
        assert np.all(correct >= previous)
        assert np.all(used == np.minimum(cap, reasoner.natural_lengths))
        assert np.array_equal(cut, reasoner.natural_lengths > cap)
        previous = correct


def test_answer_and_answer_many_agree():
    curves = SurgeCurves.from_peak(np.linspace(50, 900, 60), 0.6, 30.0, form="cumulative")
    reasoner = SimulatedReasoner(curves, seed=2)
    caps = np.random.default_rng(0).integers(0, 1200, 60)
    correct, used, cut = reasoner.answer_many(caps)
    for i, cap in enumerate(caps.tolist()):
        one = reasoner.answer(i, cap)
        assert (one.correct, one.tokens_used, one.finish_reason == "length") == (correct[i], used[i], cut[i])


def test_draws_depend_only_on_seed_and_query():
    tau = np.linspace(50, 900, 100)
    full = SimulatedReasoner(SurgeCurves.from_peak(tau, 0.6, 30.0, form="cumulative"), seed=4)
    again = SimulatedReasoner(SurgeCurves.from_peak(tau, 0.6, 30.0, form="cumulative"), seed=4)
    prefix = SimulatedReasoner(SurgeCurves.from_peak(tau[:30], 0.6, 30.0, form="cumulative"), seed=4)
    other = SimulatedReasoner(SurgeCurves.from_peak(tau, 0.6, 30.0, form="cumulative"), seed=5)
    assert np.array_equal(full.natural_lengths, again.natural_lengths)
    assert np.array_equal(full.knows_answer, again.knows_answer)
    assert np.array_equal(full.natural_lengths[:30], prefix.natural_lengths)
    assert np.array_equal(full.knows_answer[:30], prefix.knows_answer)
    assert not np.array_equal(full.natural_lengths, other.natural_lengths)


def test_surge_form_curves_are_read_as_the_density_of_correct_lengths():
    tau = np.full(5000, 200.0)
    surge = SimulatedReasoner(SurgeCurves(tau, 0.5 / 50**2, 1 / 50, form="surge"), seed=1)
    cumulative = SimulatedReasoner(SurgeCurves(tau, 0.5 / 50**2, 1 / 50, form="cumulative"), seed=1)
    assert np.array_equal(surge.natural_lengths, cumulative.natural_lengths)
    assert np.array_equal(surge.knows_answer, cumulative.knows_answer)


def test_caps_are_not_mutated_and_outputs_are_fresh():
    curves = SurgeCurves.from_peak([100.0, 200.0], 0.9, 20.0, form="cumulative")
    reasoner = SimulatedReasoner(curves, seed=0)
    caps = np.array([150, 250])
    caps.flags.writeable = False
    reasoner.answer_many(caps)
    assert caps.tolist() == [150, 250]
    strided = np.array([150, 0, 250, 0])[::2]  # non-contiguous view
    np.testing.assert_array_equal(reasoner.answer_many(strided)[1], reasoner.answer_many(caps)[1])
    with pytest.raises(ValueError):
        reasoner.natural_lengths[0] = 1


@pytest.mark.parametrize(
    "caps, error, message",
    [
        ([1, 2, 3], ValueError, r"`caps` must have shape \(2,\)"),
        ([1, -2], ValueError, "`caps` must be whole numbers >= 0"),
        ([1, 2.5], ValueError, "`caps` must be whole numbers >= 0"),
        ([1, float("inf")], ValueError, "`caps` must be whole numbers >= 0"),
        ([True, False], TypeError, "`caps` must hold numbers"),
        (["a", "b"], TypeError, "`caps` must hold numbers"),
    ],
)
def test_bad_caps_are_refused(caps, error, message):
    reasoner = SimulatedReasoner(SurgeCurves.from_peak([100.0, 200.0], 0.9, 20.0, form="cumulative"))
    with pytest.raises(error, match=message):
        reasoner.answer_many(caps)


def test_bad_construction_and_queries_are_refused():
    with pytest.raises(TypeError, match="`curves` must be a SurgeCurves"):
        SimulatedReasoner([1.0, 2.0])
    with pytest.raises(ValueError, match="success probability alpha/beta\\*\\*2 <= 1, got 2 at index 1"):
        SimulatedReasoner(SurgeCurves([10.0, 20.0], [0.01, 0.02], 0.1, form="cumulative"))
    reasoner = SimulatedReasoner(SurgeCurves.from_peak([100.0], 0.9, 20.0, form="cumulative"))
    with pytest.raises(TypeError, match="`seed` must be an integer"):
        SimulatedReasoner(SurgeCurves.from_peak([100.0], 0.9, 20.0, form="cumulative"), seed=1.5)
    with pytest.raises(ValueError, match=r"`query` must be in \[0, 1\), got 1"):
        reasoner.answer(1, 100)
    with pytest.raises(ValueError, match="`cap` must be >= 0, got -1"):
        reasoner.answer(0, -1)
    with pytest.raises(TypeError, match="`cap` must be an integer"):
        reasoner.answer(0, 10.0)
