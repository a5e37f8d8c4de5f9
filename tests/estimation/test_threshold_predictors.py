"""ConstantPrior and HistoryPredictor: online learning, consistency, held-out error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from clear_fast.estimators import (
    ConstantPrior,
    HistoryPredictor,
    Observation,
    SelfEstimatePredictor,
    ThresholdPredictor,
    heldout_error,
)
from clear_fast.fit import fit_recall

from estimation_data import TOPICS, make_texts


class TopicEmbeddings(Embeddings):
    """A tiny real Embeddings subclass: one axis per topic word plus a step count axis."""

    def embed_documents(self, texts):
        return [[float(t.count(topic)) for topic in TOPICS] + [0.2 * t.count("then")] for t in texts]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


@pytest.fixture(scope="module")
def corpus():
    texts, tau = make_texts(900, seed=0)
    return texts[:700], tau[:700], texts[700:], tau[700:]


def test_every_predictor_follows_the_protocol():
    for predictor in (ConstantPrior(), HistoryPredictor(), SelfEstimatePredictor(lambda prompt: "300 tokens")):
        assert isinstance(predictor, ThresholdPredictor)
        tau, spread = predictor.predict(["a", "b"])
        assert tau.shape == spread.shape == (2,) and tau.dtype == np.float64


def test_constant_prior_update_matches_a_direct_computation():
    rng = np.random.default_rng(2)
    values = np.exp(rng.normal(6.0, 0.4, 50))
    prior = ConstantPrior(tau=300.0, spread=1.0, strength=3.0)
    for chunk in np.array_split(values, 7):
        prior.update([("q", float(v)) for v in chunk])
    # conjugate normal update on log tau: prior worth 3 observations of mean log 300, variance 1
    logs = np.log(values)
    mean = (3 * math.log(300) + logs.sum()) / 53
    variance = (3 * 1.0 + np.sum((logs - mean) ** 2) + 3 * (math.log(300) - mean) ** 2) / 53
    tau, spread = prior.predict(["x"])
    assert tau[0] == pytest.approx(math.exp(mean))
    assert spread[0] == pytest.approx(math.sqrt(variance))


def test_constant_prior_from_a_recall_table_and_the_shipped_benchmarks():
    fitted = fit_recall([128, 256, 512, 1024], [3, 28, 87, 97])
    prior = ConstantPrior.from_distribution(fitted)
    assert prior.tau == pytest.approx(fitted.median)
    assert prior.spread == pytest.approx(fitted.log_std)
    assert ConstantPrior.from_benchmark("GSM8K").tau == pytest.approx(fitted.median)
    assert ConstantPrior.from_benchmark("AIME_AMC").tau > ConstantPrior.from_benchmark("MATH500").tau > prior.tau
    with pytest.raises(ValueError, match="`name` must be one of"):
        ConstantPrior.from_benchmark("MMLU")


def test_history_error_falls_as_history_grows(corpus):
    train, train_tau, test, test_tau = corpus
    predictor = HistoryPredictor()
    errors = [heldout_error(predictor, test, test_tau)]
    seen = 0
    for size in (20, 100, 700):
        predictor.update(list(zip(train[seen:size], train_tau[seen:size])))
        seen = size
        errors.append(heldout_error(predictor, test, test_tau))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 0.5 * errors[0]
    assert errors[-1] < 0.3  # the generating noise is 0.15
    # and its spread is honest: close to the realised error spread
    tau, spread = predictor.predict(test)
    realised = np.sqrt(np.mean((np.log(tau) - np.log(test_tau)) ** 2))
    assert 0.7 * realised < spread.mean() < 1.4 * realised


def test_history_online_updates_equal_one_batch_fit(corpus):
    train, train_tau, test, _ = corpus
    online, batch = HistoryPredictor(), HistoryPredictor()
    for start in range(0, 200, 50):
        online.update(list(zip(train[start : start + 50], train_tau[start : start + 50])))
    batch.update([Observation(t, float(v)) for t, v in zip(train[:200], train_tau[:200])])
    a, sa = online.predict(test[:20])
    b, sb = batch.predict(test[:20])
    np.testing.assert_allclose(a, b, rtol=1e-8)
    np.testing.assert_allclose(sa, sb, rtol=1e-8)
    assert online.n_observations == 200


def test_history_update_then_predict_moves_towards_what_was_seen(corpus):
    train, train_tau, _, _ = corpus
    predictor = HistoryPredictor()
    predictor.update(list(zip(train[:100], train_tau[:100])))
    text = "A geometry problem: a quite unusual question about spheres. What is the result?"
    before, _ = predictor.predict([text])
    predictor.update([(text, 5000.0)] * 5)
    after, _ = predictor.predict([text])
    assert after[0] > before[0]
    assert abs(math.log(after[0] / 5000.0)) < abs(math.log(before[0] / 5000.0))
    # a censored observation below the current prediction changes nothing in the target
    below = HistoryPredictor()
    below.update(list(zip(train[:100], train_tau[:100])))
    current, _ = below.predict([train[0]])
    below.update([Observation(train[0], float(current[0]) / 10, censored=True)])
    plain = HistoryPredictor()
    plain.update(list(zip(train[:100], train_tau[:100])) + [(train[0], float(current[0]))])
    np.testing.assert_allclose(below.predict(train[:5])[0], plain.predict(train[:5])[0], rtol=1e-8)


def test_neighbours_on_a_real_embeddings_object_cut_the_error(corpus):
    train, train_tau, test, test_tau = corpus
    plain = HistoryPredictor()
    with_neighbours = HistoryPredictor(embeddings=TopicEmbeddings(), neighbours=15)
    for predictor in (plain, with_neighbours):
        predictor.update(list(zip(train[:60], train_tau[:60])))
    assert heldout_error(with_neighbours, test, test_tau) < heldout_error(plain, test, test_tau)


def test_fake_embeddings_recall_exact_repeats(corpus):
    train, train_tau, _, _ = corpus
    predictor = HistoryPredictor(embeddings=DeterministicFakeEmbedding(size=64))
    predictor.update(list(zip(train[:50], train_tau[:50])))
    tau, spread = predictor.predict(train[:10])
    # a repeat of a past query is dominated by its own record
    assert np.median(np.abs(np.log(tau) - np.log(train_tau[:10]))) < 0.12
    unseen_tau, unseen_spread = predictor.predict(["something never asked before"])
    assert unseen_spread[0] > spread.max()


def test_predictors_do_not_modify_inputs_and_cold_start_uses_the_prior():
    prior = ConstantPrior(tau=250.0, spread=0.7)
    predictor = HistoryPredictor(prior=prior)
    tau, spread = predictor.predict(["x", "y"])
    np.testing.assert_allclose(tau, 250.0)
    np.testing.assert_allclose(spread, 0.7)
    observations = [("a", 100.0), ("b", 200.0)]
    predictor.update(observations)
    assert observations == [("a", 100.0), ("b", 200.0)]
    assert predictor.predict([])[0].shape == (0,)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: HistoryPredictor().predict("one string"), TypeError, "got a single string"),
        (lambda: HistoryPredictor().predict([1, 2]), TypeError, "`texts` must hold strings, got int at index 0"),
        (lambda: HistoryPredictor().update([("a", -5.0)]), ValueError, "`tau` must be a finite number of tokens > 0, got -5.0"),
        (lambda: HistoryPredictor().update([("a", float("inf"))]), ValueError, "`tau` must be a finite number"),
        (lambda: HistoryPredictor().update([("a",)]), TypeError, "item 0 must be an Observation"),
        (lambda: HistoryPredictor().update(Observation("a", 3.0)), TypeError, "must be an iterable of observations"),
        (lambda: HistoryPredictor(ridge=0), ValueError, "`ridge` must be a finite number > 0, got 0"),
        (lambda: HistoryPredictor(n_features=0), ValueError, "`n_features` must be an integer >= 1, got 0"),
        (lambda: HistoryPredictor(ngram_range=(3, 2)), ValueError, "`ngram_range` must be"),
        (lambda: HistoryPredictor(embeddings=object()), TypeError, "`embeddings` must have an embed_documents"),
        (lambda: ConstantPrior(tau=0), ValueError, "`tau` must be a finite number > 0, got 0"),
        (lambda: ConstantPrior(spread="wide"), TypeError, "`spread` must be a number"),
        (lambda: heldout_error(ConstantPrior(), ["a"], [0.0]), ValueError, "`tau` must be > 0"),
        (lambda: heldout_error(ConstantPrior(), [], []), ValueError, "`texts` is empty"),
    ],
)
def test_bad_input_is_refused_with_a_named_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_misbehaving_embedding_model_is_refused_and_changes_nothing():
    class Resizable(Embeddings):
        size = 3

        def embed_documents(self, texts):
            return [[float(len(t))] + [1.0] * (self.size - 1) for t in texts]

        def embed_query(self, text):
            return self.embed_documents([text])[0]

    model = Resizable()
    predictor = HistoryPredictor(embeddings=model)
    predictor.update([("a", 100.0)])
    before = predictor.predict(["a", "bb"])
    model.size = 2
    with pytest.raises(ValueError, match="returned vectors of size 2, earlier ones had 3"):
        predictor.update([("b", 900.0)])
    with pytest.raises(ValueError, match="returned vectors of size 2, earlier ones had 3"):
        predictor.predict(["b"])
    assert predictor.n_observations == 1
    model.size = 3
    np.testing.assert_allclose(predictor.predict(["a", "bb"])[0], before[0])


def test_heldout_error_is_the_mean_absolute_log_error():
    prior = ConstantPrior(tau=100.0)
    assert heldout_error(prior, ["a", "b"], [100 * math.e, 100 / math.e**3]) == pytest.approx(2.0)
