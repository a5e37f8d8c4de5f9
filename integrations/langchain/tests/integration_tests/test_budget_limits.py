"""Where grants stop: the model's output limit, fallbacks, ties, per-input curves, configurable models.

A real ChatOpenAI on the recording endpoint; every test checks the caps on the
wire, that abandoned inputs sent nothing, and that the ledger charged what the
server billed, to the token.
"""

from __future__ import annotations

import clear_fast as cf
import numpy as np
from langchain_clear_fast import Abandoned, BudgetedChatModel, BudgetedRunnable, TokenBudget, budgeted
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField
from references import shuffled
from wire import assert_books, billed, caps, chat

PROFILE_LIMIT = 16_384  # gpt-4o-mini's max_output_tokens in langchain-openai's model profiles


def chain_of(model, template="task {i}: need {need}"):
    return ChatPromptTemplate.from_template(template) | model | StrOutputParser()


# --- 3. never a cap past the model's output limit ---------------------------------------


def test_caps_stop_at_the_model_profiles_output_limit(endpoint):
    endpoint.output_limit = PROFILE_LIMIT  # a real provider refuses a larger cap with HTTP 400
    model = budgeted(chat(endpoint))
    runner = BudgetedRunnable(chain_of(model), budget=2_000_000,
                              curves=lambda x: cf.SurgeCurves.from_peak([3_000.0], 1.0, 20_000.0, form="cumulative"))
    xs = [{"i": i, "need": 50_000} for i in range(5)]
    outputs = runner.batch(xs, return_exceptions=True)
    assert endpoint.statuses == [200] * 5 and outputs == [f"used {PROFILE_LIMIT}"] * 5
    assert model.output_limit == runner.max_tokens == PROFILE_LIMIT
    assert [row.cap for row in runner.last_report.inputs] == [PROFILE_LIMIT] * 5
    assert all(caps(endpoint, f"task {i}:") == [PROFILE_LIMIT] for i in range(5))
    assert_books(runner.ledger, endpoint)


def test_a_cap_set_on_the_model_bounds_every_grant(endpoint):
    model = budgeted(chat(endpoint, max_tokens=250))
    budget = cf.runtime.Ledger(10_000)
    runner = BudgetedRunnable(chain_of(model), budget=budget,
                              curves=lambda x: cf.SurgeCurves.from_peak([150.0], 1.0, 100.0, form="cumulative"))
    runner.batch([{"i": i, "need": 300 + 100 * i} for i in range(4)])
    assert [caps(endpoint, f"task {i}:") for i in range(4)] == [[250]] * 4
    assert runner.max_tokens == 250 and [row.cap for row in runner.last_report.inputs] == [250] * 4
    # A TokenBudget with more than the limit caps each call at the limit and keeps the rest.
    tokens = TokenBudget(1_000)
    chain_of(model).invoke({"i": 9, "need": 400}, tokens.config())
    chain_of(model).invoke({"i": 10, "need": 400}, tokens.config())
    assert caps(endpoint, "task 9:") == [250] and caps(endpoint, "task 10:") == [250] and tokens.remaining == 500
    assert budget.snapshot().spent == sum(billed(endpoint, f"task {i}:") for i in range(4)) == 4 * 250


# --- 4. a fallback runs with the caller's config, capped and charged ---------------------


class Seen(BaseCallbackHandler):
    """Records the tags and the cap (ls_max_tokens) of every chat model call it sees."""

    def __init__(self) -> None:
        self.starts: list[tuple[list[str], int | None, str]] = []

    def on_chat_model_start(self, serialized, messages, *, tags=None, metadata=None, **kwargs):
        self.starts.append((list(tags or []), (metadata or {}).get("ls_max_tokens"), messages[0][-1].content))


def test_a_fallback_is_capped_charged_and_sees_the_callers_config(endpoint):
    main = chain_of(budgeted(chat(endpoint, model="gpt-4o")))
    cheap = chain_of(budgeted(chat(endpoint)), "short answer {i}: need {need}")
    runner = BudgetedRunnable(main, budget=900, curves=lambda x: cf.SurgeCurves.from_peak(
        [float(x["need"])], 1.0, 20.0, form="cumulative"), on_abandon=cheap, fallback_tokens=30)
    xs = [{"i": i, "need": n} for i, n in enumerate([100, 150, 200, 900, 1200, 1500, 80, 2500])]
    seen = Seen()
    outputs = runner.batch(xs, {"callbacks": [seen], "tags": ["eval-run"]})
    rows = runner.last_report.inputs
    fell_back = [row.index for row in rows if row.abandoned]
    assert fell_back and all(rows[i].fallback for i in fell_back)
    for i in fell_back:
        assert caps(endpoint, f"task {i}:") == []  # the main model never saw it
        assert caps(endpoint, f"short answer {i}:") == [30] and outputs[i] == "used 30"
        assert rows[i].output_tokens == 30
    fallback_calls = [s for s in seen.starts if s[2].startswith("short answer")]
    assert len(fallback_calls) == len(fell_back) and all("eval-run" in tags and cap == 30 for tags, cap, _ in fallback_calls)
    assert runner.last_report.spent == endpoint.billed_tokens <= 900
    assert_books(runner.ledger, endpoint)


def test_a_fallback_without_an_allowance_sends_nothing(endpoint):
    cheap = chain_of(budgeted(chat(endpoint)), "short answer {i}: need {need}")
    runner = BudgetedRunnable(chain_of(budgeted(chat(endpoint))), budget=100, on_abandon=cheap,
                              curves=lambda x: cf.SurgeCurves.from_peak([float(x["need"])], 1.0, 20.0, form="cumulative"))
    outputs = runner.batch([{"i": 0, "need": 40}, {"i": 1, "need": 5000}], return_exceptions=True)
    assert caps(endpoint, "task 0:") and caps(endpoint, "short answer 1:") == []
    assert "BudgetExhausted" in runner.last_report.inputs[1].error and isinstance(outputs[1], Exception)
    assert_books(runner.ledger, endpoint)


# --- 5. ties are broken by a seeded shuffle, and the report says why -------------------


def test_alike_inputs_are_funded_by_seeded_shuffle_not_by_position(endpoint):
    model = budgeted(chat(endpoint))
    xs = [{"i": i, "need": 300} for i in range(20)]
    runner = BudgetedRunnable(chain_of(model), budget=20_000, predictor=cf.ConstantPrior(tau=400, spread=0.8), width=300)
    outputs = runner.batch(xs)
    abandoned = [i for i, out in enumerate(outputs) if isinstance(out, Abandoned)]
    assert len(abandoned) == 5 and abandoned != list(range(15, 20))
    # The documented rule: solve on the inputs in the order of the seeded shuffle.
    order = shuffled(20, seed=0)
    assert set(abandoned) == set(order[15:].tolist())
    report = runner.last_report
    assert report.abandoned == 5
    assert report.abandoned_because == {"tied with funded inputs of the same predicted curve (picked by the seeded shuffle)": 5}
    assert all("the budget funds 15 of the 20 inputs" in outputs[i].reason for i in abandoned)
    assert "5 tied with funded inputs" in report.table()
    for i in range(20):
        assert caps(endpoint, f"task {i}:") == ([] if i in abandoned else [report.inputs[i].cap])
    assert_books(runner.ledger, endpoint)
    other = BudgetedRunnable(chain_of(model), budget=20_000, predictor=cf.ConstantPrior(tau=400, spread=0.8),
                             width=300, seed=7)
    assert other.batch(xs, return_exceptions=True) and [r.abandoned for r in other.last_report.inputs] != [
        r.abandoned for r in report.inputs]


# --- 8. curves per input: any batch size, single calls, events ---------------------------


async def test_per_input_curves_serve_any_batch_size_invoke_and_events(endpoint):
    model = budgeted(chat(endpoint))
    table = cf.SurgeCurves.from_peak(np.array([40.0, 80.0, 120.0, 700.0, 60.0]), 1.0, 20.0, form="cumulative")
    runner = BudgetedRunnable(chain_of(model), budget=5_000, curves=lambda x: table.subset([x["i"]]))
    xs = [{"i": i, "need": int(t)} for i, t in enumerate(table.tau)]
    runner.batch(xs[:3])
    runner.batch(xs)
    assert len(runner.last_report.inputs) == 5
    assert runner.invoke(xs[1]) == "used 80"
    events = [e async for e in runner.astream_events(xs[2], version="v2")]
    assert events[0]["event"] == "on_chain_start" and events[0]["name"] == "BudgetedRunnable"
    assert any(e["event"] == "on_chat_model_end" for e in events)
    # The threshold can also come as a column of the input.
    by_column = BudgetedRunnable(chain_of(model), budget=runner.ledger, curves="tau", width=20.0)
    by_column.batch([{"i": 7, "need": 50, "tau": 50.0}, {"i": 8, "need": 30, "tau": 30.0}])
    assert [row.cap for row in by_column.last_report.inputs] == caps(endpoint, "task 7:") + caps(endpoint, "task 8:")
    assert_books(runner.ledger, endpoint)


# --- 9. configurable models can be budgeted, and the result is a chat model ---------------


def test_configurable_fields_and_alternatives_are_budgeted(endpoint):
    fields = budgeted(chat(endpoint).configurable_fields(model_name=ConfigurableField(id="model_name")))
    alternatives = budgeted(chat(endpoint).configurable_alternatives(
        ConfigurableField(id="llm"), default_key="mini", big=chat(endpoint, model="gpt-4o")))
    assert isinstance(fields, BaseChatModel) and isinstance(alternatives, BudgetedChatModel)
    runner = BudgetedRunnable(chain_of(fields), budget=600,
                              curves=lambda x: cf.SurgeCurves.from_peak([float(x["need"])], 1.0, 20.0, form="cumulative"))
    runner.batch([{"i": 0, "need": 40}, {"i": 1, "need": 80}], {"configurable": {"model_name": "gpt-4.1-nano"}})
    bodies = endpoint.bodies_for("task")
    assert [b["model"] for b in bodies] == ["gpt-4.1-nano"] * 2
    assert sorted(endpoint.cap_of(b) for b in bodies) == sorted(row.cap for row in runner.last_report.inputs)
    big = BudgetedRunnable(chain_of(alternatives, "big {i}: need {need}"), budget=runner.ledger,
                           curves=lambda x: cf.SurgeCurves.from_peak([float(x["need"])], 1.0, 20.0, form="cumulative"))
    big.batch([{"i": 2, "need": 60}], {"configurable": {"llm": "big"}})
    (body,) = endpoint.bodies_for("big 2:")
    assert body["model"] == "gpt-4o" and endpoint.cap_of(body) == big.last_report.inputs[0].cap
    assert_books(runner.ledger, endpoint)
