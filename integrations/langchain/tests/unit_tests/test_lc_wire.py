"""ChatOpenAI inside a user's chain, run by BudgetedRunnable against a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pytest
from clear_fast import SurgeCurves
from langchain_clear_fast import Abandoned, BudgetedRunnable, UsageTracker, budgeted
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from references import seeded_allocation
from support.openai_endpoint import RecordingEndpoint, endpoint  # noqa: F401

NEEDS = [40, 80, 120, 700, 2500, 60]


def chain_for(endpoint: RecordingEndpoint, **budgeted_options):
    model = ChatOpenAI(model="gpt-test", base_url=endpoint.url, api_key="sk-test", max_retries=0)
    prompt = ChatPromptTemplate.from_template("task {i}: need {need}")
    return prompt | budgeted(model, **budgeted_options) | StrOutputParser()


def inputs():
    return [{"i": i, "need": n} for i, n in enumerate(NEEDS)]


def curves():
    return SurgeCurves.from_peak(np.asarray(NEEDS, float), 1.0, 20.0, form="cumulative")


def curve_of(x):
    return curves().subset([x["i"]])


def test_per_input_caps_and_efforts_on_the_wire(endpoint):
    runner = BudgetedRunnable(
        chain_for(endpoint), budget=600, curves=curve_of, effort_levels={"low": 0, "medium": 120}
    )
    outputs = runner.batch(inputs())
    expected = seeded_allocation(curves(), 600)
    assert (expected == 0).any()
    assert len(endpoint.bodies) == int((expected > 0).sum())
    for i, cap in enumerate(expected):
        if cap == 0:
            assert isinstance(outputs[i], Abandoned)
            assert all(b["messages"][-1]["content"] != f"task {i}: need {NEEDS[i]}" for b in endpoint.bodies)
            continue
        body = endpoint.body_for(f"task {i}: need {NEEDS[i]}")
        assert body["max_completion_tokens"] == cap
        assert body["reasoning_effort"] == ("medium" if cap >= 120 else "low")
        assert outputs[i] == f"used {min(cap, NEEDS[i])}"
    report = runner.last_report
    assert report.spent == sum(min(c, n) for c, n in zip(expected, NEEDS)) <= 600
    assert all(row.flags == () for row in report.inputs)


async def test_async_batch_and_max_tokens_servers(endpoint):
    runner = BudgetedRunnable(chain_for(endpoint, openai_cap_param="max_tokens"), budget=600, curves=curve_of)
    await runner.abatch(inputs())
    caps = {b["messages"][-1]["content"]: b["max_tokens"] for b in endpoint.bodies}
    expected = seeded_allocation(curves(), 600)
    assert caps == {f"task {i}: need {NEEDS[i]}": int(c) for i, c in enumerate(expected) if c}


def test_tracker_sees_the_cap_chatopenai_reports(endpoint):
    tracker = UsageTracker(strict=True)
    runner = BudgetedRunnable(chain_for(endpoint), budget=600, curves=curve_of)
    runner.batch(inputs(), {"callbacks": [tracker]})
    expected = seeded_allocation(curves(), 600)
    by_cap = sorted((call.cap, call.output_tokens) for call in tracker.calls)
    assert by_cap == sorted((int(c), min(int(c), n)) for c, n in zip(expected, NEEDS) if c)
