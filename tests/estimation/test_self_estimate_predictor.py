"""SelfEstimatePredictor: robust parsing, fallbacks with a logged warning, calibration."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda

from clear_fast.estimators import ConstantPrior, SelfEstimatePredictor, parse_token_estimate


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("about 300 tokens", 300.0),
        ("300", 300.0),
        ("1.2k", 1200.0),
        ("1.2K tokens", 1200.0),
        ("2 thousand tokens", 2000.0),
        ("300-500", math.sqrt(300 * 500)),
        ("300 – 500 tokens", math.sqrt(300 * 500)),
        ("between 200 and 800 tokens", 400.0),
        ("1-2k tokens", math.sqrt(1000 * 2000)),
        ("Roughly 1,500 tokens should do.", 1500.0),
        ("Step 1: read. Step 2: solve. About 450 tokens.", 450.0),
        ("2e3", 2000.0),
        ("junk", None),
        ("", None),
        ("-50 tokens", None),
        ("Estimate: −120", None),
        ("0 tokens", None),
        ("999999999 tokens", None),
        ("1e9", None),
    ],
)
def test_parse_token_estimate(answer, expected):
    value = parse_token_estimate(answer)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


def _by_question(mapping):
    """A real Runnable whose reply depends on the question in the prompt."""

    def reply(prompt):
        question = prompt.split("Question: ", 1)[1]
        return AIMessage(content=mapping[question])

    return RunnableLambda(reply)


def test_usable_replies_become_estimates_and_junk_falls_back_with_a_warning(caplog):
    replies = {"q1": "about 300 tokens", "q2": "no idea", "q3": "-40", "q4": "10 billion tokens, 1e12", "q5": "1.5k"}
    prior = ConstantPrior(tau=222.0, spread=0.9)
    predictor = SelfEstimatePredictor(_by_question(replies), prior=prior, spread=0.5)
    with caplog.at_level(logging.WARNING, logger="clear_fast.estimators"):
        tau, spread = predictor.predict(list(replies))
    np.testing.assert_allclose(tau, [300.0, 222.0, 222.0, 222.0, 1500.0])
    np.testing.assert_allclose(spread, [0.5, 0.9, 0.9, 0.9, 0.5])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert "no idea" in warnings[0].getMessage() and "using the prior" in warnings[0].getMessage()


def test_fake_list_chat_model_with_malformed_replies_never_crashes(caplog):
    model = FakeListChatModel(responses=["I cannot say.", "negative: -300", "a lot"])
    predictor = SelfEstimatePredictor(model, prior=ConstantPrior(tau=400.0, spread=1.0))
    with caplog.at_level(logging.WARNING, logger="clear_fast.estimators"):
        tau, spread = predictor.predict(["a", "b", "c"])
    np.testing.assert_allclose(tau, 400.0)
    np.testing.assert_allclose(spread, 1.0)
    assert sum("using the prior" in r.getMessage() for r in caplog.records) == 3


def test_generic_fake_chat_model_and_plain_callables():
    model = GenericFakeChatModel(messages=iter([AIMessage(content="I'd budget 640 tokens for this.")]))
    assert SelfEstimatePredictor(model).predict(["x"])[0][0] == pytest.approx(640.0)
    plain = SelfEstimatePredictor(lambda prompt: "512" if "easy" in prompt else "2048")
    np.testing.assert_allclose(plain.predict(["easy one", "hard one"])[0], [512.0, 2048.0])
    blocks = SelfEstimatePredictor(lambda prompt: AIMessage(content=[{"type": "text", "text": "about 90 tokens"}]))
    assert blocks.predict(["x"])[0][0] == pytest.approx(90.0)


def test_replies_are_cached_so_update_does_not_ask_again():
    calls = []

    def model(prompt):
        calls.append(prompt)
        return "100"

    predictor = SelfEstimatePredictor(model)
    predictor.predict(["a", "b", "a"])
    predictor.update([("a", 200.0), ("b", 200.0)])
    predictor.predict(["b"])
    assert len(calls) == 2


def test_calibration_learns_the_models_bias_and_spread():
    rng = np.random.default_rng(0)
    texts = [f"question {i}" for i in range(400)]
    truth = np.exp(rng.normal(6.0, 0.6, 400))
    # the model guesses half the truth, with a log-error of 0.3
    guesses = truth * 0.5 * np.exp(0.3 * rng.standard_normal(400))
    lookup = dict(zip(texts, guesses))
    predictor = SelfEstimatePredictor(lambda prompt: f"{lookup[prompt.split('Question: ')[1]]:.1f} tokens")
    before = np.mean(np.abs(np.log(predictor.predict(texts[300:])[0]) - np.log(truth[300:])))
    predictor.update(list(zip(texts[:300], truth[:300])))
    assert predictor.bias == pytest.approx(math.log(2.0), abs=0.06)
    assert predictor.spread == pytest.approx(0.3, abs=0.05)
    after = np.mean(np.abs(np.log(predictor.predict(texts[300:])[0]) - np.log(truth[300:])))
    assert after < 0.5 * before


def test_unusable_replies_teach_the_prior_instead():
    prior = ConstantPrior(tau=100.0, spread=1.0, strength=1.0)
    predictor = SelfEstimatePredictor(lambda prompt: "no clue", prior=prior)
    predictor.update([("a", 1000.0)] * 9)
    assert prior.tau == pytest.approx(math.exp((math.log(100) + 9 * math.log(1000)) / 10))
    assert predictor.bias == 0.0


def test_errors_from_the_model_itself_propagate():
    def broken(prompt):
        raise ConnectionError("endpoint down")

    with pytest.raises(ConnectionError, match="endpoint down"):
        SelfEstimatePredictor(broken).predict(["x"])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"model": 42}, TypeError, "`model` must have an invoke"),
        ({"model": str, "prompt": "no field"}, ValueError, "`prompt` must be a string with a \\{question\\} field"),
        ({"model": str, "spread": 0}, ValueError, "`spread` must be a finite number > 0, got 0"),
        ({"model": str, "max_tokens": 0}, ValueError, "`max_tokens` must be a number >= 1, got 0"),
    ],
)
def test_bad_construction_is_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        SelfEstimatePredictor(**kwargs)
