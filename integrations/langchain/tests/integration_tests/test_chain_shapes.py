"""The chain shapes a LangChain user writes, each under one budget, with a real ChatOpenAI on a recording endpoint.

Every test checks on the wire: the cap each request carried, that abandoned
inputs sent nothing, and that the ledger charged what the server billed, to the token.
"""

from __future__ import annotations

import numpy as np
import openai
import pytest
from clear_fast import SurgeCurves
from langchain.agents import create_agent
from langchain_clear_fast import Abandoned, BudgetedRunnable, NestedRunnerError, budgeted
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from pydantic import BaseModel
from references import seeded_allocation
from wire import assert_books, caps, chat, prompts


def curve(tau: float) -> SurgeCurves:
    return SurgeCurves.from_peak([float(tau)], 1.0, 20.0, form="cumulative")


# --- 1. two model calls of one input in a RunnableParallel -----------------------------


def parallel_inputs(n: int) -> list[dict]:
    return [{"i": i, "a": 30 + 7 * i, "b": 50 + 5 * i} for i in range(n)]


def test_parallel_branches_share_the_inputs_grant(endpoint):
    model = budgeted(chat(endpoint))
    summary = ChatPromptTemplate.from_template("summary {i}: need {a}") | model | StrOutputParser()
    critique = ChatPromptTemplate.from_template("critique {i}: need {b}") | model | StrOutputParser()
    chain = RunnableParallel(a=summary, b=critique)
    runner = BudgetedRunnable(chain, budget=6_000, curves=lambda x: curve(x["a"] + x["b"]))
    xs = parallel_inputs(40)
    outputs = runner.batch(xs, {"max_concurrency": 8}, return_exceptions=True)

    assert not [o for o in outputs if isinstance(o, BaseException)]
    rows = runner.last_report.inputs
    assert 0 < sum(row.abandoned for row in rows) < 40
    for x, row, out in zip(xs, rows, outputs):
        sent = caps(endpoint, f"summary {x['i']}:") + caps(endpoint, f"critique {x['i']}:")
        if row.abandoned:
            assert sent == [] and isinstance(out, Abandoned)
            continue
        # The first branch to ask gets half; the other what is left (half, or more if the first was done).
        assert len(sent) == 2 and min(sent) == row.cap // 2 and max(sent) >= row.cap - row.cap // 2
        assert row.output_tokens <= row.cap and row.calls == 2
    assert_books(runner.ledger, endpoint)


async def test_parallel_branches_share_the_grant_in_abatch_and_astream(endpoint):
    endpoint.delay = 0.05  # both branches hold their reservation at once
    model = budgeted(chat(endpoint))
    chain = RunnableParallel(
        a=ChatPromptTemplate.from_template("summary {i}: need {a}") | model | StrOutputParser(),
        b=ChatPromptTemplate.from_template("critique {i}: need {b}") | model | StrOutputParser(),
    )
    runner = BudgetedRunnable(chain, budget=2_000, curves=lambda x: curve(x["a"] + x["b"]))
    await runner.abatch(parallel_inputs(6))
    for x, row in zip(parallel_inputs(6), runner.last_report.inputs):
        if not row.abandoned:
            assert sorted(caps(endpoint, f"summary {x['i']}:") + caps(endpoint, f"critique {x['i']}:")) == [
                row.cap // 2, row.cap - row.cap // 2]
    chunks = [chunk async for chunk in runner.astream({"i": 99, "a": 40, "b": 60})]
    assert {key for chunk in chunks for key in chunk} == {"a", "b"}
    quoted = caps(endpoint, "summary 99:") + caps(endpoint, "critique 99:")
    assert len(quoted) == 2 and abs(quoted[0] - quoted[1]) <= 1
    assert_books(runner.ledger, endpoint)


# --- 2. structured output cut at its cap -----------------------------------------------


class Answer(BaseModel):
    answer: str
    steps: list[str]


def test_structured_output_cut_at_its_cap_is_charged(endpoint):
    model = budgeted(chat(endpoint))
    chain = ChatPromptTemplate.from_template("question {i}: need {need}") | model.with_structured_output(Answer)
    # The predicted thresholds are too low for the odd inputs: their answers get cut at the cap.
    runner = BudgetedRunnable(chain, budget=15_000, curves=lambda x: curve(x["need"] * (0.5 if x["i"] % 2 else 1.0)))
    for batch in range(2):
        xs = [{"i": i, "need": 200 + 40 * i + batch} for i in range(20)]
        outputs = runner.batch(xs, return_exceptions=True)
        cut = [o for o in outputs if isinstance(o, openai.LengthFinishReasonError)]
        assert cut and all(isinstance(o, (Answer, Abandoned, openai.LengthFinishReasonError)) for o in outputs)
        for x, row in zip(xs, runner.last_report.inputs):
            bodies = endpoint.bodies_for(f"question {x['i']}: need {x['need']}")
            assert [endpoint.cap_of(b) for b in bodies] == ([] if row.abandoned else [row.cap])
    assert_books(runner.ledger, endpoint)
    assert endpoint.billed_tokens <= 15_000


# --- 6. every batch entry point allocates jointly, or refuses --------------------------


NEEDS = [40, 80, 120, 700, 2500, 60]


def needs_chain(endpoint):
    return ChatPromptTemplate.from_template("task {i}: need {need}") | budgeted(chat(endpoint)) | StrOutputParser()


def needs_inputs():
    return [{"i": i, "need": n} for i, n in enumerate(NEEDS)]


def needs_curve(x):
    return curve(x["need"])


def needs_curves():
    return SurgeCurves.from_peak(np.asarray(NEEDS, float), 1.0, 20.0, form="cumulative")


def assert_caps_are_the_report(endpoint, runner):
    for x, row in zip(needs_inputs(), runner.last_report.inputs):
        assert caps(endpoint, f"task {x['i']}: need") == ([] if row.abandoned else [row.cap])


def test_batch_as_completed_allocates_jointly(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=600, curves=needs_curve)
    pairs = dict(runner.batch_as_completed(needs_inputs()))
    assert runner.last_report is not None and sorted(pairs) == list(range(6))
    assert [row.cap for row in runner.last_report.inputs] == seeded_allocation(needs_curves(), 600).tolist()
    assert any(isinstance(out, Abandoned) for out in pairs.values())
    assert_caps_are_the_report(endpoint, runner)
    assert_books(runner.ledger, endpoint)


async def test_abatch_as_completed_allocates_jointly(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=600, curves=needs_curve)
    pairs = {i: out async for i, out in runner.abatch_as_completed(needs_inputs())}
    assert runner.last_report is not None and sorted(pairs) == list(range(6))
    assert [row.cap for row in runner.last_report.inputs] == seeded_allocation(needs_curves(), 600).tolist()
    assert_caps_are_the_report(endpoint, runner)
    assert_books(runner.ledger, endpoint)


def test_stopping_batch_as_completed_early_settles_everything(endpoint):
    endpoint.delay = 0.05
    runner = BudgetedRunnable(needs_chain(endpoint), budget=600, curves=needs_curve, max_concurrency=1)
    stream = runner.batch_as_completed(needs_inputs())
    first_funded = next(pair for pair in stream if not isinstance(pair[1], Abandoned))
    stream.close()
    assert runner.last_report is not None and first_funded[1].startswith("used")
    sent = len(endpoint.bodies)
    assert sent < runner.last_report.funded  # the inputs not started were never sent
    assert_books(runner.ledger, endpoint)


def test_a_runner_nested_in_a_parallel_batch_refuses_loudly(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=600, curves=needs_curve)
    outer = RunnableParallel(answer=runner, echo=RunnableLambda(lambda x: x["i"]))
    with pytest.raises(NestedRunnerError, match="outermost"):
        outer.batch(needs_inputs())
    assert endpoint.bodies == [] and runner.ledger.snapshot().reserved == 0
    # Outermost, the same parallel is allocated jointly.
    joint = BudgetedRunnable(RunnableParallel(answer=needs_chain(endpoint), echo=RunnableLambda(lambda x: x["i"])),
                             budget=600, curves=needs_curve)
    joint.batch(needs_inputs())
    assert_caps_are_the_report(endpoint, joint)
    assert_books(joint.ledger, endpoint)


# --- 7. streaming through ChatOpenAI(base_url=...) is charged its usage ----------------


def test_streaming_is_charged_the_tokens_used_not_the_cap(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=5_000, curves=needs_curve)
    text = "".join(runner.stream({"i": 0, "need": 40}))
    (body,) = endpoint.bodies
    assert text == "used 40" and body["stream"] and body["stream_options"] == {"include_usage": True}
    assert endpoint.cap_of(body) > 40
    assert_books(runner.ledger, endpoint)


async def test_astream_and_a_stream_closed_early_are_charged(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=5_000, curves=needs_curve)
    assert "".join([c async for c in runner.astream({"i": 1, "need": 80})]) == "used 80"
    stream = runner.stream({"i": 2, "need": 120})
    next(stream)
    stream.close()  # charged what was billed if its usage came through, else the whole cap: never less
    books = runner.ledger.snapshot()
    assert books.reserved == 0 and endpoint.billed_tokens <= books.spent <= 80 + endpoint.cap_of(endpoint.bodies[-1])


# --- the other shapes: abatch, a bind_tools loop, an agent ---------------------------------


async def test_abatch_of_a_sequence(endpoint):
    runner = BudgetedRunnable(needs_chain(endpoint), budget=600, curves=needs_curve)
    outputs = await runner.abatch(needs_inputs(), {"max_concurrency": 3})
    assert_caps_are_the_report(endpoint, runner)
    for out, row in zip(outputs, runner.last_report.inputs):
        assert isinstance(out, Abandoned) if row.abandoned else out == f"used {row.output_tokens}"
    assert_books(runner.ledger, endpoint)


@tool
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"facts about {topic}"


def test_a_bind_tools_loop_spends_one_grant(endpoint):
    model = budgeted(chat(endpoint)).bind_tools([lookup])

    def solve(x: dict) -> str:
        messages = [HumanMessage(f"research {x['i']}: need {x['need']}")]
        for _ in range(3):
            reply = model.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                return reply.content
            messages += [ToolMessage(lookup.invoke(call["args"]), tool_call_id=call["id"]) for call in reply.tool_calls]
        return "gave up"

    runner = BudgetedRunnable(RunnableLambda(solve), budget=400, curves=lambda x: curve(2 * x["need"]), max_tokens=None)
    xs = [{"i": i, "need": 30 + 10 * i} for i in range(6)]
    outputs = runner.batch(xs)
    for x, row, out in zip(xs, runner.last_report.inputs, outputs):
        sent = caps(endpoint, f"research {x['i']}:")
        if row.abandoned:
            assert sent == []
            continue
        first_used = min(sent[0], x["need"])
        assert sent == [row.cap, row.cap - first_used] and out == f"used {min(sent[1], x['need'])}"
    assert_books(runner.ledger, endpoint)


def test_create_agent_with_a_budgeted_model(endpoint):
    agent = create_agent(budgeted(chat(endpoint)), tools=[lookup])
    runner = BudgetedRunnable(agent, budget=500, curves=lambda x: curve(60.0),
                              text_of=lambda x: x["messages"][0].content)
    xs = [{"messages": [HumanMessage(f"agent task {i}: need {20 + 5 * i}")]} for i in range(6)]
    outputs = runner.batch(xs)
    for i, (row, out) in enumerate(zip(runner.last_report.inputs, outputs)):
        sent = caps(endpoint, f"agent task {i}:")
        if row.abandoned:
            assert sent == [] and isinstance(out, Abandoned)
            continue
        used = min(sent[0], 20 + 5 * i)
        assert sent == [row.cap, row.cap - used] and isinstance(out["messages"][-1].content, str)
    assert_books(runner.ledger, endpoint)
    assert all(p.startswith("agent task") for p in prompts(endpoint))
