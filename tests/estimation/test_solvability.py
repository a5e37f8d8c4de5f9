"""SolvabilityPredictor: the chance a query can be solved at all, learnt from outcomes, used as its ceiling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

import clear_fast as cf
from clear_fast.estimators import SolvabilityPredictor
from clear_fast.estimators.features import hashed_ngrams

from estimation_data import make_rollouts, make_texts

CHANCE_BY_TOPIC = {"arithmetic": 0.95, "algebra": 0.8, "geometry": 0.5, "combinatorics": 0.15, "number theory": 0.05}


def _chances(texts):
    return np.array([next(p for topic, p in CHANCE_BY_TOPIC.items() if f"A {topic} problem" in t) for t in texts])


def test_the_regression_is_the_penalised_logistic_fit_scipy_finds():
    texts, _ = make_texts(120, seed=4)
    labels = (np.random.default_rng(4).random(120) < _chances(texts)).astype(float)
    predictor = SolvabilityPredictor(prior=0.3, strength=3.0, n_features=16, ridge=0.5)
    predictor.update(zip(texts[:70], labels[:70].astype(bool)))
    predictor.update(zip(texts[70:], labels[70:]))  # in two batches: the same as one
    design = np.hstack([np.ones((120, 1)), hashed_ngrams(texts, n_features=16)])

    def objective(w):
        z = design @ w
        loss = np.sum(np.logaddexp(0, z) - labels * z) + 0.25 * np.sum(w[1:] ** 2)
        # three pseudo-observations of label 0.3 that see only the intercept
        return loss + 3.0 * (np.logaddexp(0, w[0]) - 0.3 * w[0])

    best = optimize.minimize(objective, np.zeros(design.shape[1]), method="BFGS", options={"gtol": 1e-10})
    expected = 1 / (1 + np.exp(-(design @ best.x)))
    np.testing.assert_allclose(predictor.predict(texts), np.clip(expected, 1e-4, 1 - 1e-4), atol=1e-6)
    assert predictor.n_observations == 120


def test_learns_which_queries_the_model_can_solve_from_outcomes():
    texts, _ = make_texts(1000, seed=0)
    truth = _chances(texts)
    solved = np.random.default_rng(1).random(1000) < truth
    predictor = SolvabilityPredictor(prior=0.5)
    assert np.all(predictor.predict(texts[:3]) == 0.5)  # before any history: the prior
    predictor.update(zip(texts[:800], solved[:800]))
    predicted = predictor.predict(texts[800:])
    error = np.abs(predicted - truth[800:]).mean()
    assert error < 0.11
    assert error < 0.4 * np.abs(solved[:800].mean() - truth[800:]).mean()  # a constant rate is far worse
    # soft labels (a fit's posterior chances) teach as well as outcomes
    soft = SolvabilityPredictor(prior=0.5)
    soft.update(zip(texts[:800], truth[:800]))
    assert np.abs(soft.predict(texts[800:]) - truth[800:]).mean() < error


def test_a_ceiling_per_query_steers_the_budget_away_from_hopeless_queries():
    texts, tau = make_texts(1400, seed=2)
    truth = _chances(texts)
    solved = np.random.default_rng(3).random(1400) < truth
    predictor = SolvabilityPredictor(prior=0.5)
    predictor.update(zip(texts[:1000], solved[:1000]))
    new_texts, new_tau, new_truth = texts[1000:], tau[1000:], truth[1000:]
    width = 60.0
    beta = 1 / width
    true_curves = cf.SurgeCurves(new_tau, new_truth * beta**2, beta, form="cumulative")
    profile = _profile(beta, solved[:1000].mean())
    budget = 400 * len(new_texts)
    shared = cf.allocate(profile.curves_for(new_tau), budget)
    ceilings = cf.allocate(profile.curves_for(new_tau, predictor.predict(new_texts)), budget)
    oracle = cf.allocate(true_curves, budget)
    got = {name: cf.utility(true_curves, a.tokens).mean() for name, a in (("shared", shared), ("ceilings", ceilings), ("oracle", oracle))}
    assert got["ceilings"] > got["shared"] + 0.03
    assert got["oracle"] - got["ceilings"] < 0.2 * (got["oracle"] - got["shared"])
    hopeless = new_truth <= 0.15
    assert ceilings.tokens[hopeless].sum() < 0.5 * shared.tokens[hopeless].sum()


def _profile(beta, p):
    data = make_rollouts(n=20, runs=3, seed=0)
    fitted = cf.fit_rollouts(cf.Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct), max_evaluations=50)
    # the model's parameters as given (what matters here is the ceiling per query, not this fit)
    import dataclasses

    return dataclasses.replace(fitted, beta=beta, success_probability=p)


def test_a_fit_gives_thresholds_of_solved_queries_only_and_chances_of_all(standard_fit):
    data, result = standard_fit
    texts = {q: f"query number {q}" for q in result.query_ids}
    thresholds = result.threshold_observations(texts)
    assert len(thresholds) == result.solved.sum() < len(result.query_ids)
    assert [t for t, _ in thresholds] == [texts[q] for q, s in zip(result.query_ids, result.solved) if s]
    np.testing.assert_array_equal([tau for _, tau in thresholds], result.tau[result.solved])
    chances = result.solvability_observations([texts[q] for q in result.query_ids])
    assert len(chances) == len(result.query_ids)
    assert all(p == result.success_probability for _, p in chances)  # shared: one chance for all
    predictor = cf.HistoryPredictor()
    predictor.update(thresholds)
    assert predictor.n_observations == result.solved.sum()
    with pytest.raises(KeyError, match="no text for the fitted query id 0"):
        result.threshold_observations({})
    with pytest.raises(ValueError, match="one text per fitted query"):
        result.solvability_observations(["a", "b"])


def test_curves_for_new_queries_carry_their_ceilings(standard_fit):
    _, result = standard_fit
    curves = result.curves_for([300.0, 500.0], [0.9, 0.2])
    np.testing.assert_allclose(curves.alpha, np.array([0.9, 0.2]) * result.beta**2)
    assert curves.form == result.form and np.all(curves.beta == result.beta)
    assert cf.utility(curves, np.array([1e7, 1e7])) == pytest.approx([0.9, 0.2])
    np.testing.assert_allclose(result.curves_for([300.0]).alpha, result.alpha)
    with pytest.raises(ValueError, match=r"`success_probability` must be in \(0, 1\], got \[0.0\]"):
        result.curves_for([300.0, 500.0], [0.5, 0.0])


@pytest.mark.parametrize(
    "observations, error, message",
    [
        ("abc", TypeError, "must be an iterable of \\(text, label\\) pairs"),
        ([("a", 1.5)], ValueError, "item 0: the label must be a bool or a probability in \\[0, 1\\], got 1.5"),
        ([("a", math.nan)], ValueError, "the label must be a bool or a probability"),
        ([(3, True)], TypeError, "item 0: the text must be a string, got int"),
        ([("a",)], TypeError, "item 0 must be a \\(text, label\\) pair or a mapping"),
    ],
)
def test_bad_observations_are_refused(observations, error, message):
    predictor = SolvabilityPredictor()
    with pytest.raises(error, match=message):
        predictor.update(observations)
    assert predictor.n_observations == 0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match=r"`prior` must be a probability in \(0, 1\), got 1.0"):
        SolvabilityPredictor(prior=1.0)
    with pytest.raises(ValueError, match="`strength` must be a finite number > 0"):
        SolvabilityPredictor(strength=0)
    predictor = SolvabilityPredictor()
    predictor.update([{"text": "a", "solved": True}])
    with pytest.raises(TypeError, match="got a single string"):
        predictor.predict("a")
