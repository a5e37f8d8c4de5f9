"""SelfEstimatePredictor against a real small chat model served on 127.0.0.1 (ChatOpenAI client)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from langchain_openai import ChatOpenAI

from clear_fast.estimators import ConstantPrior, SelfEstimatePredictor, parse_token_estimate

pytestmark = pytest.mark.live_model

QUESTIONS = [
    "What is 17 + 25?",
    "A train travels 60 miles per hour for 2.5 hours. How far does it go?",
    "Prove that there are infinitely many primes.",
    "How many positive divisors does 360 have?",
]


def test_a_real_models_replies_become_estimates_or_logged_fallbacks(smollm2_base_url, caplog):
    # the server ignores max_completion_tokens (what ChatOpenAI sends); max_tokens in the body is honoured
    model = ChatOpenAI(
        base_url=smollm2_base_url, api_key="unused", model="smollm2", temperature=0.0,
        extra_body={"max_tokens": 24}, max_retries=0, timeout=120,
    )
    prior = ConstantPrior(tau=333.0, spread=0.9)
    predictor = SelfEstimatePredictor(model, prior=prior)
    with caplog.at_level(logging.WARNING, logger="clear_fast.estimators"):
        tau, spread = predictor.predict(QUESTIONS)
    raw = predictor.raw_estimates(QUESTIONS)  # cached: the model is not asked again
    assert tau.shape == spread.shape == (len(QUESTIONS),)
    assert np.all(np.isfinite(tau)) and np.all(tau >= 1) and np.all(spread > 0)
    fallbacks = [i for i, r in enumerate(raw) if r is None]
    np.testing.assert_allclose(tau[fallbacks], 333.0)
    usable = [i for i, r in enumerate(raw) if r is not None]
    np.testing.assert_allclose(tau[usable], [raw[i] for i in usable])
    assert all(1 <= raw[i] <= 100_000 for i in usable)
    warned = [r for r in caplog.records if "using the prior" in r.getMessage()]
    assert len(warned) == len(fallbacks)
    # each reply, asked again directly, parses to what the predictor kept
    reply = model.invoke(predictor.prompt.format(question=QUESTIONS[0])).content
    assert parse_token_estimate(reply) == raw[0]
