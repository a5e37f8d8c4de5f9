"""End to end on a real model: "list the numbers from 1 to N" under one scarce budget.

The answer to task N is known exactly ("1, 2, ..., N"), so the tokens it needs
are known too: the predictor counts them with the served model's own tokenizer.
A run is solved when the reply starts with the numbers 1..N in order; a cap
below the answer's length cuts it off. Every request that leaves this process
is recorded by an httpx event hook, so "no request" is checked on the wire.
"""

from __future__ import annotations

import json
import re
import threading

import httpx2
import numpy as np
import openai
import pytest
from clear_fast import run_openai_batch
from clear_fast.runtime import Ledger
from langchain_clear_fast import (
    CAP_KEY,
    Abandoned,
    BudgetedRunnable,
    BudgetExhausted,
    TokenBudget,
    UsageTracker,
    budgeted,
    curves_from_prediction,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from support.local_model import count_tokens

pytestmark = pytest.mark.live_model

TASKS = [2, 3, 4, 5, 6, 8, 10, 12]
BUDGET = 64  # the answers need 138 tokens in all: scarce
PROMPT = "List the numbers from 1 to {n}, separated by commas."


def answer(n: int) -> str:
    return ", ".join(str(k) for k in range(1, n + 1))


def solved(n: int, reply: object) -> bool:
    if not isinstance(reply, str):
        return False
    return [int(x) for x in re.findall(r"\d+", reply)][:n] == list(range(1, n + 1))


class AnswerLengthPredictor:
    """Predicts each task's threshold as the length of its answer in the model's tokens."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def predict(self, texts):
        tau = np.array([count_tokens(self.base_url, answer(int(t))) for t in texts], dtype=float)
        return tau, np.zeros_like(tau)  # exact counts: no uncertainty


class WireLog:
    """Request bodies sent to the server, recorded by an httpx event hook."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self._lock = threading.Lock()

    def record(self, request: httpx2.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            with self._lock:
                self.bodies.append(json.loads(request.content))

    async def arecord(self, request: httpx2.Request) -> None:
        self.record(request)

    def asked(self) -> list[int]:
        """The task N of each request, from its prompt."""
        return [int(re.search(r"1 to (\d+)", b["messages"][-1]["content"]).group(1)) for b in self.bodies]


@pytest.fixture(scope="module")
def predictor(smollm2_url):
    return AnswerLengthPredictor(smollm2_url)


def users_chain(base_url: str, wire: WireLog):
    """A user's own chain; the only change for clear_fast is budgeted() around the model."""
    model = ChatOpenAI(
        model="smollm2", base_url=base_url, api_key="none", temperature=0, seed=0,
        http_client=httpx2.Client(event_hooks={"request": [wire.record]}),
    )
    # llama.cpp ignores max_completion_tokens, which ChatOpenAI sends: send max_tokens too.
    capped = budgeted(model, openai_cap_param="max_tokens")
    return ChatPromptTemplate.from_template(PROMPT) | capped | StrOutputParser()


@pytest.fixture(scope="module")
def clear_run(smollm2_url, predictor):
    wire = WireLog()
    runner = BudgetedRunnable(
        users_chain(smollm2_url, wire), budget=BUDGET, predictor=predictor, width=1.0, max_concurrency=2
    )
    outputs = runner.batch([{"n": n} for n in TASKS])
    return outputs, runner.last_report, wire


@pytest.fixture(scope="module")
def uniform_run(smollm2_url):
    wire = WireLog()
    tracker = UsageTracker()
    cap = BUDGET // len(TASKS)
    config = {"configurable": {CAP_KEY: cap}, "callbacks": [tracker], "max_concurrency": 2}
    outputs = users_chain(smollm2_url, wire).batch([{"n": n} for n in TASKS], config)
    return outputs, tracker, wire, cap


def test_every_call_stays_under_its_cap(clear_run):
    outputs, report, wire = clear_run
    funded = [row for row in report.inputs if not row.abandoned]
    assert funded, report.table()
    for row in funded:
        assert row.calls == 1 and 0 < row.output_tokens <= row.cap, report.table()
        assert row.flags == (), report.table()  # capped, cap reported, not overrun
    caps_on_wire = sorted(body["max_tokens"] for body in wire.bodies)
    assert caps_on_wire == sorted(row.cap for row in funded)


def test_abandoned_tasks_send_no_request(clear_run):
    outputs, report, wire = clear_run
    abandoned = {TASKS[row.index] for row in report.inputs if row.abandoned}
    assert abandoned, report.table()  # the budget is scarce: some tasks must be dropped
    assert all(isinstance(outputs[TASKS.index(n)], Abandoned) for n in abandoned)
    assert sorted(wire.asked()) == sorted(set(TASKS) - abandoned)


def test_total_usage_within_the_budget(clear_run):
    outputs, report, wire = clear_run
    assert report.spent == sum(row.output_tokens for row in report.inputs) <= BUDGET
    assert report.granted <= BUDGET


def test_clear_solves_more_than_a_uniform_cap(clear_run, uniform_run):
    outputs, report, _ = clear_run
    uniform_outputs, tracker, uniform_wire, cap = uniform_run
    assert all(call.output_tokens <= cap for call in tracker.calls)
    assert tracker.output_tokens <= BUDGET and len(uniform_wire.bodies) == len(TASKS)
    clear_solved = sum(solved(n, out) for n, out in zip(TASKS, outputs))
    uniform_solved = sum(solved(n, out) for n, out in zip(TASKS, uniform_outputs))
    assert clear_solved > uniform_solved, (clear_solved, uniform_solved, report.table())


async def test_openai_runner_on_the_real_server(smollm2_url, predictor):
    wire = WireLog()
    client = openai.AsyncOpenAI(
        base_url=smollm2_url, api_key="none",
        http_client=httpx2.AsyncClient(event_hooks={"request": [wire.arecord]}),
    )
    requests = [
        {"messages": [{"role": "user", "content": PROMPT.format(n=n)}], "temperature": 0, "seed": 0} for n in TASKS
    ]
    tau, spread = predictor.predict([str(n) for n in TASKS])
    ledger = Ledger(BUDGET)
    result = await run_openai_batch(
        client, requests, curves_from_prediction(tau, width=1.0), None,
        model="smollm2", cap_param="max_tokens", max_concurrency=2, ledger=ledger,
    )
    sent = [o for o in result.outcomes if not o.abandoned]
    assert sent and result.abandoned.any()
    assert sorted(wire.asked()) == sorted(TASKS[o.index] for o in sent)
    assert all(o.error is None and 0 < o.output_tokens <= o.cap for o in sent)
    assert result.overruns == [] and result.spent == ledger.snapshot().spent <= BUDGET
    assert all(solved(TASKS[o.index], o.content) for o in sent if o.cap >= tau[o.index])


async def test_an_ignored_cap_is_caught_and_charged(smollm2_url):
    """The server ignores max_completion_tokens: the runner reports the overrun and charges it."""
    client = openai.AsyncOpenAI(base_url=smollm2_url, api_key="none")
    ledger = Ledger(10)
    request = {"messages": [{"role": "user", "content": PROMPT.format(n=6)}], "temperature": 0, "seed": 0}
    curves = curves_from_prediction([1.0], width=1.0)  # a wrong prediction: a cap far below the answer
    result = await run_openai_batch(
        client, [request], curves, None, model="smollm2", cap_param="max_completion_tokens", ledger=ledger
    )
    (outcome,) = result.outcomes
    assert outcome.cap <= 10 < outcome.output_tokens and outcome.overran and result.overruns == [0]
    books = ledger.snapshot()
    assert books.spent == outcome.output_tokens and books.overrun == outcome.output_tokens - outcome.cap


def test_an_agents_calls_share_one_budget(smollm2_url):
    """Several calls of one agent: each capped at what is left, a clean stop before the request that cannot fit."""
    wire = WireLog()
    model = budgeted(
        ChatOpenAI(model="smollm2", base_url=smollm2_url, api_key="none", temperature=0, seed=0,
                   http_client=httpx2.Client(event_hooks={"request": [wire.record]})),
        openai_cap_param="max_tokens",
    )
    budget = TokenBudget(40, min_call_tokens=8)
    used = []
    with pytest.raises(BudgetExhausted):
        for n in (5, 6, 8, 10):
            reply = model.invoke(PROMPT.format(n=n), budget.config())
            used.append(reply.usage_metadata["output_tokens"])
    caps = [body["max_tokens"] for body in wire.bodies]
    assert caps[0] == 40 and all(caps[k + 1] == caps[k] - used[k] for k in range(len(caps) - 1))
    assert all(u <= c for u, c in zip(used, caps))
    assert budget.spent == sum(used) <= 40 and len(wire.bodies) == len(used) == budget.calls
