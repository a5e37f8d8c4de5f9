"""budgeted(): the per-call cap reaches the model wherever the chain hides it."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
from langchain_clear_fast import CAP_KEY, EFFORT_KEY, BudgetExhausted, TokenBudget, budgeted
from langchain_core.messages import AIMessage
from langchain_core.runnables import ConfigurableField, RunnableLambda, RunnableParallel
from langchain_openai import ChatOpenAI
from pydantic import BaseModel


def capped(n: int) -> dict[str, Any]:
    return {"configurable": {CAP_KEY: n}}


def test_cap_reaches_a_model_in_a_sequence(model, reasoner):
    chain = RunnableLambda(lambda q: f"solve #{q}") | budgeted(model)
    chain.invoke(2, capped(37))
    assert reasoner.calls == [(2, 37)]


def test_cap_reaches_models_in_parallels_and_lambdas(model, reasoner):
    wrapped = budgeted(model)
    inner = RunnableLambda(lambda q: wrapped.invoke(f"solve #{q + 1}"))  # called by hand inside a lambda
    chain = RunnableParallel(direct=RunnableLambda(lambda q: f"solve #{q}") | wrapped, nested=inner)
    chain.invoke(0, capped(41))
    assert sorted(reasoner.calls) == [(0, 41), (1, 41)]


def test_per_input_caps_in_a_batch(model, reasoner):
    chain = RunnableLambda(lambda q: f"solve #{q}") | budgeted(model)
    chain.batch([0, 1, 2], [capped(10), capped(20), capped(30)])
    assert sorted(reasoner.calls) == [(0, 10), (1, 20), (2, 30)]


def test_without_a_cap_the_model_runs_as_built(model, reasoner):
    budgeted(model).invoke("solve #1")
    assert reasoner.calls == [(1, model.context_limit)]


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100", True])
def test_bad_caps_are_refused_before_the_model_runs(model, reasoner, bad):
    with pytest.raises(ValueError, match=CAP_KEY):
        budgeted(model).invoke("solve #1", capped(bad))
    assert reasoner.calls == []


def test_budgeted_refuses_bindings_and_unknown_fields(model):
    with pytest.raises(TypeError, match="bare chat model"):
        budgeted(model.bind(stop=["x"]))
    with pytest.raises(ValueError, match="max_new_tokens"):
        budgeted(model, cap_field="max_new_tokens")
    with pytest.raises(TypeError, match="BaseChatModel"):
        budgeted(RunnableLambda(lambda x: x))


def test_effort_needs_a_reasoning_knob(model):
    with pytest.raises(ValueError, match="no reasoning knob"):
        budgeted(model).invoke("solve #1", {"configurable": {CAP_KEY: 9, EFFORT_KEY: "low"}})


# --- provider fields, checked on the copy of the model that is really called ----------


class FieldsModel(SimulatedReasoningChatModel):
    """A chat model with Anthropic's and Google's field names, recording the fields of each call."""

    thinking: dict | None = None
    max_output_tokens: int | None = None
    thinking_budget: int | None = None
    seen: Any = None  # Any: pydantic would copy a list

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(
            {"max_tokens": self.max_tokens, "thinking": self.thinking, "max_output_tokens": self.max_output_tokens,
             "thinking_budget": self.thinking_budget}
        )
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_anthropic_fields_leave_room_for_the_answer(reasoner):
    seen: list = []
    wrapped = budgeted(FieldsModel(reasoner=reasoner, seen=seen), provider="anthropic", answer_reserve=300)
    wrapped.invoke("solve #0", capped(2000))
    wrapped.invoke("solve #0", capped(1200))  # 900 would be below Anthropic's 1024 minimum: thinking off
    assert seen[0]["max_tokens"] == 2000 and seen[0]["thinking"] == {"type": "enabled", "budget_tokens": 1700}
    assert seen[1]["max_tokens"] == 1200 and seen[1]["thinking"] == {"type": "disabled"}


def test_google_fields(reasoner):
    seen: list = []
    wrapped = budgeted(FieldsModel(reasoner=reasoner, seen=seen), provider="google", answer_reserve=100)
    wrapped.invoke("solve #0", capped(700))
    assert seen[0]["max_output_tokens"] == 700 and seen[0]["thinking_budget"] == 600
    assert seen[0]["max_tokens"] is None


def test_generic_model_by_field_name(reasoner):
    seen: list = []
    wrapped = budgeted(FieldsModel(reasoner=reasoner, seen=seen), cap_field="max_output_tokens")
    wrapped.invoke("solve #0", capped(55))
    assert seen[0]["max_output_tokens"] == 55


# --- ChatOpenAI through its real client, on a mock transport: what goes on the wire ------


def completion(body: dict) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": '{"answer": 4}'}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": name, "arguments": '{"answer": 4}'}}]}
    return {"id": "r", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


@pytest.fixture
def wire() -> list[dict]:
    return []


@pytest.fixture
def chat_openai(wire) -> ChatOpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        wire.append(body)
        return httpx2.Response(200, json=completion(body))

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    return ChatOpenAI(model="gpt-test", api_key="sk-test", base_url="http://mock/v1", http_client=client)


class Sum(BaseModel):
    answer: int


def test_chat_openai_cap_and_effort_on_the_wire(chat_openai, wire):
    budgeted(chat_openai).invoke("2+2?", {"configurable": {CAP_KEY: 77, EFFORT_KEY: "low"}})
    assert wire[0]["max_completion_tokens"] == 77 and wire[0]["reasoning_effort"] == "low"
    assert "max_tokens" not in wire[0]


def test_max_tokens_for_servers_that_ignore_max_completion_tokens(chat_openai, wire):
    budgeted(chat_openai, openai_cap_param="max_tokens").invoke("2+2?", capped(12))
    assert wire[0]["max_tokens"] == 12


def test_vllm_provider_on_chat_openai_sends_max_tokens(chat_openai, wire):
    budgeted(chat_openai, provider="vllm").invoke("2+2?", capped(13))
    assert wire[0]["max_tokens"] == 13


def test_bind_tools_keeps_the_cap(chat_openai, wire):
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    budgeted(chat_openai).bind_tools([add]).invoke("2+2?", capped(61))
    assert wire[0]["max_completion_tokens"] == 61
    assert wire[0]["tools"][0]["function"]["name"] == "add"


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_with_structured_output_keeps_the_cap(chat_openai, wire, method):
    structured = budgeted(chat_openai).with_structured_output(Sum, method=method)
    assert structured.invoke("2+2?", capped(62)) == Sum(answer=4)
    assert wire[0]["max_completion_tokens"] == 62


def test_structured_output_with_raw_keeps_the_cap(chat_openai, wire):
    out = budgeted(chat_openai).with_structured_output(Sum, include_raw=True).invoke("2+2?", capped(63))
    assert out["parsed"] == Sum(answer=4) and isinstance(out["raw"], AIMessage)
    assert wire[0]["max_completion_tokens"] == 63


def test_the_trap_is_real_with_plain_configurable_fields(chat_openai, wire):
    """The reason budgeted() exists: configurable_fields + bind_tools sends no cap."""

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    plain = chat_openai.configurable_fields(max_tokens=ConfigurableField(id="cap"))
    plain.bind_tools([add]).invoke("2+2?", {"configurable": {"cap": 64}})
    assert "max_completion_tokens" not in wire[0]


# --- a budget spanning several calls of one input (an agent) ---------------------------


def test_each_call_is_capped_at_what_remains(model, reasoner):
    wrapped = budgeted(model)
    budget = TokenBudget(150)
    first = wrapped.invoke("solve #2", budget.config())  # natural length ~ 50 + a gamma draw
    used = first.usage_metadata["output_tokens"]
    wrapped.invoke("solve #0", budget.config())
    assert reasoner.calls[0] == (2, 150)
    assert reasoner.calls[1] == (0, 150 - used)
    assert budget.spent == used + reasoner.inner.answer(0, 150 - used).tokens_used
    assert budget.calls == 2


def test_exhausted_budget_stops_before_the_request(model, reasoner):
    wrapped = budgeted(model)
    budget = TokenBudget(30, min_call_tokens=10)
    wrapped.invoke("solve #7", budget.config())  # hopeless query: runs to the cap of 30
    assert budget.spent == 30 and budget.remaining == 0
    with pytest.raises(BudgetExhausted, match="30 of 30 tokens spent"):
        wrapped.invoke("solve #0", budget.config())
    assert len(reasoner.calls) == 1


def test_budget_in_a_streamed_call(model, reasoner):
    budget = TokenBudget(200)
    chunks = list(budgeted(model).stream("solve #1", budget.config()))
    assert reasoner.calls == [(1, 200)]
    assert budget.spent == sum((c.usage_metadata or {}).get("output_tokens", 0) for c in chunks) > 0


async def test_budget_in_async_calls(model, reasoner):
    budget = TokenBudget(120)
    wrapped = budgeted(model)
    reply = await wrapped.ainvoke("solve #0", budget.config())
    assert budget.spent == reply.usage_metadata["output_tokens"]
    chunks = [c async for c in wrapped.astream("solve #1", budget.config())]
    assert reasoner.calls[1] == (1, 120 - reply.usage_metadata["output_tokens"])
    assert budget.spent == reply.usage_metadata["output_tokens"] + sum(
        (c.usage_metadata or {}).get("output_tokens", 0) for c in chunks
    )


def test_an_agent_loop_stops_cleanly_when_its_budget_runs_out(model, reasoner):
    """Each step is capped at what is left; the step that would get too little is never sent."""
    wrapped = budgeted(model)
    budget = TokenBudget(260, min_call_tokens=40)
    caps_seen, used, stopped = [], [], None
    for step in range(20):
        left = budget.remaining
        try:
            reply = wrapped.invoke(f"step {step} of task #{step % 8}", budget.config())
        except BudgetExhausted as stop:
            stopped = (step, left, str(stop))
            break
        caps_seen.append(left)
        used.append(reply.usage_metadata["output_tokens"])
    assert stopped is not None and stopped[1] < 40 and "token budget exhausted" in stopped[2]
    assert [cap for _, cap in reasoner.calls] == caps_seen
    assert all(caps_seen[k + 1] == caps_seen[k] - used[k] for k in range(len(used) - 1))
    assert budget.spent == sum(used) <= 260 and budget.calls == len(used)


def test_a_failed_call_gives_its_reservation_back(reasoner):
    class Broken(SimulatedReasoningChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            raise ConnectionError("endpoint down")

    budget = TokenBudget(100)
    with pytest.raises(ConnectionError):
        budgeted(Broken(reasoner=reasoner)).invoke("solve #1", budget.config())
    assert budget.remaining == 100 and budget.spent == 0 and budget.calls == 1


def test_a_bind_tools_that_returns_no_binding_is_refused(reasoner):
    """The wrapper binds the provider-formatted tools on itself: it needs them as a binding's kwargs."""

    class WrapsItself(SimulatedReasoningChatModel):
        def bind_tools(self, tools, **kwargs):
            return RunnableLambda(lambda x: x) | self

    with pytest.raises(TypeError, match="bind_tools returned RunnableSequence"):
        budgeted(WrapsItself(reasoner=reasoner)).bind_tools([])


def test_bind_tools_copying_the_model_still_caps(reasoner):
    class CopiesItself(SimulatedReasoningChatModel):
        def bind_tools(self, tools, **kwargs):
            return self.model_copy().bind(tools=tools)

    bound = budgeted(CopiesItself(reasoner=reasoner)).bind_tools([])
    bound.invoke("solve #3", capped(44))
    assert reasoner.calls == [(3, 44)]


def test_responses_api_gets_max_output_tokens_and_effort():
    """With the Responses API, ChatOpenAI sends the same cap as max_output_tokens."""
    wire = []
    reply = {
        "id": "resp_1", "object": "response", "created_at": 0, "model": "gpt-test", "status": "completed",
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "output": [{"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "4", "annotations": []}]}],
        "usage": {"input_tokens": 3, "output_tokens": 7, "total_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 5}},
    }

    def handler(request: httpx2.Request) -> httpx2.Response:
        wire.append((request.url.path, json.loads(request.content)))
        return httpx2.Response(200, json=reply)

    model = ChatOpenAI(model="gpt-test", api_key="sk-test", base_url="http://mock/v1", use_responses_api=True,
                       http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    budget = TokenBudget(321)
    out = budgeted(model).invoke("2+2?", budget.config(configurable={EFFORT_KEY: "low"}))
    (path, body), = wire
    assert path == "/v1/responses" and body["max_output_tokens"] == 321 and body["reasoning"] == {"effort": "low"}
    assert budget.spent == 7 and out.usage_metadata["output_token_details"]["reasoning"] == 5


# --- branches that run at once share one pool ------------------------------------------


def test_split_budgets_share_what_is_left():
    budget = TokenBudget(1000)
    a, b = budget.split(2)
    first = a.reserve()
    second = b.reserve()
    assert (first.cap, second.cap) == (500, 500)
    first.settle(100)
    again = a.reserve()  # b still holds its reservation: a may take all that is free
    assert again.cap == 400
    again.settle(0)
    second.settle(500)
    b.close()
    assert a.remaining == 400 and budget.spent == 600 and a.spent == 100 and b.spent == 500


def test_a_finished_branch_leaves_its_share_to_the_others():
    budget = TokenBudget(900)
    a, b, c = budget.split(3)
    assert a.reserve().cap == 300
    c.close()  # ended without a call
    assert b.reserve().cap == 600  # everything not held by a


def test_nested_splits_weigh_each_level():
    budget = TokenBudget(1200)
    outer, other = budget.split(2)
    inner_a, inner_b = outer.split(2)
    assert inner_a.reserve().cap == 300  # a quarter: half of the outer half
    assert other.reserve().cap == 600  # the other half
    assert inner_b.reserve().cap == 300
    for child in (inner_a, inner_b):
        child.close()
    assert outer.remaining == 0  # all 1200 tokens are held by calls in flight


def test_a_call_never_reserves_past_its_limit():
    budget = TokenBudget(1000)
    grant = budget.reserve(limit=250)
    assert grant.cap == 250 and budget.remaining == 750
