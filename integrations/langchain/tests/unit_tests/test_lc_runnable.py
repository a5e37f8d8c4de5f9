"""BudgetedRunnable: one allocation per batch, caps per input, abandoned inputs never sent."""

from __future__ import annotations

import numpy as np
import pytest
from clear_fast import (
    ConstantPrior,
    Ledger,
    Pacer,
    SurgeCurves,
    allocate,
    allocate_uncertain,
    best_response,
    expected_utility,
)
from langchain_clear_fast import (
    Abandoned,
    BudgetedBatchError,
    BudgetedRunnable,
    InputAbandoned,
    budgeted,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda
from references import one_query, seeded_allocation, seeded_risk_aware


def prompt(q: int) -> str:
    return f"solve #{q}"


@pytest.fixture
def chain(model):
    return RunnableLambda(prompt) | budgeted(model) | StrOutputParser()


def by_query(curves: SurgeCurves):
    """Each input's curve: inputs are query numbers (a batch may be any subset, in any order)."""
    return one_query(curves)


def test_caps_are_the_global_allocation(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    outputs = runner.batch(list(range(8)))
    expected = seeded_allocation(curves, 400)
    assert expected.sum() <= 400 and (expected == 0).any() and (expected > 0).any()
    report = runner.last_report
    assert [row.cap for row in report.inputs] == expected.tolist()
    # Each funded input reached the model once with its own cap; abandoned ones never did.
    assert sorted(reasoner.calls) == [(i, int(c)) for i, c in enumerate(expected) if c > 0]
    for i, out in enumerate(outputs):
        if expected[i] == 0:
            assert isinstance(out, Abandoned) and not out and out.index == i
            assert "abandoned" in out.reason and out.breakeven_price < out.shadow_price
        else:
            assert out.startswith(f"Answer to #{i}:") or out == ""


def test_report_matches_the_model_and_the_ledger(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    runner.batch(list(range(8)))
    report = runner.last_report
    truth = {q: reasoner.inner.answer(q, cap) for q, cap in reasoner.calls}
    for row in report.inputs:
        if row.abandoned:
            assert row.calls == 0 and row.output_tokens == 0
        else:
            assert row.calls == 1
            assert row.output_tokens == truth[row.index].tokens_used <= row.cap
            assert row.cut_off == (truth[row.index].finish_reason == "length")
    books = runner.ledger.snapshot()
    assert report.spent == books.spent == sum(t.tokens_used for t in truth.values())
    assert report.within_budget and books.reserved == 0 and books.balanced
    assert "spent" in report.table() and "abandoned" in report.table()


def test_order_is_kept_for_shuffled_inputs(chain, curves, reasoner):
    order = [5, 0, 7, 2, 1, 6, 3, 4]
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    outputs = runner.batch(order)
    for position, q in enumerate(order):
        if isinstance(outputs[position], Abandoned):
            assert outputs[position].index == position
            assert q not in reasoner.queries()
        elif outputs[position]:
            assert outputs[position].startswith(f"Answer to #{q}:")


def test_budget_is_drawn_down_across_batches(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=250, curves=by_query(curves))
    runner.batch([0, 1, 2])
    first = runner.last_report
    runner.batch([3, 4])
    second = runner.last_report
    assert second.budget == 250 - first.spent
    assert first.spent + second.spent == runner.ledger.snapshot().spent <= 250


def test_a_shared_ledger_is_respected(chain, curves):
    ledger = Ledger(1000)
    ledger.reserve("someone else", 900)
    runner = BudgetedRunnable(chain, budget=ledger, curves=by_query(curves))
    runner.batch(list(range(8)))
    assert runner.last_report.budget == 100 and runner.last_report.granted <= 100


def test_an_error_in_one_input_keeps_the_others(model, curves, reasoner):
    def maybe_fail(q: int) -> str:
        if q == 1:
            raise RuntimeError("bad input")
        return prompt(q)

    chain = RunnableLambda(maybe_fail) | budgeted(model) | StrOutputParser()
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    with pytest.raises(BudgetedBatchError, match="1 of 8 inputs failed") as caught:
        runner.batch(list(range(8)))
    outputs = caught.value.outputs
    assert isinstance(outputs[1], RuntimeError)
    assert outputs[0].startswith("Answer to #0") and isinstance(outputs[7], Abandoned)
    assert caught.value.report.inputs[1].error == "RuntimeError: bad input"
    books = runner.ledger.snapshot()
    assert books.reserved == 0 and books.balanced  # the failed input's grant went back

    again = BudgetedRunnable(chain, budget=400, curves=by_query(curves)).batch(list(range(8)), return_exceptions=True)
    assert isinstance(again[1], RuntimeError) and again[0].startswith("Answer to #0")


def test_max_concurrency_is_honoured(curves):
    from recording_reasoner import RecordingReasoner
    from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel

    slow = RecordingReasoner(curves, delay=0.05)
    chain = RunnableLambda(prompt) | budgeted(SimulatedReasoningChatModel(reasoner=slow))
    flat = SurgeCurves.from_peak(np.full(8, 10.0), 1.0, 5.0, form="cumulative")
    BudgetedRunnable(chain, budget=8 * 60, curves=one_query(flat), max_concurrency=2).batch(list(range(8)))
    assert len(slow.calls) == 8 and slow.most_in_flight == 2
    slow.most_in_flight = 0
    BudgetedRunnable(chain, budget=8 * 60, curves=one_query(flat)).batch(list(range(8)), {"max_concurrency": 3})
    assert slow.most_in_flight == 3


async def test_max_concurrency_is_honoured_by_abatch(curves):
    from langchain_clear_fast.simulated_chat_model import SimulatedReasoningChatModel
    from recording_reasoner import RecordingReasoner

    slow = RecordingReasoner(curves, delay=0.05)
    chain = RunnableLambda(prompt) | budgeted(SimulatedReasoningChatModel(reasoner=slow))
    flat = SurgeCurves.from_peak(np.full(8, 10.0), 1.0, 5.0, form="cumulative")
    await BudgetedRunnable(chain, budget=8 * 60, curves=one_query(flat), max_concurrency=3).abatch(list(range(8)))
    assert len(slow.calls) == 8 and slow.most_in_flight == 3


async def test_abatch_matches_batch(model, curves, reasoner):
    chain = RunnableLambda(prompt) | budgeted(model) | StrOutputParser()
    sync_out = BudgetedRunnable(chain, budget=400, curves=by_query(curves)).batch(list(range(8)))
    sync_calls = sorted(reasoner.calls)
    reasoner.calls.clear()
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    async_out = await runner.abatch(list(range(8)))
    assert sorted(reasoner.calls) == sync_calls
    assert [o if isinstance(o, str) else o.index for o in async_out] == [
        o if isinstance(o, str) else o.index for o in sync_out
    ]
    assert runner.ledger.snapshot().reserved == 0


def test_fallback_runs_instead_of_the_model(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=150, curves=by_query(curves), on_abandon=lambda q: f"skipped {q}")
    outputs = runner.batch(list(range(8)))
    abandoned = [i for i, row in enumerate(runner.last_report.inputs) if row.abandoned]
    assert abandoned and all(outputs[i] == f"skipped {i}" for i in abandoned)
    assert not reasoner.queries() & set(abandoned)


def test_raise_on_abandon_sends_nothing(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=150, curves=by_query(curves), on_abandon="raise")
    with pytest.raises(InputAbandoned, match="abandoned"):
        runner.batch(list(range(8)))
    assert reasoner.calls == [] and runner.ledger.snapshot().reserved == 0


class FixedPredictor:
    """Predicts given thresholds and spreads, and keeps what it is taught."""

    def __init__(self, tau, spread):
        self.tau, self.spread, self.taught = np.asarray(tau, float), np.asarray(spread, float), []

    def predict(self, texts):
        index = [int(t.split("#")[1]) for t in texts]
        return self.tau[index], self.spread[index]

    def update(self, observations):
        self.taught.extend(observations)


TAU = [20.0, 35.0, 50.0, 80.0, 120.0, 400.0, 900.0, 1500.0]


def risk_aware_reference(tau, spread, width, budget):
    """The better, in expected accuracy, of allocate_uncertain and allocate, on the shuffled inputs."""
    return seeded_risk_aware(SurgeCurves.from_peak(np.asarray(tau, float), 1.0, width, form="cumulative"), spread, budget)


@pytest.mark.parametrize("spread", [0.4, 1.0])
def test_risk_aware_allocation(chain, spread):
    spreads = np.full(8, spread)
    runner = BudgetedRunnable(chain, budget=400, predictor=FixedPredictor(TAU, spreads), width=25.0, text_of=prompt)
    runner.batch(list(range(8)))
    reference = risk_aware_reference(TAU, spreads, 25.0, 400)
    assert [row.cap for row in runner.last_report.inputs] == reference.tolist()


def test_alike_queries_are_not_all_given_to_one(chain):
    """Four alike queries and room for two: the knapsack alone would fund one."""
    predictor = FixedPredictor([20.0] * 8, np.full(8, 0.3))
    runner = BudgetedRunnable(chain, budget=120, predictor=predictor, width=20.0, text_of=prompt)
    runner.batch([0, 1, 2, 3])
    caps = sorted(row.cap for row in runner.last_report.inputs)
    assert caps == [0, 0, 60, 60]


def test_trusting_the_prediction_is_allocate(chain):
    predictor = FixedPredictor(TAU, np.full(8, 0.4))
    runner = BudgetedRunnable(chain, budget=400, predictor=predictor, width=25.0, risk_aware=False, text_of=prompt)
    runner.batch(list(range(8)))
    reference = seeded_allocation(SurgeCurves.from_peak(TAU, 1.0, 25.0, form="cumulative"), 400)
    assert [row.cap for row in runner.last_report.inputs] == reference.tolist()


def test_the_predictor_learns_from_finished_inputs(chain, reasoner):
    predictor = FixedPredictor(TAU, np.zeros(8))
    runner = BudgetedRunnable(chain, budget=400, predictor=predictor, width=25.0, text_of=prompt)
    runner.batch(list(range(8)))
    rows = {f"solve #{row.index}": row for row in runner.last_report.inputs if not row.abandoned}
    assert len(predictor.taught) == len(rows) > 0
    for seen in predictor.taught:
        row = rows[seen.text]
        assert seen.censored == row.cut_off
        assert seen.tau == (row.cap if row.cut_off else row.output_tokens)


def test_the_default_predictor_is_the_constant_prior(chain):
    runner = BudgetedRunnable(chain, budget=300, width=20.0)
    assert isinstance(runner.predictor, ConstantPrior)


def test_predictor_sees_the_input_texts(chain):
    seen = []

    class Recording(ConstantPrior):
        def predict(self, texts):
            seen.extend(texts)
            return super().predict(texts)

    BudgetedRunnable(chain, budget=100, predictor=Recording(), text_of=prompt).batch([3, 4])
    assert seen == ["solve #3", "solve #4"]


def test_empty_batch(chain):
    runner = BudgetedRunnable(chain, budget=100)
    assert runner.batch([]) == [] and runner.last_report.spent == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"budget": -1}, ValueError, "budget"),
        ({"budget": 10, "predictor": object()}, TypeError, "predict"),
        ({"budget": 10, "on_abandon": "ignore"}, ValueError, "on_abandon"),
        ({"budget": 10, "max_concurrency": 0}, ValueError, "max_concurrency"),
        ({"budget": 10, "predictor": ConstantPrior(), "curves": lambda x: x}, ValueError, "not both"),
        ({"budget": 10, "effort_levels": {"low": -1}}, ValueError, "effort_levels"),
        ({"budget": 10, "width": 0}, ValueError, "width"),
        ({"budget": 10, "pacer": object()}, TypeError, "pacer"),
        ({"budget": 10, "max_tokens": 0}, ValueError, "max_tokens"),
        ({"budget": 10, "effort_levels": ["low"]}, TypeError, "effort_levels"),
    ],
)
def test_bad_arguments(chain, kwargs, error, message):
    with pytest.raises(error, match=message):
        BudgetedRunnable(chain, **kwargs)


def test_curves_must_be_per_input(chain, curves):
    with pytest.raises(TypeError, match="would tie the runner to batches of exactly that size"):
        BudgetedRunnable(chain, budget=100, curves=curves)
    with pytest.raises(ValueError, match="`curves` of input 0 must be SurgeCurves of one query"):
        BudgetedRunnable(chain, budget=100, curves=lambda q: curves.subset([q, q])).batch([0, 1])
    with pytest.raises(ValueError, match="input 0 has no column 'curve'"):
        BudgetedRunnable(chain, budget=100, curves="curve").batch([0, 1])


# --- single inputs: a quote at the current price, reserved and settled ---------------


def test_invoke_reserves_and_settles(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=500, curves=by_query(curves))
    out = runner.invoke(0)
    (query, cap), = reasoner.calls
    assert query == 0 and cap == runner.quote(0)[0] > 20
    used = reasoner.inner.answer(0, cap).tokens_used
    assert out.startswith("Answer to #0") and runner.ledger.snapshot().spent == used


def test_invoke_uses_the_last_batch_price(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=10_000, curves=by_query(curves))
    runner.batch([0, 1, 2, 3, 4, 5, 6, 7])
    price = runner.last_report.shadow_price
    assert runner.price == price
    assert runner.quote(2)[0] == best_response(curves.subset([2]), price)[0]


def test_invoke_takes_the_pacers_quote(chain, curves, reasoner):
    ledger = Ledger(5000)
    pacer = Pacer(ledger=ledger, period=3600.0, price=0.004)
    runner = BudgetedRunnable(chain, budget=ledger, curves=by_query(curves), pacer=pacer)
    runner.invoke(1)
    assert reasoner.calls == [(1, int(best_response(curves.subset([1]), 0.004)[0]))]
    assert isinstance(runner.invoke(6), Abandoned)  # its break-even price is below 0.004
    assert len(reasoner.calls) == 1 and ledger.snapshot().reserved == 0


def test_invoke_abandons_when_the_budget_is_gone(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=10, curves=by_query(curves))
    out = runner.invoke(4)  # needs 120 tokens before it can succeed
    assert isinstance(out, Abandoned) and reasoner.calls == []


def test_stream_settles_when_the_stream_ends(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=500, curves=by_query(curves))
    text = "".join(runner.stream(1))
    assert text.startswith("Answer to #1")
    (_, cap), = reasoner.calls
    books = runner.ledger.snapshot()
    assert books.reserved == 0 and books.spent == reasoner.inner.answer(1, cap).tokens_used


async def test_ainvoke_and_astream(chain, curves, reasoner):
    runner = BudgetedRunnable(chain, budget=500, curves=by_query(curves))
    assert (await runner.ainvoke(0)).startswith("Answer to #0")
    chunks = [c async for c in runner.astream(1)]
    assert "".join(chunks).startswith("Answer to #1")
    truth = sum(reasoner.inner.answer(q, c).tokens_used for q, c in reasoner.calls)
    assert runner.ledger.snapshot().spent == truth and runner.ledger.snapshot().reserved == 0


def test_a_multi_call_chain_shares_its_inputs_grant(model, curves, reasoner):
    """An input whose chain calls the model twice: the second call gets what the first left."""
    wrapped = budgeted(model)
    chain = RunnableLambda(lambda q: [wrapped.invoke(prompt(q)), wrapped.invoke(prompt(q))])
    runner = BudgetedRunnable(chain, budget=400, curves=by_query(curves))
    runner.batch([0, 1, 2, 3, 4, 5, 6, 7], return_exceptions=True)
    for row in runner.last_report.inputs:
        if row.abandoned:
            continue
        calls = [cap for q, cap in reasoner.calls if q == row.index]
        first = reasoner.inner.answer(row.index, calls[0]).tokens_used
        assert calls[0] == row.cap
        if len(calls) == 2:
            assert calls[1] == row.cap - first
        assert row.output_tokens <= row.cap


def test_a_fitted_profile_sets_the_curve_shape(chain, curves):
    from clear_fast import Rollouts, fit_rollouts
    from clear_fast.workloads.simulated_model import SimulatedReasoner

    truth = SurgeCurves.from_peak(np.linspace(30, 300, 30), 0.8, 40.0, form="cumulative")
    runs = SimulatedReasoner(truth, seed=2)
    query, cap = np.meshgrid(np.arange(30), [60, 150, 400], indexing="ij")
    answers = [runs.answer(int(q), int(c)) for q, c in zip(query.ravel(), cap.ravel())]
    profile = fit_rollouts(
        Rollouts.from_arrays(
            query.ravel(), cap.ravel(), [a.tokens_used for a in answers],
            [a.finish_reason == "length" for a in answers], [a.correct for a in answers],
        ),
        max_evaluations=200,
    )
    runner = BudgetedRunnable(chain, budget=300, predictor=FixedPredictor(TAU, np.zeros(8)), profile=profile,
                              text_of=prompt)
    assert runner.width == 1.0 / profile.beta and runner.ceiling == profile.success_probability
    runner.batch(list(range(8)))
    reference = seeded_allocation(SurgeCurves.from_peak(TAU, profile.success_probability, 1.0 / profile.beta,
                                                        form="cumulative"), 300)
    assert [row.cap for row in runner.last_report.inputs] == reference.tolist()
