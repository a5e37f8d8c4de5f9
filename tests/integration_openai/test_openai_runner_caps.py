"""run_openai_batch with caps decided elsewhere, and a client carried across event loops."""

from __future__ import annotations

import asyncio

import numpy as np
import openai
import pytest
from clear_fast import SurgeCurves, allocate_uncertain, run_openai_batch
from clear_fast.runtime import Ledger

NEEDS = [30, 60, 90, 500, 1200, 45]
PROMPTS = [f"task {i}: need {n}" for i, n in enumerate(NEEDS)]


@pytest.fixture
def client(endpoint):
    return openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)


def _sent_caps(endpoint, cap_param="max_completion_tokens"):
    return {b["messages"][0]["content"]: b[cap_param] for b in endpoint.bodies}


async def test_uniform_caps_are_sent_as_given(client, endpoint):
    caps = [40] * 6
    result = await run_openai_batch(client, PROMPTS, caps=caps, model="m", cap_param="max_tokens")
    assert _sent_caps(endpoint, "max_tokens") == dict.fromkeys(PROMPTS, 40)
    assert result.budget == 240 == result.granted and np.isnan(result.shadow_price)
    assert result.spent == sum(min(40, n) for n in NEEDS)
    assert [o.cut_off for o in result.outcomes] == [n > 40 for n in NEEDS]


async def test_an_allocation_is_sent_with_its_price_and_zero_caps_are_not_sent(client, endpoint):
    curves = SurgeCurves.from_peak(np.asarray(NEEDS, float), 1.0, 10.0, form="cumulative")
    plan = allocate_uncertain(curves, 0.3, 500)
    assert (plan.tokens == 0).any() and (plan.tokens > 0).any()
    result = await run_openai_batch(client, PROMPTS, budget=500, caps=plan, model="m")
    assert _sent_caps(endpoint) == {p: int(c) for p, c in zip(PROMPTS, plan.tokens) if c}
    assert result.shadow_price == plan.shadow_price and result.budget == 500
    np.testing.assert_array_equal(result.abandoned, plan.tokens == 0)


async def test_caps_on_a_shared_ledger_settle_their_usage(client, endpoint):
    ledger = Ledger(1000)
    result = await run_openai_batch(client, PROMPTS, caps=np.array([50, 0, 100, 0, 0, 50]), model="m", ledger=ledger)
    books = ledger.snapshot()
    assert result.budget == 1000 and books.spent == result.spent == 30 + 90 + 45 and books.balanced


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, TypeError, "give either `curves`"),
        ({"caps": [1] * 6, "curves": SurgeCurves.from_peak(np.ones(6), 1.0, 1.0)}, TypeError, "not both"),
        ({"caps": [10] * 5}, ValueError, r"`caps` must have shape \(6,\), got \(5,\)"),
        ({"caps": [10, 10, 10, 10, 10, 2.5]}, ValueError, "whole numbers >= 0, got 2.5 at index 5"),
        ({"caps": [10, -1, 10, 10, 10, 10]}, ValueError, "got -1 at index 1"),
        ({"caps": [True] * 6}, TypeError, "dtype bool"),
        ({"caps": [100] * 6, "budget": 500}, ValueError, "`caps` sum to 600 tokens, over the budget of 500"),
    ],
)
async def test_bad_caps_are_refused_before_anything_is_sent(client, endpoint, kwargs, error, message):
    with pytest.raises(error, match=message):
        await run_openai_batch(client, PROMPTS, model="m", **kwargs)
    assert endpoint.bodies == []


def test_a_client_from_a_closed_event_loop_is_refused_before_anything_is_sent(endpoint):
    # the endpoint keeps connections alive, as real servers do: pooled connections outlive a batch
    endpoint.server.RequestHandlerClass.protocol_version = "HTTP/1.1"
    # the pooled connections of a closed loop are reset, as intended here: no traceback from the server thread
    # (printing one parses source in that thread, which races the main thread's parser on CPython 3.11)
    endpoint.server.handle_error = lambda request, address: None
    client = openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)

    async def direct():
        return await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x need 3"}])

    # what bites: the same client in a second asyncio.run fails on its pooled connection
    asyncio.run(direct())
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        asyncio.run(direct())
    # the batch runner says so, and what to do, before it reserves or sends anything
    fresh = openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)
    first = asyncio.run(run_openai_batch(fresh, PROMPTS[:2], caps=[40, 40], model="m"))
    assert first.spent == 70
    sent = len(endpoint.bodies)
    with pytest.raises(RuntimeError, match=r"earlier batch in an event loop that is now closed.*async with openai.AsyncOpenAI"):
        asyncio.run(run_openai_batch(fresh, PROMPTS[:2], caps=[40, 40], model="m"))
    assert len(endpoint.bodies) == sent

    # several batches in one event loop share the client without trouble
    async def two_batches():
        again = openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)
        one = await run_openai_batch(again, PROMPTS[:2], caps=[40, 40], model="m")
        two = await run_openai_batch(again, PROMPTS[:2], caps=[20, 20], model="m")
        return one.spent, two.spent

    assert asyncio.run(two_batches()) == (70, 40)
