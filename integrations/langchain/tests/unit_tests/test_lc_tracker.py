"""UsageTracker: usage attributed to inputs, caps checked, safe across threads."""

from __future__ import annotations

import threading
import uuid

import pytest
from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
from langchain_clear_fast import CAP_KEY, UncappedCall, UsageTracker, budgeted
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableLambda, RunnableParallel


def two_calls_per_input(model):
    """A chain that calls the model twice per input, once nested in a parallel."""
    ask = RunnableLambda(lambda q: f"solve #{q}")
    return RunnableParallel(a=ask | model, b=RunnableLambda(lambda q: (ask | model).invoke(q + 1)))


def test_usage_is_attributed_to_inputs_by_metadata(model, reasoner):
    tracker = UsageTracker()
    chain = two_calls_per_input(budgeted(model))
    configs = [
        {"configurable": {CAP_KEY: 40 + q}, "metadata": {"clear_fast_input": f"in{q}"}, "callbacks": [tracker]}
        for q in (0, 2, 4)
    ]
    chain.batch([0, 2, 4], configs)
    usage = tracker.usage_by_input()
    assert set(usage) == {"in0", "in2", "in4"}
    for q in (0, 2, 4):
        truth = [reasoner.inner.answer(k, 40 + q) for k in (q, q + 1)]
        assert usage[f"in{q}"].calls == 2
        assert usage[f"in{q}"].output_tokens == sum(t.tokens_used for t in truth)
        assert usage[f"in{q}"].cut_off == any(t.finish_reason == "length" for t in truth)
        assert usage[f"in{q}"].reasoning_tokens == sum(
            t.tokens_used - (min(4, t.tokens_used) if t.finish_reason == "stop" else 0) for t in truth
        )
    assert all(call.cap == call.expected_cap for call in tracker.calls) and tracker.problems == []


def test_without_metadata_the_outermost_run_is_the_input(model):
    tracker = UsageTracker()
    chain = two_calls_per_input(budgeted(model))
    chain.batch([0, 2], {"configurable": {CAP_KEY: 50}, "callbacks": [tracker]})
    usage = tracker.usage_by_input()
    assert len(usage) == 2 and all(u.calls == 2 for u in usage.values())
    assert tracker._parent == {} and tracker._started == {}  # finished runs leave nothing behind


def test_uncapped_and_overrunning_calls_are_flagged(curves, reasoner):
    class IgnoresCaps(SimulatedReasoningChatModel):
        """An endpoint that reports the cap but runs to the end anyway."""

        def _cap(self, kwargs):
            return self.context_limit

    tracker = UsageTracker()
    plain = SimulatedReasoningChatModel(reasoner=reasoner)
    plain.invoke("solve #3", {"callbacks": [tracker]})
    budgeted(IgnoresCaps(reasoner=reasoner)).invoke("solve #5", {"configurable": {CAP_KEY: 100}, "callbacks": [tracker]})
    uncapped, overrun = tracker.calls
    assert uncapped.cap is None and "uncapped call" in uncapped.flags
    natural = reasoner.inner.answer(5, 10**6).tokens_used
    assert natural > 100 and overrun.output_tokens == natural
    assert overrun.flags == (f"overran its cap: {natural} > 100 tokens",)
    assert tracker.problems == [uncapped, overrun]


def test_strict_mode_stops_uncapped_calls_before_the_request(reasoner):
    tracker = UsageTracker(strict=True)
    with pytest.raises(UncappedCall, match="without a length cap"):
        SimulatedReasoningChatModel(reasoner=reasoner).invoke("solve #1", {"callbacks": [tracker]})
    assert reasoner.calls == []
    budgeted(SimulatedReasoningChatModel(reasoner=reasoner)).invoke(
        "solve #1", {"configurable": {CAP_KEY: 30}, "callbacks": [tracker]}
    )
    assert reasoner.calls == [(1, 30)]


def test_a_bound_cap_above_the_grant_is_lowered_to_it(reasoner):
    """A cap bound on the wrapped model may lower the grant, never raise it."""
    tracker = UsageTracker(strict=True)
    chain = budgeted(SimulatedReasoningChatModel(reasoner=reasoner)).bind(max_tokens=500)
    chain.invoke("solve #1", {"configurable": {CAP_KEY: 30}, "callbacks": [tracker]})
    chain.invoke("solve #2", {"configurable": {CAP_KEY: 900}, "callbacks": [tracker]})
    assert reasoner.calls == [(1, 30), (2, 500)]
    assert [call.flags for call in tracker.calls] == [(), ()]


def test_a_cap_above_the_grant_is_caught(reasoner):
    """A model that was not wrapped runs under its own cap; the tracker refuses one above the grant."""
    tracker = UsageTracker(strict=True)
    model = SimulatedReasoningChatModel(reasoner=reasoner, max_tokens=500)
    with pytest.raises(UncappedCall, match="cap 500 is above the 30 tokens granted"):
        model.invoke("solve #1", {"metadata": {"clear_fast_cap": 30}, "callbacks": [tracker]})
    assert reasoner.calls == []


def test_streamed_usage_is_counted(model, reasoner):
    tracker = UsageTracker()
    list(budgeted(model).stream("solve #2", {"configurable": {CAP_KEY: 90}, "callbacks": [tracker]}))
    (call,) = tracker.calls
    assert call.output_tokens == reasoner.inner.answer(2, 90).tokens_used and call.cap == 90


def test_threads_do_not_lose_records():
    tracker = UsageTracker()
    per_thread, threads = 300, 8

    def work(t: int) -> None:
        for k in range(per_thread):
            run = uuid.uuid4()
            tracker.on_chat_model_start({}, [[]], run_id=run, metadata={"clear_fast_input": t, "ls_max_tokens": 10})
            message = AIMessage("", usage_metadata={"input_tokens": 1, "output_tokens": 3, "total_tokens": 4})
            tracker.on_llm_end(LLMResult(generations=[[ChatGeneration(message=message)]]), run_id=run)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    usage = tracker.usage_by_input()
    assert len(tracker.calls) == per_thread * threads
    assert all(usage[t].calls == per_thread and usage[t].output_tokens == 3 * per_thread for t in range(threads))
