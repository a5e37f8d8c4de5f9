"""Risk-aware allocation: expected utility over a lognormal threshold, solved as a knapsack."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

import clear_fast as cf
from clear_fast.uncertainty import allocate_uncertain, candidate_grants, expected_utility


def _curves(form="cumulative", **kwargs):
    return cf.SurgeCurves([200.0, 450.0, 900.0], 0.9 / 150**2, 1 / 150, form=form, **kwargs)


@pytest.mark.parametrize("form", ["cumulative", "surge"])
def test_expected_utility_matches_scipy_quadrature(form):
    curves = _curves(form, weight=[1.0, 2.0, 0.5], max_tokens=[5000, 700, 5000])
    spread = np.array([0.3, 0.6, 0.9])
    grants = np.array([[150.0, 400.0, 800.0], [300.0, 600.0, 1200.0], [500.0, 1000.0, 3000.0]])
    ours = expected_utility(curves, spread, grants, nodes=40)
    for i in range(3):
        for j in range(3):
            grant = min(grants[i, j], curves.max_tokens[i])

            def integrand(z):
                tau = curves.tau[i] * math.exp(spread[i] * z)
                x = max(grant - tau, 0.0)
                a, b, w = curves.alpha[i], curves.beta[i], curves.weight[i]
                u = a * x * math.exp(-b * x) if form == "surge" else a / b**2 * (1 - (1 + b * x) * math.exp(-b * x))
                return w * u * stats.norm.pdf(z)

            kink = math.log(grant / curves.tau[i]) / spread[i]  # where tau crosses the grant
            expected = integrate.quad(integrand, -12, 12, points=[kink], limit=200)[0]
            assert ours[i, j] == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_zero_spread_is_the_plain_utility():
    curves = _curves(min_tokens=[0, 500, 0])
    tokens = np.array([350.0, 400.0, 2000.0])
    np.testing.assert_allclose(expected_utility(curves, 0.0, tokens), cf.utility(curves, tokens), rtol=1e-12)


def test_allocation_is_the_best_choice_among_the_candidates():
    curves = _curves()
    spread = np.array([0.2, 0.5, 0.8])
    budget = 1400
    result = allocate_uncertain(curves, spread, budget, levels=6)
    grants = candidate_grants(curves, spread, levels=6)
    values = expected_utility(curves, spread, grants)
    best = 0.0
    options = [[(0, 0.0)] + list(zip(grants[i], values[i])) for i in range(3)]
    for choice in itertools.product(*options):  # brute force over every combination
        if sum(c for c, _ in choice) <= budget:
            best = max(best, sum(v for _, v in choice))
    assert result.spent <= budget
    assert result.total_expected_utility <= best + 1e-12
    assert best <= result.upper_bound + 1e-12
    assert result.total_expected_utility >= best - values.max(axis=1).max()  # at most one increment lost
    np.testing.assert_allclose(result.expected_utility, expected_utility(curves, spread, result.tokens))


def test_spread_aware_grants_beat_the_point_estimate_when_estimates_are_noisy():
    rng = np.random.default_rng(7)
    n, beta, p = 400, 1 / 150, 0.9
    tau = np.exp(rng.normal(math.log(450), 0.6, n))
    truth = cf.SurgeCurves(tau, p * beta**2, beta, form="cumulative")
    sigma = 0.8
    guess = cf.SurgeCurves(tau * np.exp(sigma * rng.standard_normal(n)), p * beta**2, beta, form="cumulative")
    budget = 300 * n
    point = cf.allocate(guess, budget)
    aware = allocate_uncertain(guess, sigma, budget)
    assert aware.spent <= budget
    assert cf.utility(truth, aware.tokens).sum() > 1.03 * cf.utility(truth, point.tokens).sum()


def test_caps_and_minimums_are_respected_and_inputs_untouched():
    curves = _curves(min_tokens=[250, 0, 0], max_tokens=[5000, 600, 3000])
    spread = np.array([0.4, 0.4, 0.4])
    result = allocate_uncertain(curves, spread, 2000)
    funded = result.funded
    assert np.all(result.tokens[funded] >= curves.min_tokens[funded])
    assert np.all(result.tokens <= curves.max_tokens)
    np.testing.assert_array_equal(spread, [0.4, 0.4, 0.4])
    assert np.array_equal(result.abandoned, ~funded)
    assert result.budget == 2000 and result.tokens.dtype == np.int64


def test_an_empty_batch_and_a_zero_budget():
    empty = cf.SurgeCurves(np.zeros(0), 1e-4, 0.01, form="cumulative")
    assert allocate_uncertain(empty, np.zeros(0), 100).tokens.shape == (0,)
    assert allocate_uncertain(_curves(), 0.3, 0).spent == 0


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: allocate_uncertain("curves", 0.1, 10), TypeError, "`curves` must be a SurgeCurves, got str"),
        (lambda: allocate_uncertain(_curves(), -0.1, 10), ValueError, "`spread` must be >= 0, got -0.1 at index 0"),
        (lambda: allocate_uncertain(_curves(), [0.1, 0.2], 10), ValueError, "`spread` has length 2, expected 3"),
        (lambda: allocate_uncertain(_curves(), 0.1, -5), ValueError, "`budget` must be a finite number >= 0, got -5"),
        (lambda: allocate_uncertain(_curves(), 0.1, 10.5), ValueError, "`budget` must be a whole number"),
        (lambda: allocate_uncertain(_curves(), 0.1, 10, levels=1), ValueError, "`levels` must be an integer >= 2, got 1"),
        (lambda: expected_utility(_curves(), 0.1, np.ones((2, 2))), ValueError, "`tokens` must have shape \\(3,\\)"),
        (lambda: expected_utility(_curves(), 0.1, [1.0, -1.0, 2.0]), ValueError, "`tokens` must be finite and >= 0"),
        (lambda: expected_utility(_curves(), 0.1, [1.0, 1.0, 2.0], nodes=0), ValueError, "`nodes` must be an integer >= 1"),
    ],
)
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
