"""LangChain attribute names for a cap: the same grant and thinking split as the core's request fields."""

from __future__ import annotations

import re

import pytest
from clear_fast.calls import ANTHROPIC_MIN_THINKING, request_fields, split_thinking
from langchain_clear_fast.provider_fields import langchain_fields


def test_langchain_fields():
    assert langchain_fields("openai", 9, effort="high") == {"max_tokens": 9, "reasoning_effort": "high"}
    assert langchain_fields("anthropic", 900) == {"max_tokens": 900, "thinking": {"type": "disabled"}}
    assert langchain_fields("google", 300, answer_reserve=50) == {"max_output_tokens": 300, "thinking_budget": 250}


@pytest.mark.parametrize("cap", [1, 255, 256, 257, 1279, 1280, 1281, 4000, 100_000])
def test_each_provider_gets_the_cores_split(cap):
    anthropic = split_thinking(cap, min_thinking=ANTHROPIC_MIN_THINKING)
    thinking = {"type": "enabled", "budget_tokens": anthropic.thinking} if anthropic.thinking else {"type": "disabled"}
    assert langchain_fields("anthropic", cap) == {"max_tokens": cap, "thinking": thinking}
    assert langchain_fields("google", cap) == {"max_output_tokens": cap, "thinking_budget": split_thinking(cap).thinking}
    assert langchain_fields("openai", cap) == langchain_fields("vllm", cap) == {"max_tokens": cap}


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("cohere", 10), {}),
        (("openai", 0), {}),
        (("openai", 2.5), {}),
        (("openai", True), {}),
        (("anthropic", 10), {"effort": "low"}),
        (("vllm", 10), {"effort": "low"}),
        (("openai", 10), {"effort": 3}),
        (("google", 10), {"answer_reserve": -1}),
    ],
)
def test_bad_input_is_refused_as_the_core_refuses_it(args, kwargs):
    with pytest.raises((TypeError, ValueError)) as core:
        request_fields(*args, **kwargs)
    with pytest.raises(core.type, match=re.escape(str(core.value))):
        langchain_fields(*args, **kwargs)
