"""fit_recall: thresholds from a table of solved share against cap."""

from __future__ import annotations

import json
import math
from importlib import resources

import numpy as np
import pytest
from scipy import stats

from clear_fast.fit import ThresholdDistribution, fit_recall


def _paper_table(name):
    data = json.loads(resources.files("clear_fast").joinpath("data/paper_curves.json").read_text("utf-8"))
    row = data["recall_vs_tokens"][name]
    return np.array(row["tokens"], float), np.array(row["recall_pct"], float)


@pytest.mark.parametrize("name", ["GSM8K", "MATH500", "AIME_AMC"])
def test_interpolation_passes_through_every_point_of_the_paper_tables(name):
    tokens, recall = _paper_table(name)
    fitted = fit_recall(tokens, recall)
    np.testing.assert_allclose(100 * fitted.recall(tokens), np.maximum.accumulate(recall), atol=1e-9)
    assert fitted.ceiling == pytest.approx(recall.max() / 100)
    # the CDF is monotone and the quantile inverts it
    grid = np.geomspace(50, 10_000, 400)
    assert np.all(np.diff(fitted.cdf(grid)) >= 0)
    q = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(fitted.cdf(fitted.quantile(q)), q, atol=1e-9)


def test_lognormal_fit_recovers_a_known_lognormal():
    caps = np.array([128, 256, 512, 1024, 2048, 4096])
    truth = stats.lognorm(0.6, scale=600.0)
    recall = 0.9 * truth.cdf(caps)
    fitted = fit_recall(caps, recall, method="lognormal", ceiling=0.9)
    assert fitted.log_mean == pytest.approx(math.log(600.0), abs=1e-6)
    assert fitted.log_std == pytest.approx(0.6, abs=1e-6)
    np.testing.assert_allclose(fitted.recall(caps), recall, atol=1e-9)
    np.testing.assert_allclose(fitted.quantile([0.1, 0.5, 0.9]), truth.ppf([0.1, 0.5, 0.9]), rtol=1e-6)


def test_samples_follow_the_fitted_distribution():
    tokens, recall = _paper_table("MATH500")
    for method in ("interpolate", "lognormal"):
        fitted = fit_recall(tokens, recall, method=method)
        draws = fitted.sample(4000, seed=1)
        result = stats.kstest(draws, lambda t: fitted.cdf(t))
        assert result.pvalue > 0.01
        np.testing.assert_array_equal(draws, fitted.sample(4000, seed=1))  # seeded


def test_interpolated_moments_match_a_brute_force_integral():
    tokens, recall = _paper_table("GSM8K")
    fitted = fit_recall(tokens, recall)
    draws = np.log(fitted.sample(200_000, seed=5))
    assert fitted.log_mean == pytest.approx(draws.mean(), abs=0.01)
    assert fitted.log_std == pytest.approx(draws.std(), abs=0.01)


def test_fractions_and_percentages_agree_and_dips_are_smoothed():
    a = fit_recall([100, 200, 400, 800], [10, 40, 38, 90])
    b = fit_recall([100, 200, 400, 800], [0.1, 0.4, 0.38, 0.9])
    np.testing.assert_allclose(a.knots_cdf, b.knots_cdf)
    assert isinstance(a, ThresholdDistribution)
    assert np.all(np.diff(a.knots_cdf) > 0)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([100, 50], [0.1, 0.5]), {}, "`tokens` must be strictly increasing"),
        (([100], [0.1]), {}, "`tokens` needs at least 2 caps"),
        (([0, 50], [0.1, 0.5]), {}, "`tokens` must be > 0, got 0.0 at index 0"),
        (([100, 200], [0.1, -0.5]), {}, "`recall` must be >= 0, got -0.5 at index 1"),
        (([100, 200], [10, 500]), {}, "percentages in \\[0, 100\\], got max 500"),
        (([100, 200], [0, 0]), {}, "`ceiling` must be in \\(0, 1\\]"),
        (([100, 200], [0.1, 0.5]), {"method": "spline"}, "`method` must be one of"),
        (([100, 200, 400], [0.0, 0.5, 1.0]), {"method": "lognormal"}, "at least 2 recall values strictly between"),
        (([100, 200], [0.1, float("nan")]), {}, "`recall` must be finite"),
    ],
)
def test_bad_tables_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_recall(*args, **kwargs)


def test_bad_queries_of_a_distribution_are_refused():
    fitted = fit_recall([100, 200, 400], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="`q` must be <= 1, got 1.5 at index 1"):
        fitted.quantile([0.5, 1.5])
    with pytest.raises(ValueError, match="`size` must be an integer >= 0"):
        fitted.sample(-1)
