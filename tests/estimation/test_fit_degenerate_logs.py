"""Logs a plain likelihood fit gets wrong: greedy decoding, one run per query, correct runs cut at the cap.

Each must give parameters close to the truth, or a FitWarning that says what is wrong and
what to do; never a silent degenerate width.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from clear_fast.fit import FitResult, FitWarning, Rollouts, fit_rollouts
from clear_fast.fit.rollout_fit import DETERMINISTIC_WIDTH
from clear_fast.fit._thresholds import ThresholdLikelihood

from estimation_data import make_deterministic_rollouts, make_rollouts


def _fit(rollouts, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit_rollouts(rollouts, **kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, FitWarning)]
    others = [w for w in caught if not issubclass(w.category, FitWarning)]
    assert not others, [str(w.message) for w in others]
    assert list(result.notes) == messages  # every warning is kept in the result
    return result, messages


@pytest.fixture(scope="module")
def greedy():
    data, knows, natural = make_deterministic_rollouts(seed=1)
    rollouts = Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct)
    return data, knows, natural, rollouts


def test_greedy_logs_are_recognised_and_fitted_one_answer_per_query(greedy):
    data, knows, natural, rollouts = greedy
    result, messages = _fit(rollouts, success="per_query")
    assert result.decoding == "deterministic" and result.width_prior is None
    assert len(messages) == 1 and "decoding looks deterministic" in messages[0]
    assert "pass decoding='deterministic'" in messages[0]
    # each answer has one length: a fitted query's curve is a step there, one token wide (not estimated)
    assert result.width == DETERMINISTIC_WIDTH == 1.0 and math.isnan(result.beta_se)
    assert abs(result.success_probability - knows.mean()) < 0.04 and result.success_probability_se > 0
    # the population of lengths (median threshold 40 plus about 8 tokens of surge, log-sd 0.5)
    assert abs(result.tau_log_mean - math.log(48)) < 0.15 and abs(result.tau_log_std - 0.45) < 0.12
    # a solved query's threshold is its answer's length, to within the step's width
    solved = result.solved
    assert np.all(result.tau[solved] < natural[solved]) and np.all(result.tau[solved] > natural[solved] - 4)
    # a query that never fitted its caps lies beyond them
    assert np.all(result.tau[~solved & knows] > 20)
    # known or not: a solved query surely is, one that failed at 4x the median threshold hardly ever
    assert np.all(result.query_success_probability[solved] > 0.999)
    assert np.all(result.query_success_probability[~solved] < 0.05)
    # saying so up front gives the same fit, without the warning
    told, told_messages = _fit(rollouts, success="per_query", decoding="deterministic")
    assert told_messages == [] and told.success_probability == result.success_probability
    np.testing.assert_array_equal(told.tau, result.tau)


def test_greedy_logs_read_as_samples_warn_of_the_collapsed_width(greedy):
    *_, rollouts = greedy
    for prior in ((0.25, 1.5), None):
        result, messages = _fit(rollouts, decoding="sampled", width_prior=prior)
        assert result.decoding == "sampled"
        assert result.width < 1.0  # the runs claim one length drawn again and again
        assert any("decoding='sampled' but" in m and "decoding='deterministic'" in m for m in messages)
        assert any("below one token" in m for m in messages)


def test_the_greedy_view_keeps_each_querys_most_informative_run():
    rollouts = Rollouts.from_arrays(
        ["a", "a", "a", "b", "b", "b", "c", "c", "d", "d"],
        [10, 40, 160, 10, 40, 160, 20, 160, 30, 60],
        [10, 25, 25, 10, 40, 160, 20, 160, 30, 60],
        [True, False, False, True, True, True, True, True, True, True],
        [False, True, True, False, False, False, False, False, True, True],
    )
    one = rollouts.one_run_per_query()
    assert one.query_ids == rollouts.query_ids and one.n_runs == 4
    # a: its answer of 25 tokens; b, c: the largest cap they failed at; d: correct but cut, at the smaller cap
    assert one.cap.tolist() == [40.0, 160.0, 160.0, 30.0]
    assert one.tokens.tolist() == [25.0, 160.0, 160.0, 30.0]
    assert one.correct.tolist() == [True, False, False, True]
    assert one.cut.tolist() == [False, True, True, True]


def test_one_sampled_run_per_query_warns_that_the_width_is_not_measured():
    data = make_rollouts(n=300, runs=1, seed=0, caps=(256, 512, 1024))
    rollouts = Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct)
    result, messages = _fit(rollouts)
    assert result.decoding == "sampled"
    assert len(messages) == 1 and "do not measure the width" in messages[0] and "width_prior" in messages[0]
    # nothing on a bound, and close to the truth (width 150, p 0.9, median threshold 400, log-sd 0.5)
    assert 0.5 < result.width * data.beta < 1.5
    assert abs(result.success_probability - 0.9) < 0.07
    assert abs(result.tau_log_mean - math.log(400)) < 0.25 and 0.3 < result.tau_log_std < 0.7
    # several sampled runs per query measure the width: no warning
    many = make_rollouts(n=100, runs=6, seed=0)
    _, quiet = _fit(Rollouts.from_arrays(many.query, many.cap, many.tokens, many.cut, many.correct))
    assert quiet == []


def _rambling_rollouts(seed, ramble):
    """Sampled runs where a known answer that fits is followed, with chance ``ramble``, by talk up to the cap."""
    data = make_rollouts(n=150, runs=8, seed=seed)
    rng = np.random.default_rng(seed + 100)
    rambles = data.correct & (rng.random(data.correct.shape[0]) < ramble)
    tokens = np.where(rambles, data.cap, data.tokens)
    return data, rambles, Rollouts.from_arrays(data.query, data.cap, tokens, data.cut | rambles, data.correct)


def test_correct_runs_cut_at_the_cap_count_as_answers_that_fitted():
    data, rambles, rollouts = _rambling_rollouts(5, 0.3)
    assert rambles.sum() > 100 and np.all(rollouts.correct[rambles] & rollouts.cut[rambles])
    result, messages = _fit(rollouts)
    assert messages == []
    assert abs(result.beta / data.beta - 1) < 0.2 and abs(result.success_probability - data.p) < 0.05
    error = np.log(result.tau) - np.log(data.tau)
    assert abs(error.mean()) < 0.08 and np.median(np.abs(error)) < 0.2
    solved = np.zeros(len(data.tau), bool)
    solved[data.query[data.correct]] = True
    np.testing.assert_array_equal(result.solved, solved)  # a query solved only by rambling runs is solved
    # reading them as failures (what a strict log reader forces) drags p down
    failed = Rollouts.from_arrays(data.query, data.cap, rollouts.tokens, rollouts.cut, data.correct & ~rambles)
    wrong, _ = _fit(failed)
    assert wrong.success_probability < result.success_probability - 0.1


def test_likelihood_of_correct_runs_cut_at_the_cap_matches_scipy_quadrature():
    data, rambles, rollouts = _rambling_rollouts(3, 0.5)
    keep = data.query < 6
    rollouts = Rollouts.from_arrays(
        data.query[keep], data.cap[keep], rollouts.tokens[keep], rollouts.cut[keep], data.correct[keep]
    )
    assert (rollouts.correct & rollouts.cut).sum() >= 3
    beta, p, mu, sigma = 1 / 140, 0.85, math.log(380), 0.55
    theta = np.array([math.log(beta), math.log(p / (1 - p)), mu, math.log(sigma)])
    expected = 0.0
    for i in range(6):
        rows = rollouts.query == i

        def integrand(tau):
            value = stats.lognorm.pdf(tau, sigma, scale=math.exp(mu))
            for cap, tokens, cut, correct in zip(rollouts.cap[rows], rollouts.tokens[rows], rollouts.cut[rows], rollouts.correct[rows]):
                if correct and cut:
                    value *= p * stats.gamma.cdf(cap - tau, 2, scale=1 / beta)
                elif correct:
                    value *= p * stats.gamma.pdf(tokens - tau, 2, scale=1 / beta)
                else:
                    value *= 1 - p * stats.gamma.cdf(cap - tau, 2, scale=1 / beta)
            return value

        correct_rows = rows & rollouts.correct
        top = np.where(rollouts.cut, rollouts.cap, rollouts.tokens)[correct_rows].min() if correct_rows.any() else 1e5
        breaks = [b for b in (50, 200, 400, 800, 1600) if b < top]
        expected += math.log(integrate.quad(integrand, 1e-6, top, points=breaks, limit=400)[0])
    assert ThresholdLikelihood(rollouts).log_marginal(theta) == pytest.approx(expected, rel=2e-3)


def test_a_profile_keeps_the_decoding_prior_and_warnings(greedy, tmp_path):
    *_, rollouts = greedy
    result, messages = _fit(rollouts, success="per_query")
    path = tmp_path / "greedy.json"
    result.save(path)
    loaded = FitResult.load(path)
    assert loaded.decoding == "deterministic" and loaded.width_prior is None and loaded.width == 1.0
    assert list(loaded.notes) == messages
    np.testing.assert_array_equal(loaded.query_success_probability, result.query_success_probability)


def test_bad_decoding_and_width_prior_are_refused():
    rollouts = Rollouts.from_arrays([1, 2], [100, 100], [30, 40], [False, False], [True, True])
    with pytest.raises(ValueError, match=r"`decoding` must be one of \('auto', 'sampled', 'deterministic'\), got 'greedy'"):
        fit_rollouts(rollouts, decoding="greedy")
    with pytest.raises(ValueError, match=r"`width_prior` must be \(ratio, log_sd\) or None, got 0.2"):
        fit_rollouts(rollouts, width_prior=0.2)
    with pytest.raises(ValueError, match="`width_prior log_sd` must be a finite number > 0, got -1"):
        fit_rollouts(rollouts, width_prior=(0.2, -1))
