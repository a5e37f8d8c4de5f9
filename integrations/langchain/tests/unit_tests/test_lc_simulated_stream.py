"""The whole LangChain path on a simulated stream: CLEAR through BudgetedRunnable beats a uniform cap."""

from __future__ import annotations

import numpy as np
from clear_fast import make_stream
from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
from clear_fast.workloads.simulated_model import SimulatedReasoner
from langchain_clear_fast import CAP_KEY, Abandoned, BudgetedRunnable, budgeted
from langchain_core.runnables import RunnableLambda
from references import one_query, seeded_allocation

N = 120


def solved(outputs) -> int:
    return sum(bool(o.response_metadata["correct"]) for o in outputs if not isinstance(o, Abandoned))


def test_clear_beats_uniform_through_the_chain():
    stream = make_stream("Balanced", N, seed=4)
    reasoner = SimulatedReasoner(stream.curves, seed=4)
    chain = RunnableLambda(lambda q: f"Problem #{q}") | budgeted(SimulatedReasoningChatModel(reasoner=reasoner))
    budget = 150 * N  # scarce: about 150 tokens per query

    runner = BudgetedRunnable(chain, budget=budget, curves=one_query(stream.curves))
    clear = runner.batch(list(range(N)))
    grants = seeded_allocation(stream.curves, budget)
    uniform = chain.batch(list(range(N)), {"configurable": {CAP_KEY: budget // N}})

    # The chain's answers are the simulated model's answers at the same caps.
    correct, used, _ = reasoner.answer_many(grants)
    assert solved(clear) == int(correct[grants > 0].sum())
    assert runner.last_report.spent == int(used[grants > 0].sum()) <= budget
    assert solved(clear) > 1.3 * solved(uniform)
    assert all(isinstance(clear[i], Abandoned) for i in np.flatnonzero(grants == 0))
