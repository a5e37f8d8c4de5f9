"""The simulated reasoning chat model: caps honoured, usage reported, accuracy as the curve says."""

from __future__ import annotations

import numpy as np
import pytest
from clear_fast import SurgeCurves, utility
from clear_fast.workloads import query_from_tag
from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
from clear_fast.workloads.simulated_model import SimulatedReasoner


@pytest.fixture
def curves():
    return SurgeCurves.from_peak(np.linspace(20, 200, 40), 0.8, 30.0, form="cumulative")


def test_cap_and_usage(curves):
    model = SimulatedReasoningChatModel.from_curves(curves, seed=1)
    reference = SimulatedReasoner(curves, seed=1)
    for q in range(40):
        for cap in (25, 120, 400):
            reply = model.invoke(f"question #{q}", max_tokens=cap)
            truth = reference.answer(q, cap)
            usage = reply.usage_metadata
            assert usage["output_tokens"] == truth.tokens_used <= cap
            assert reply.response_metadata["finish_reason"] == truth.finish_reason
            assert reply.response_metadata["correct"] == truth.correct
            assert (reply.content == "") == (truth.finish_reason == "length")


def test_field_cap_and_streaming_agree(curves):
    model = SimulatedReasoningChatModel.from_curves(curves, max_tokens=90)
    whole = model.invoke("question #7")
    chunks = list(model.stream("question #7"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == whole.content
    assert merged.usage_metadata == whole.usage_metadata
    assert model._get_ls_params()["ls_max_tokens"] == 90


def test_accuracy_follows_the_curve():
    """Over many identical queries, the share solved at a cap is the curve's utility there."""
    n = 4000
    curves = SurgeCurves.from_peak(np.full(n, 50.0), 0.9, 25.0, form="cumulative")
    model = SimulatedReasoningChatModel.from_curves(curves, seed=5)
    for cap in (60, 100, 200):
        solved = np.mean([model._respond([_human(f"#{q}")], {"max_tokens": cap}).response_metadata["correct"]
                          for q in range(n)])
        expected = utility(curves.subset([0]), [cap])[0]
        assert abs(solved - expected) < 4 * np.sqrt(expected * (1 - expected) / n) + 1e-9


def _human(text):
    from langchain_core.messages import HumanMessage

    return HumanMessage(text)


def test_bad_input(curves):
    model = SimulatedReasoningChatModel.from_curves(curves)
    with pytest.raises(ValueError, match="names no query"):
        model.invoke("no tag here")
    with pytest.raises(ValueError, match="`max_tokens` must be a whole number >= 1, got 0"):
        model.invoke("#1", max_tokens=0)
    assert query_from_tag("solve #12 then #3") == 12
