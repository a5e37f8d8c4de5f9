"""The runner as LangChain tools see it: its own run with the allocation, the chain's schemas, serialisation, repr."""

from __future__ import annotations

from typing import Union

import clear_fast as cf
import pytest
from langchain_clear_fast import Abandoned, BudgetedChatModel, BudgetedRunnable, budgeted
from langchain_core.load import dumpd, load
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableSerializable
from langchain_openai import ChatOpenAI
from wire import Runs, assert_books, caps, chat


def chain_for(endpoint):
    return ChatPromptTemplate.from_template("task {i}: need {need}") | budgeted(chat(endpoint)) | StrOutputParser()


def curve_of(x):
    return cf.SurgeCurves.from_peak([float(x["need"])], 1.0, 20.0, form="cumulative")


INPUTS = [{"i": i, "need": n} for i, n in enumerate([40, 80, 120, 700, 2500, 60])]


def test_a_batch_is_one_run_with_the_allocation(endpoint):
    runs = Runs()
    runner = BudgetedRunnable(chain_for(endpoint), budget=600, curves=curve_of)
    runner.batch(INPUTS, {"callbacks": [runs], "tags": ["eval"]})
    (batch_run,) = [rid for rid, run in runs.started.items() if run["name"] == "BudgetedRunnable"]
    allocation = runs.started[batch_run]["metadata"]["clear_fast_allocation"]
    report = runner.last_report
    assert allocation["grants"] == [row.cap for row in report.inputs]
    assert allocation["shadow_price"] == report.shadow_price and allocation["budget"] == 600
    assert sorted(allocation["abandoned"]) == [row.index for row in report.inputs if row.abandoned]
    assert runs.ended[batch_run]["clear_fast_allocation"]["spent"] == report.spent
    chat_runs = [rid for rid, run in runs.started.items() if run["name"] == "chat"]
    assert len(chat_runs) == report.funded and all(runs.root_of(rid) == batch_run for rid in chat_runs)
    assert_books(runner.ledger, endpoint)


async def test_a_single_call_is_one_run_with_its_quote(endpoint):
    runner = BudgetedRunnable(chain_for(endpoint), budget=600, curves=curve_of)
    events = [e async for e in runner.astream_events(INPUTS[0], version="v2")]
    start = events[0]
    assert start["event"] == "on_chain_start" and start["name"] == "BudgetedRunnable"
    (body,) = endpoint.bodies
    assert start["metadata"]["clear_fast_cap"] == endpoint.cap_of(body) and "clear_fast_quote" in start["metadata"]
    assert events[-1]["event"] == "on_chain_end" and events[-1]["data"]["output"] == "used 40"
    assert_books(runner.ledger, endpoint)


def test_schemas_are_the_chains(endpoint):
    chain = chain_for(endpoint)
    runner = BudgetedRunnable(chain, budget=600, curves=curve_of)
    assert runner.get_input_schema().model_json_schema() == chain.get_input_schema().model_json_schema()
    assert runner.InputType == chain.InputType
    assert runner.OutputType == Union[str, Abandoned]
    output = runner.get_output_schema().model_json_schema()
    assert {"type": "string"} in output["anyOf"] and any("Abandoned" in str(option) for option in output["anyOf"])
    fallback = ChatPromptTemplate.from_template("short {i}") | budgeted(chat(endpoint)) | StrOutputParser()
    with_fallback = BudgetedRunnable(chain, budget=600, curves=curve_of, on_abandon=fallback)
    assert with_fallback.OutputType == str


@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_serialisable_in_its_own_namespace_with_a_readable_repr(endpoint):
    model = budgeted(chat(endpoint))
    saved = dumpd(model)
    assert saved["id"] == ["langchain_clear_fast", "BudgetedChatModel"]
    loaded = load(saved, valid_namespaces=["langchain_clear_fast"], allowed_objects=[BudgetedChatModel, ChatOpenAI],
                  secrets_map={"OPENAI_API_KEY": "sk-test"})
    assert isinstance(loaded, BudgetedChatModel) and loaded.model.model_name == "gpt-4o-mini"
    runner = BudgetedRunnable(chain_for(endpoint), budget=600, curves=curve_of)
    assert isinstance(runner, RunnableSerializable)
    assert BudgetedRunnable.lc_id() == ["langchain_clear_fast", "BudgetedRunnable"]
    assert runner.to_json()["id"] == ["langchain_clear_fast", "runnable", "BudgetedRunnable"]  # holds a ledger: not loadable
    text = repr(runner)
    assert text.startswith("BudgetedRunnable(budget=Ledger: 600 of 600 tokens free, curves=")
    assert "chain=" in text and "BudgetedChatModel" in text and "StrOutputParser" in text
    loaded.invoke("task 0: need 5", {"configurable": {"clear_fast_max_tokens": 3}})
    assert caps(endpoint, "task 0: need 5") == [3]
