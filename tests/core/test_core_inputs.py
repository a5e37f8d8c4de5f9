"""Validation at the boundary: every bad input gets a named, exact error; user arrays are never touched."""

import math
import re

import numpy as np
import pytest

import clear_fast as cf

BAD_CURVES = [
    (dict(tau=[1.0, np.nan], alpha=1.0, beta=1.0), ValueError, "`tau` must be finite, got nan at index 1"),
    (dict(tau=[1.0, -2.0], alpha=1.0, beta=1.0), ValueError, "`tau` must be >= 0, got -2.0 at index 1"),
    (dict(tau=1.0, alpha=[1.0, 0.0], beta=1.0), ValueError, "`alpha` must be > 0, got 0.0 at index 1"),
    (dict(tau=1.0, alpha=1.0, beta=[-1.0]), ValueError, "`beta` must be > 0, got -1.0 at index 0"),
    (dict(tau=1.0, alpha=np.inf, beta=1.0), ValueError, "`alpha` must be finite, got inf at index 0"),
    (dict(tau=[1.0, 2.0], alpha=[1.0, 2.0, 3.0], beta=1.0), ValueError,
     "array arguments must have one length (one value per query): `tau` has 2, `alpha` has 3"),
    (dict(tau=[1.0, 2.0], alpha=1.0, beta=1.0, min_tokens=[5, 50], max_tokens=[10, 20]), ValueError,
     "`min_tokens` must be <= `max_tokens`, got 50 > 20 at index 1"),
    (dict(tau=1.0, alpha=1.0, beta=1.0, weight=-1.0), ValueError, "`weight` must be >= 0, got -1.0 at index 0"),
    (dict(tau=1.0, alpha=1.0, beta=1.0, max_tokens=0.0), ValueError, "`max_tokens` must be > 0, got 0.0 at index 0"),
    (dict(tau=1.0, alpha=1.0, beta=1.0, max_tokens=np.nan), ValueError, "`max_tokens` must be finite, got nan at index 0"),
    (dict(tau=1.0, alpha=1.0, beta=1.0, form="sigmoid"), ValueError,
     "`form` must be one of ('surge', 'cumulative'), got 'sigmoid'"),
    (dict(tau=[[1.0]], alpha=1.0, beta=1.0), ValueError, "`tau` must be a scalar or a 1-D array, got shape (1, 1)"),
    (dict(tau="ten", alpha=1.0, beta=1.0), TypeError, "`tau` must be a number or an array of numbers, got 'ten'"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_CURVES)
def test_bad_curves_are_refused_with_a_named_message(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cf.SurgeCurves(**kwargs)


BAD_BUDGETS = [
    (-3, ValueError, "`budget` must be a finite number >= 0, got -3"),
    (math.inf, ValueError, "`budget` must be a finite number >= 0, got inf"),
    (math.nan, ValueError, "`budget` must be a finite number >= 0, got nan"),
    (10.5, ValueError, "`budget` must be a whole number of tokens, got 10.5"),
    ("100", TypeError, "`budget` must be a whole number of tokens, got '100'"),
    (True, TypeError, "`budget` must be a whole number of tokens, got True"),
]


@pytest.mark.parametrize("budget, error, message", BAD_BUDGETS)
def test_bad_budgets_are_refused(budget, error, message):
    curves = cf.SurgeCurves([10.0, 20.0], 0.1, 0.05)
    with pytest.raises(error, match=re.escape(message)):
        cf.allocate(curves, budget)
    with pytest.raises(error, match=re.escape(message)):
        cf.allocate_levels([[1.0]], [[1.0]], budget)


def test_allocate_refuses_what_is_not_curves():
    with pytest.raises(TypeError, match=re.escape("`curves` must be a SurgeCurves, got list")):
        cf.allocate([1, 2, 3], 10)


BAD_LEVELS = [
    (np.ones(3), np.ones(3), ValueError, "`costs` must be 2-D, shape (n queries, L levels), got shape (3,)"),
    (np.ones((2, 3)), np.ones((2, 2)), ValueError, "`costs` has shape (2, 3) but `utilities` has shape (2, 2)"),
    ([[1.0, -1.0]], [[1.0, 1.0]], ValueError, "`costs` must be >= 0, got -1.0 at index (0, 1)"),
    ([[1.0, 2.0]], [[1.0, np.nan]], ValueError, "`utilities` must be finite, got nan at index (0, 1)"),
]


@pytest.mark.parametrize("costs, utilities, error, message", BAD_LEVELS)
def test_bad_levels_are_refused(costs, utilities, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cf.allocate_levels(costs, utilities, 10)


def test_utility_and_best_response_check_their_arguments():
    curves = cf.SurgeCurves([10.0, 20.0], 0.1, 0.05)
    with pytest.raises(ValueError, match=re.escape("`tokens` has length 3, expected 2 (one value per query)")):
        cf.utility(curves, [1, 2, 3])
    with pytest.raises(ValueError, match=re.escape("`tokens` must be >= 0, got -1.0 at index 0")):
        cf.utility(curves, [-1, 2])
    with pytest.raises(ValueError, match=re.escape("`price` must be a finite number >= 0, got -0.5")):
        cf.best_response(curves, -0.5)
    cumulative = cf.SurgeCurves([10.0], 0.001, 0.05, form="cumulative")
    with pytest.raises(ValueError, match="wants unboundedly many tokens"):
        cf.best_response(cumulative, 0.0)


def test_user_arrays_are_copied_not_aliased_and_read_only_inputs_work():
    tau = np.array([10.0, 20.0, 30.0])
    alpha = np.array([0.1, 0.2, 0.3])
    alpha.flags.writeable = False
    curves = cf.SurgeCurves(tau, alpha, 0.05)
    tau[0] = 999.0
    assert curves.tau[0] == 10.0
    with pytest.raises(ValueError):
        curves.tau[0] = 1.0  # the stored arrays are read-only
    before = tau.copy()
    cf.allocate(curves, 100)
    np.testing.assert_array_equal(tau, before)


def test_non_contiguous_inputs_give_the_same_answer_as_contiguous_ones():
    rng = np.random.default_rng(3)
    wide = rng.uniform(1, 100, (40, 2))
    strided = cf.SurgeCurves(wide[:, 0], 0.05, 1.0 / wide[:, 1])
    packed = cf.SurgeCurves(wide[:, 0].copy(), 0.05, 1.0 / wide[:, 1].copy())
    np.testing.assert_array_equal(cf.allocate(strided, 1500).tokens, cf.allocate(packed, 1500).tokens)


def test_scalars_broadcast_and_empty_input_returns_an_empty_result():
    curves = cf.SurgeCurves([1.0, 2.0, 3.0], 0.5, 0.1, weight=2.0, max_tokens=50)
    assert len(curves) == 3
    np.testing.assert_array_equal(curves.weight, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(curves.max_tokens, [50.0, 50.0, 50.0])
    empty = cf.allocate(cf.SurgeCurves(np.zeros(0), 1.0, 1.0), 100)
    assert empty.tokens.shape == (0,) and empty.utility == 0.0 and empty.gap == 0.0
    levels = cf.allocate_levels(np.zeros((0, 3)), np.zeros((0, 3)), 100)
    assert levels.level.shape == (0,)


def test_from_peak_places_the_peak_where_asked():
    surge = cf.SurgeCurves.from_peak([100.0, 50.0], [0.8, 0.4], [40.0, 10.0])
    peaks = cf.utility(surge, [140.0, 60.0])
    np.testing.assert_allclose(peaks, [0.8, 0.4], rtol=1e-12)
    assert np.all(cf.utility(surge, [139.0, 59.0]) < peaks) and np.all(cf.utility(surge, [141.0, 61.0]) < peaks)
    cumulative = cf.SurgeCurves.from_peak(100.0, 0.9, 40.0, form="cumulative")
    assert cf.utility(cumulative, [1e6])[0] == pytest.approx(0.9, rel=1e-12)
    assert cumulative.beta[0] == pytest.approx(1 / 40)


def test_public_namespace_is_pinned():
    core = {
        "IMPLEMENTATION", "Allocation", "LevelAllocation", "SurgeCurves", "allocate", "allocate_levels",
        "best_response", "breakeven_price", "utility",
    }
    assert core <= set(cf.__all__)
    for name in cf.__all__:
        assert hasattr(cf, name), name
    assert len(cf.__all__) == len(set(cf.__all__))
