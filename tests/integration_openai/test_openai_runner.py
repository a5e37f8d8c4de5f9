"""run_openai_batch / run_openai_levels through the real openai client and a local endpoint."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from clear_fast import SurgeCurves, allocate, allocate_levels, run_openai_batch, run_openai_levels
from clear_fast.runtime import Ledger

NEEDS = [30, 60, 90, 500, 1200, 45]


def prompts(needs=NEEDS):
    return [f"task {i}: need {n}" for i, n in enumerate(needs)]


def curves(needs=NEEDS):
    return SurgeCurves.from_peak(np.asarray(needs, float), 1.0, 10.0, form="cumulative")


@pytest.fixture
def client(endpoint):
    return openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)


async def test_each_funded_request_carries_its_cap(client, endpoint):
    result = await run_openai_batch(client, prompts(), curves(), 400, model="m")
    expected = allocate(curves(), 400).tokens
    assert (expected == 0).any()
    sent = {body["messages"][0]["content"]: body for body in endpoint.bodies}
    for i, cap in enumerate(expected):
        outcome = result.outcomes[i]
        assert outcome.index == i and outcome.cap == cap
        if cap == 0:
            assert prompts()[i] not in sent and outcome.abandoned
        else:
            body = sent[prompts()[i]]
            assert body["max_completion_tokens"] == cap and "max_tokens" not in body and body["model"] == "m"
            assert outcome.output_tokens == min(cap, NEEDS[i]) and outcome.input_tokens == 7
            assert outcome.reasoning_tokens == max(outcome.output_tokens - 2, 0)
            assert outcome.cut_off == (cap < NEEDS[i])
    assert result.spent == sum(min(c, n) for c, n in zip(expected, NEEDS)) <= 400
    assert result.granted == expected.sum() and np.array_equal(result.abandoned, expected == 0)


async def test_max_tokens_for_compatible_servers(client, endpoint):
    await run_openai_batch(client, prompts(), curves(), 400, model="m", cap_param="max_tokens")
    assert endpoint.bodies and all("max_tokens" in b and "max_completion_tokens" not in b for b in endpoint.bodies)


async def test_a_cap_in_the_request_is_replaced_by_the_grant(client, endpoint):
    requests = [{"messages": [{"role": "user", "content": p}], "max_completion_tokens": 5000, "temperature": 0}
                for p in prompts()]
    await run_openai_batch(client, requests, curves(), 400, model="m", cap_param="max_tokens")
    expected = {p: int(c) for p, c in zip(prompts(), allocate(curves(), 400).tokens) if c}
    assert {b["messages"][0]["content"]: b["max_tokens"] for b in endpoint.bodies} == expected
    assert all("max_completion_tokens" not in b and b["temperature"] == 0 for b in endpoint.bodies)


async def test_usage_is_settled_on_a_shared_ledger(client, endpoint):
    ledger = Ledger(1000)
    ledger.reserve("elsewhere", 700)
    result = await run_openai_batch(client, prompts(), curves(), None, model="m", ledger=ledger)
    assert result.budget == 300 and result.granted <= 300
    books = ledger.snapshot()
    assert books.spent == result.spent and books.reserved == 700 and books.balanced


async def test_overruns_are_reported_and_charged(client, endpoint):
    endpoint.ignore_caps = True
    ledger = Ledger(120)
    too_low = SurgeCurves.from_peak(np.full(6, 5.0), 1.0, 5.0, form="cumulative")  # caps below every real length
    result = await run_openai_batch(client, prompts(), too_low, None, model="m", ledger=ledger)
    over = [o for o in result.outcomes if o.overran]
    assert over and result.overruns == [o.index for o in over]
    assert all(o.output_tokens == NEEDS[o.index] > o.cap for o in over)
    assert ledger.snapshot().overrun == sum(o.output_tokens - o.cap for o in over)


async def test_a_failed_request_keeps_the_others(client, endpoint):
    texts = prompts()
    texts[1] = "FAIL " + texts[1]
    ledger = Ledger(400)
    result = await run_openai_batch(client, texts, curves(), None, model="m", ledger=ledger)
    assert "BadRequestError" in result.outcomes[1].error and result.outcomes[1].output_tokens == 0
    assert result.outcomes[0].error is None and result.outcomes[0].output_tokens == 30
    books = ledger.snapshot()
    assert books.reserved == 0 and books.released == result.outcomes[1].cap and books.balanced


async def test_concurrency_limit(client, endpoint):
    endpoint.delay = 0.1
    flat = SurgeCurves.from_peak(np.full(6, 10.0), 1.0, 5.0, form="cumulative")
    await run_openai_batch(client, [f"q need {k}" for k in range(6)], flat, 600, model="m", max_concurrency=2)
    assert len(endpoint.bodies) == 6 and endpoint.most_in_flight == 2


async def test_effort_levels_on_the_wire(client, endpoint):
    costs = np.array([[20, 60, 200], [20, 60, 200], [30, 90, 300]], float)
    utilities = np.array([[0.2, 0.6, 0.7], [0.1, 0.2, 0.9], [0.0, 0.1, 0.2]])
    texts = ["a need 15", "b need 150", "c need 80"]
    result = await run_openai_levels(client, texts, costs, utilities, 300, model="m", levels=("low", "medium", "high"))
    chosen = allocate_levels(costs, utilities, 300)
    names = ("low", "medium", "high")
    sent = {b["messages"][0]["content"]: b for b in endpoint.bodies}
    for i, level in enumerate(chosen.level):
        if level < 0:
            assert texts[i] not in sent and result.outcomes[i].abandoned
        else:
            assert sent[texts[i]]["reasoning_effort"] == names[level] == result.outcomes[i].effort
            assert sent[texts[i]]["max_completion_tokens"] == costs[i, level]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: run_openai_batch(c, ["x need 1"], curves([1]), 10, model="m", cap_param="max_output"), ValueError, "cap_param"),
        (lambda c: run_openai_batch(c, ["x need 1"], curves([1, 2]), 10, model="m"), ValueError, "2 queries for 1"),
        (lambda c: run_openai_batch(c, ["x need 1"], curves([1]), -3, model="m"), ValueError, "budget"),
        (lambda c: run_openai_batch(c, [42], curves([1]), 10, model="m"), TypeError, r"requests\[0\]"),
        (lambda c: run_openai_batch(c, ["x"], curves([1]), 10, model="m", max_concurrency=0), ValueError, "max_concurrency"),
        (lambda c: run_openai_levels(c, ["x"], [[1, 2]], [[0.1, 0.2]], 10, model="m"), ValueError, "one column per level"),
    ],
)
async def test_bad_arguments(client, endpoint, call, error, message):
    with pytest.raises(error, match=message):
        await call(client)
    assert endpoint.bodies == []
