"""fit_rollouts recovers known parameters from censored synthetic rollouts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import clear_fast as cf
from clear_fast.fit import FitResult, Rollouts, fit_rollouts, load_profile
from clear_fast.fit._thresholds import ThresholdLikelihood

from estimation_data import make_rollouts


def test_recovers_shared_parameters_within_stated_tolerances(standard_fit):
    data, result = standard_fit
    # tolerances: 15% on beta, 0.05 on p, and within 3 standard errors for both
    assert abs(result.beta / data.beta - 1) < 0.15
    assert abs(result.beta - data.beta) < 3 * result.beta_se
    assert abs(result.success_probability - data.p) < 0.05
    assert abs(result.success_probability - data.p) < 3 * result.success_probability_se
    assert result.alpha == pytest.approx(result.success_probability * result.beta**2)
    # the population of thresholds: median 400, log-sd 0.5
    assert abs(result.tau_log_mean - math.log(400)) < 0.1
    assert abs(result.tau_log_std - 0.5) < 0.1


def test_recovers_each_threshold_with_honest_intervals(standard_fit):
    data, result = standard_fit
    error = np.log(result.tau) - np.log(data.tau)
    assert abs(error.mean()) < 0.06  # unbiased on log tokens
    assert np.median(np.abs(error)) < 0.15
    inside = (result.tau_low <= data.tau) & (data.tau <= result.tau_high)
    assert 0.88 <= inside.mean() <= 1.0  # nominal 95%
    assert np.all(result.tau_low <= result.tau) and np.all(result.tau <= result.tau_high)
    assert np.all(result.log_tau_spread > 0)


def test_never_solved_queries_get_wide_but_honest_estimates(standard_fit):
    data, result = standard_fit
    unsolved = ~result.solved
    assert unsolved.sum() >= 5  # the caps in make_rollouts leave some queries unsolved
    # such a query says only that its answers did not fit its caps: its posterior is the population's
    # upper tail, wider than a solved query's, and still centred on the truth
    assert np.median(result.log_tau_spread[unsolved]) > 1.5 * np.median(result.log_tau_spread[result.solved])
    assert np.median(result.tau[unsolved]) > 1.3 * np.median(result.tau[result.solved])
    error = np.log(result.tau[unsolved]) - np.log(data.tau[unsolved])
    assert abs(error.mean()) < 0.2
    inside = (result.tau_low <= data.tau) & (data.tau <= result.tau_high)
    assert inside[unsolved].mean() >= 0.8


def _naive_shift_fit(groups):
    """Shifted Gamma(2) maximum likelihood treating every length in ``groups`` as exact (scipy)."""

    def profile(beta):
        total, taus = 0.0, []
        for lengths in groups:
            gradient = lambda t: np.sum(-1.0 / (lengths - t)) + beta * len(lengths)  # noqa: E731
            top = lengths.min() - 1e-9
            tau = optimize.brentq(gradient, top - 1e6, top)
            taus.append(tau)
            total += np.sum(stats.gamma.logpdf(lengths - tau, 2, scale=1 / beta))
        return -total, np.array(taus)

    best = optimize.minimize_scalar(lambda lb: profile(math.exp(lb))[0], bounds=(-10, 0), method="bounded")
    return profile(math.exp(best.x))[1]


def test_ignoring_censoring_biases_thresholds_and_the_fit_does_not(standard_fit):
    data, result = standard_fit
    # the mistake: read a run cut at its cap as an answer that took `cap` tokens
    observed = data.correct | data.cut
    groups = [i for i in range(len(data.tau)) if observed[data.query == i].any()]
    naive = _naive_shift_fit([data.tokens[(data.query == i) & observed] for i in groups])
    naive_error = np.log(np.maximum(naive, 1.0)) - np.log(data.tau[groups])
    fit_error = np.log(result.tau[groups]) - np.log(data.tau[groups])
    assert naive_error.mean() < -0.3  # thresholds look far lower than they are
    assert abs(fit_error.mean()) < 0.06
    # the other mistake: keep only correct answers' lengths, ignoring that long ones were cut
    solved = [i for i in range(len(data.tau)) if data.correct[data.query == i].any()]
    truncated = _naive_shift_fit([data.tokens[(data.query == i) & data.correct] for i in solved])
    truncated_error = np.log(np.maximum(truncated, 1.0)) - np.log(data.tau[solved])
    assert abs(truncated_error.mean()) > 2 * abs(fit_error.mean()) + 0.05


def test_marginal_likelihood_matches_scipy_quadrature():
    data = make_rollouts(n=6, runs=5, seed=3)
    rollouts = Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct)
    model = ThresholdLikelihood(rollouts)
    beta, p, mu, sigma = 1 / 140, 0.85, math.log(380), 0.55
    theta = np.array([math.log(beta), math.log(p / (1 - p)), mu, math.log(sigma)])
    expected = 0.0
    for i in range(6):
        rows = data.query == i

        def integrand(tau):
            value = stats.lognorm.pdf(tau, sigma, scale=math.exp(mu))
            for cap, tokens, correct in zip(data.cap[rows], data.tokens[rows], data.correct[rows]):
                if correct:
                    value *= p * stats.gamma.pdf(tokens - tau, 2, scale=1 / beta)
                else:
                    value *= 1 - p * stats.gamma.cdf(cap - tau, 2, scale=1 / beta)
            return value

        top = data.tokens[rows & data.correct].min() if (rows & data.correct).any() else 1e5
        breaks = [b for b in (50, 200, 400, 800, 1600) if b < top]
        expected += math.log(integrate.quad(integrand, 1e-6, top, points=breaks, limit=400)[0])
    assert model.log_marginal(theta) == pytest.approx(expected, rel=2e-3)


def _fit_with_shape(shape, width):
    data = make_rollouts(n=60, runs=30, seed=2, shape=shape, width=width, caps=(512, 768, 1024, 2048))
    return fit_rollouts(Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct))


def test_goodness_of_fit_separates_the_right_model_from_wrong_ones(standard_fit):
    # with 30 runs per query the length ranks have power: Gamma(2) lengths pass,
    # a skewed Gamma(0.5) or a narrow Gamma(8) (same mean) fail
    right = _fit_with_shape(2.0, 150.0)
    assert right.ks_statistic < 0.04 and right.ks_pvalue > 0.05
    for shape, width in ((0.5, 600.0), (8.0, 37.5)):
        wrong = _fit_with_shape(shape, width)
        assert wrong.ks_statistic > 3 * right.ks_statistic
        assert wrong.ks_pvalue < 1e-3
    _, standard = standard_fit
    assert standard.ks_statistic < 0.08
    for row in standard.calibration:  # outcomes by cap: observed against predicted accuracy
        assert row.runs > 0
        assert abs(row.observed - row.predicted) < 0.05


def test_per_query_success_chances_are_recovered_where_a_shared_one_fails():
    rng = np.random.default_rng(21)
    n = 150
    chance = np.where(rng.random(n) < 0.6, 0.9, 0.15)  # questions the model mostly knows, and ones it rarely does
    data = make_rollouts(n=n, runs=10, p=chance, seed=21, caps=(384, 768, 1536))
    rollouts = Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct)
    shared = fit_rollouts(rollouts)
    per_query = fit_rollouts(rollouts, success="per_query")
    assert per_query.success_model == "per_query" and shared.success_model == "shared"
    assert np.all(shared.query_success_probability == shared.success_probability)
    assert abs(per_query.success_probability - chance.mean()) < 0.07
    assert per_query.success_concentration < 10  # a wide (here bimodal) population, not a shared value
    p_error = np.abs(per_query.query_success_probability - chance).mean()
    assert p_error < 0.6 * np.abs(shared.query_success_probability - chance).mean()
    tau_error = lambda fit: np.abs(np.log(fit.tau) - np.log(data.tau)).mean()  # noqa: E731
    assert tau_error(per_query) < tau_error(shared)
    assert abs(per_query.beta / data.beta - 1) < 0.15
    # the curves carry each query's own alpha = p_i beta**2
    np.testing.assert_allclose(per_query.curves().alpha, per_query.query_success_probability * per_query.beta**2)


def test_curves_and_profile_round_trip(standard_fit, tmp_path):
    _, result = standard_fit
    curves = result.curves()
    assert curves.form == "cumulative" and len(curves) == len(result.query_ids)
    np.testing.assert_allclose(curves.tau, result.tau)
    # the cumulative curve's asymptote is p: a huge grant succeeds with probability p
    assert cf.utility(curves.subset([0]), np.array([1e7]))[0] == pytest.approx(result.success_probability)
    some = result.curves([5, 2], form="surge")
    np.testing.assert_allclose(some.tau, result.tau[[5, 2]])
    path = tmp_path / "model.json"
    result.save(path)
    assert json.loads(path.read_text())["format"] == "clear_fast.model_profile"
    loaded = load_profile(path)
    assert isinstance(loaded, FitResult)
    assert loaded.beta == result.beta and loaded.alpha == result.alpha
    assert loaded.query_ids == result.query_ids
    np.testing.assert_array_equal(loaded.tau_high, result.tau_high)
    np.testing.assert_array_equal(loaded.solved, result.solved)
    assert loaded.calibration == result.calibration
    allocation = cf.allocate(loaded.curves(), 300 * len(result.query_ids))
    assert allocation.spent <= 300 * len(result.query_ids)


def test_records_with_finish_reasons_and_string_ids():
    data = make_rollouts(n=40, runs=6, seed=4)
    records = [
        {"query_id": f"q{q}", "cap": c, "tokens_used": t, "finish_reason": "length" if cut else "stop", "correct": ok}
        for q, c, t, cut, ok in zip(data.query, data.cap, data.tokens, data.cut, data.correct)
    ]
    from_records = fit_rollouts(records, max_evaluations=200)
    from_arrays = fit_rollouts(
        Rollouts.from_arrays([f"q{q}" for q in data.query], data.cap, data.tokens, data.cut, data.correct),
        max_evaluations=200,
    )
    assert from_records.query_ids[:3] == ("q0", "q1", "q2")
    np.testing.assert_allclose(from_records.tau, from_arrays.tau)
    with pytest.raises(KeyError, match="'nope'"):
        from_records.curves(["q1", "nope"])


def test_uncapped_runs_and_a_profile_that_stays_strict_json(tmp_path):
    data = make_rollouts(n=30, runs=4, seed=6, caps=(float("inf"),))
    result = fit_rollouts(Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct))
    assert not data.cut.any()
    (row,) = result.calibration
    assert row.cap_low == math.inf and abs(row.observed - row.predicted) < 0.05
    path = tmp_path / "uncapped.json"
    result.save(path)
    assert "Infinity" not in path.read_text()
    assert load_profile(path).calibration == result.calibration


def test_input_arrays_are_not_modified():
    data = make_rollouts(n=20, runs=4, seed=8)
    before = [a.copy() for a in (data.cap, data.tokens, data.cut, data.correct)]
    rollouts = Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct)
    fit_rollouts(rollouts, max_evaluations=60)
    for old, new in zip(before, (data.cap, data.tokens, data.cut, data.correct)):
        np.testing.assert_array_equal(old, new)
    assert not rollouts.cap.flags.writeable


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"query_id": [], "cap": [], "tokens_used": [], "cut": [], "correct": []}, ValueError, "`query_id` is empty"),
        ({"query_id": [1], "cap": [0], "tokens_used": [0], "cut": [False], "correct": [False]}, ValueError, "`cap` must be > 0, got 0.0 at index 0"),
        ({"query_id": [1, 2], "cap": [100, 100], "tokens_used": [50, -1], "cut": [False, False], "correct": [True, False]}, ValueError, "`tokens_used` must be >= 0, got -1.0 at index 1"),
        ({"query_id": [1], "cap": [100], "tokens_used": [150], "cut": [False], "correct": [True]}, ValueError, "got 150 > 100 at index 0"),
        ({"query_id": [1, 2], "cap": [100, 100], "tokens_used": [5, 0], "cut": [False, False], "correct": [True, True]}, ValueError, "a correct run must have used at least 1 token, got 0 at index 1"),
        ({"query_id": [1], "cap": [100], "tokens_used": [float("nan")], "cut": [False], "correct": [True]}, ValueError, "`tokens_used` must be finite"),
        ({"query_id": [1, 2], "cap": [100], "tokens_used": [1, 2], "cut": [False, False], "correct": [True, True]}, ValueError, "`cap` has length 1, expected 2"),
        ({"query_id": [1], "cap": [100], "tokens_used": [10], "cut": ["no"], "correct": [True]}, TypeError, "`cut` must hold booleans"),
        ({"query_id": "abc", "cap": [100], "tokens_used": [10], "cut": [False], "correct": [True]}, TypeError, "`query_id` must be a sequence"),
    ],
)
def test_bad_rollouts_are_refused_with_a_named_argument(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        Rollouts.from_arrays(**kwargs)


def test_bad_fit_calls_are_refused():
    with pytest.raises(ValueError, match="no run in `rollouts` is correct"):
        fit_rollouts(Rollouts.from_arrays([1, 2], [100, 100], [100, 30], [True, False], [False, False]))
    with pytest.raises(ValueError, match="`success` must be one of \\('shared', 'per_query'\\), got 'each'"):
        fit_rollouts(Rollouts.from_arrays([1], [100], [30], [False], [True]), success="each")
    with pytest.raises(ValueError, match="`max_evaluations` must be a positive integer, got 0"):
        fit_rollouts(Rollouts.from_arrays([1], [100], [30], [False], [True]), max_evaluations=0)
    with pytest.raises(ValueError, match=r"record 0 needs one of the keys \['cap', 'max_tokens'\]"):
        fit_rollouts([{"query_id": 1, "tokens_used": 3, "cut": False, "correct": True}])
    with pytest.raises(ValueError, match="not a clear_fast model profile"):
        FitResult.from_dict({"alpha": 1})
