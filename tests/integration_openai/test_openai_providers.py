"""Provider knobs: the fields each provider's API takes, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from clear_fast.calls import (
    ANTHROPIC_MIN_THINKING,
    grants_to_requests,
    level_names,
    request_fields,
    split_thinking,
)


@pytest.mark.parametrize(
    ("provider", "cap", "kwargs", "expected"),
    [
        ("openai", 500, {}, {"max_completion_tokens": 500}),
        ("openai", 500, {"effort": "low"}, {"max_completion_tokens": 500, "reasoning_effort": "low"}),
        ("openai", 500, {"openai_cap_param": "max_tokens"}, {"max_tokens": 500}),
        ("vllm", 77, {}, {"max_tokens": 77}),
        ("anthropic", 4000, {}, {"max_tokens": 4000, "thinking": {"type": "enabled", "budget_tokens": 3744}}),
        ("anthropic", 1200, {}, {"max_tokens": 1200}),  # 944 < 1024: no thinking at all
        ("anthropic", 1280, {}, {"max_tokens": 1280, "thinking": {"type": "enabled", "budget_tokens": 1024}}),
        ("google", 1000, {"answer_reserve": 100},
         {"generationConfig": {"maxOutputTokens": 1000, "thinkingConfig": {"thinkingBudget": 900}}}),
        ("google", 50, {}, {"generationConfig": {"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 0}}}),
    ],
)
def test_request_fields(provider, cap, kwargs, expected):
    assert request_fields(provider, cap, **kwargs) == expected


def test_thinking_split_always_leaves_the_reserve():
    for cap in range(1, 3000, 37):
        split = split_thinking(cap, answer_reserve=200, min_thinking=ANTHROPIC_MIN_THINKING)
        assert split.thinking + split.answer == cap
        assert split.thinking == 0 or (split.thinking >= ANTHROPIC_MIN_THINKING and split.answer == 200)


def test_grants_to_requests_skips_abandoned():
    tokens = np.array([0, 120, 0, 7])
    before = tokens.copy()
    out = grants_to_requests("openai", tokens, efforts=[None, "low", None, None])
    assert out == [None, {"max_completion_tokens": 120, "reasoning_effort": "low"}, None, {"max_completion_tokens": 7}]
    assert (tokens == before).all()
    assert grants_to_requests("vllm", np.array([], dtype=np.int64)) == []


def test_level_names():
    assert level_names(np.array([-1, 0, 2]), ["low", "medium", "high"]) == [None, "low", "high"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: request_fields("cohere", 10), ValueError, "`provider` must be one of"),
        (lambda: request_fields("openai", 0), ValueError, "abandoned queries send no request"),
        (lambda: request_fields("openai", 2.5), TypeError, "`cap` must be a whole number"),
        (lambda: request_fields("openai", True), TypeError, "`cap`"),
        (lambda: request_fields("openai", 10, openai_cap_param="max_output_tokens"), ValueError, "openai_cap_param"),
        (lambda: request_fields("anthropic", 10, effort="low"), ValueError, "OpenAI knob"),
        (lambda: request_fields("openai", 10, effort=3), TypeError, "`effort`"),
        (lambda: split_thinking(10, answer_reserve=-1), ValueError, "answer_reserve"),
        (lambda: grants_to_requests("openai", [1, -2]), ValueError, "`tokens` must be >= 0, got -2"),
        (lambda: grants_to_requests("openai", [1.5]), ValueError, "whole numbers"),
        (lambda: grants_to_requests("openai", [[1]]), ValueError, "1-D"),
        (lambda: grants_to_requests("openai", [1, 2], efforts=["low"]), ValueError, "`efforts` has length 1"),
        (lambda: level_names([3], ["low"]), ValueError, r"in \[-1, 0\], got 3"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
