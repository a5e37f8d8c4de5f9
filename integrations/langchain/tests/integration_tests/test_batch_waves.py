"""Waves: a batch's leftover reinvested in the inputs its first pass abandoned or cut at their cap.

A real ChatOpenAI on the recording endpoint: an answer needs the tokens the prompt
names ("need 260") and one cut at its cap ends with finish_reason "length". The
predictor guesses the same threshold for every input, too low for some, so the
first pass cuts them while the short ones leave tokens unspent. Every test checks
on the wire that each pass sent the caps it granted, that nothing answered in full
was sent again, that no pass spent more than what the earlier ones left, and that
the ledger charged what the server billed, to the token.
"""

from __future__ import annotations

import contextlib
import io
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import clear_fast as cf
import numpy as np
import openai
import pytest
from clear_fast.evaluation import WavesPolicy
from langchain_clear_fast import Abandoned, BudgetedBatchError, BudgetedRunnable, Waves, budgeted, curves_from_prediction
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel
from support.openai_endpoint import RecordingEndpoint
from wire import Runs, assert_books, billed, caps, chat

NEEDS = [40, 260, 60, 300, 50, 240, 70, 420, 45, 280, 55, 200]
INPUTS = [{"i": i, "need": n} for i, n in enumerate(NEEDS)]


def guess() -> cf.ConstantPrior:
    """Every input looks alike to it: the long ones get cut. (A fresh one per runner: it learns.)"""
    return cf.ConstantPrior(tau=120, spread=0.5)


def chain_for(endpoint: RecordingEndpoint, template: str = "task {i}: need {need}") -> Any:
    return ChatPromptTemplate.from_template(template) | budgeted(chat(endpoint)) | StrOutputParser()


def runner_for(endpoint: RecordingEndpoint, budget: int, waves: Any, **options: Any) -> BudgetedRunnable:
    return BudgetedRunnable(chain_for(endpoint), budget=budget, predictor=guess(), width=30, waves=waves, **options)


@contextmanager
def another_endpoint() -> Iterator[RecordingEndpoint]:
    """A second recording endpoint, so each run's bill is its own."""
    server = RecordingEndpoint()
    try:
        yield server
    finally:
        server.close()


def in_full(outputs: list[Any], xs: list[dict]) -> set[int]:
    return {i for i, (out, x) in enumerate(zip(outputs, xs)) if out == f"used {x['need']}"}


def assert_passes_on_the_wire(endpoint: RecordingEndpoint, report: Any, xs: list[dict]) -> None:
    """Each input's requests carried its caps of each pass, in order; every request but its last was cut;
    each pass granted at most what the earlier ones left; the report's tokens are the server's bill."""
    for x, row in zip(xs, report.inputs):
        sent = caps(endpoint, f"task {x['i']}: need")
        assert sent == [cap for cap in row.caps if cap > 0], (x, row)
        assert [pass_.inputs[x["i"]].cap for pass_ in report.passes] == list(row.caps)
        assert all(cap < x["need"] for cap in sent[:-1]), (x, sent)  # an answer in full is never sent again
        assert sent == sorted(set(sent))  # a rerun gets a larger cap
        assert billed(endpoint, f"task {x['i']}: need") == row.output_tokens
    spent_before = 0
    for k, pass_ in enumerate(report.passes):
        if k:
            assert pass_.budget == report.budget - spent_before  # a wave spends the leftover, no more
        assert pass_.granted <= pass_.budget
        spent_before += pass_.spent
    assert report.spent == spent_before == endpoint.billed_tokens <= report.budget


# --- more answered in full at the same budget ----------------------------------------------


@pytest.mark.parametrize("budget", [1_200, 1_800, 2_400, 3_000])
def test_waves_answer_more_in_full_at_the_same_budget(endpoint, budget):
    runner = runner_for(endpoint, budget, waves=3)
    outputs = runner.batch(INPUTS)
    report = runner.last_report
    assert_passes_on_the_wire(endpoint, report, INPUTS)
    assert_books(runner.ledger, endpoint)
    with another_endpoint() as alone:
        single = runner_for(alone, budget, waves=None)
        single_outputs = single.batch(INPUTS)
        assert_books(single.ledger, alone)
        assert single.last_report.passes == ()
    # The first pass is the single-pass run; the waves only add to it.
    assert [row.cap for row in report.passes[0].inputs] == [row.cap for row in single.last_report.inputs]
    assert in_full(single_outputs, INPUTS) <= in_full(outputs, INPUTS)
    if budget in (1_800, 2_400):
        assert len(in_full(outputs, INPUTS)) >= len(in_full(single_outputs, INPUTS)) + 3
    assert report.waves >= 1 and all(pass_.funded for pass_ in report.passes[1:])
    for i, (out, x) in enumerate(zip(outputs, INPUTS)):  # results keep input order
        assert isinstance(out, Abandoned) or out.startswith("used ") and int(out.split()[1]) <= x["need"]


def test_a_policy_object_and_zero_waves(endpoint):
    runner = runner_for(endpoint, 2_400, waves=WavesPolicy(0.5, max_waves=1))
    runner.batch(INPUTS)
    assert runner.waves == Waves(1, "deterministic") and len(runner.last_report.passes) == 2
    assert_passes_on_the_wire(endpoint, runner.last_report, INPUTS)
    with another_endpoint() as other:
        none = runner_for(other, 2_400, waves=0)
        none.batch(INPUTS)
        assert len(none.last_report.passes) == 1 and none.last_report.rerun == 0
        assert_passes_on_the_wire(other, none.last_report, INPUTS)
        assert_books(none.ledger, other)
    assert_books(runner.ledger, endpoint)


# --- async, and outputs as they complete --------------------------------------------------


async def test_abatch_runs_the_same_waves(endpoint):
    runner = runner_for(endpoint, 2_400, waves=3)
    outputs = await runner.abatch(INPUTS)
    report = runner.last_report
    assert_passes_on_the_wire(endpoint, report, INPUTS)
    assert_books(runner.ledger, endpoint)
    with another_endpoint() as other:
        sync = runner_for(other, 2_400, waves=3)
        assert sync.batch(INPUTS) == outputs
        assert [row.caps for row in sync.last_report.inputs] == [row.caps for row in report.inputs]


def test_batch_as_completed_hands_out_each_input_once_final(endpoint):
    runner = runner_for(endpoint, 2_400, waves=3)
    pairs = list(runner.batch_as_completed(INPUTS))
    assert sorted(i for i, _ in pairs) == list(range(len(INPUTS)))  # each once
    report = runner.last_report
    assert_passes_on_the_wire(endpoint, report, INPUTS)
    assert_books(runner.ledger, endpoint)
    with another_endpoint() as other:
        reference = runner_for(other, 2_400, waves=3).batch(INPUTS)
    assert dict(pairs) == dict(enumerate(reference))
    # Answers in full in the first pass come before any rerun's answer.
    first_done = [i for i, row in enumerate(report.inputs) if row.caps[0] and not report.passes[0].inputs[i].cut_off]
    reran = [i for i, row in enumerate(report.inputs) if row.reruns]
    order = [i for i, _ in pairs]
    assert reran and max(order.index(i) for i in first_done) < min(order.index(i) for i in reran)


async def test_abatch_as_completed_hands_out_each_input_once_final(endpoint):
    runner = runner_for(endpoint, 2_400, waves=3)
    pairs = [pair async for pair in runner.abatch_as_completed(INPUTS)]
    assert sorted(i for i, _ in pairs) == list(range(len(INPUTS)))
    assert_passes_on_the_wire(endpoint, runner.last_report, INPUTS)
    assert_books(runner.ledger, endpoint)


# --- a grader --------------------------------------------------------------------------------


def test_a_graded_answer_is_never_rerun(endpoint):
    accepted_though_cut = {3, 7}  # the grader accepts these answers although they were cut at their cap

    def is_correct(x: dict, output: str) -> bool:
        return x["i"] in accepted_though_cut or output == f"used {x['need']}"

    runner = runner_for(endpoint, 2_400, waves=Waves(3, is_correct=is_correct))
    outputs = runner.batch(INPUTS)
    report = runner.last_report
    for i in accepted_though_cut:
        assert report.passes[0].inputs[i].cut_off and len(caps(endpoint, f"task {i}: need")) == 1
        assert report.inputs[i].correct is True and report.inputs[i].reruns == 0
    assert report.rerun >= 1
    for i, row in enumerate(report.inputs):
        if row.caps[0] or row.reruns or any(row.caps):
            assert row.correct == (i in accepted_though_cut or outputs[i] == f"used {NEEDS[i]}")
        else:
            assert row.correct is None and isinstance(outputs[i], Abandoned)
    for x, row in zip(INPUTS, report.inputs):
        assert caps(endpoint, f"task {x['i']}: need") == [cap for cap in row.caps if cap > 0]
    assert_books(runner.ledger, endpoint)


# --- the caller's config reaches the reruns -------------------------------------------------


def test_reruns_get_the_callers_callbacks_tags_and_metadata_in_one_run(endpoint):
    runs = Runs()
    runner = runner_for(endpoint, 2_400, waves=3)
    runner.batch(INPUTS, {"callbacks": [runs], "tags": ["eval"], "metadata": {"experiment": "w1"}})
    report = runner.last_report
    (batch_run,) = [rid for rid, run in runs.started.items() if run["name"] == "BudgetedRunnable"]
    chat_runs = [run for rid, run in runs.started.items() if run["name"] == "chat"]
    assert len(chat_runs) == len(endpoint.bodies) == sum(sum(cap > 0 for cap in row.caps) for row in report.inputs)
    assert all(runs.root_of(rid) == batch_run for rid, run in runs.started.items() if run["name"] == "chat")
    assert all("eval" in run["tags"] and run["metadata"]["experiment"] == "w1" for run in chat_runs)
    assert sorted(run["cap"] for run in chat_runs) == sorted(c for row in report.inputs for c in row.caps if c)
    allocation = runs.ended[batch_run]["clear_fast_allocation"]
    assert [wave["grants"] for wave in allocation["waves"]] == [
        [row.cap for row in pass_.inputs] for pass_ in report.passes[1:]]
    assert allocation["spent"] == report.spent == endpoint.billed_tokens
    assert_books(runner.ledger, endpoint)


# --- failures: unchanged semantics; a failure caused by the cap is rerun ----------------------


def test_a_failed_input_is_not_rerun_and_return_exceptions_holds(endpoint):
    xs = [dict(x) for x in INPUTS]
    xs[7]["i"] = "7 FAIL"  # HTTP 400 on purpose; its need would otherwise get it cut
    runner = runner_for(endpoint, 2_400, waves=3)
    outputs = runner.batch(xs, return_exceptions=True)
    assert isinstance(outputs[7], openai.BadRequestError) and len(endpoint.bodies_for("task 7 FAIL")) == 1
    assert "400 - refused on purpose" in runner.last_report.inputs[7].error and runner.last_report.rerun >= 1
    assert_books(runner.ledger, endpoint)
    with another_endpoint() as other:
        raising = runner_for(other, 2_400, waves=3)
        with pytest.raises(BudgetedBatchError) as caught:
            raising.batch(xs)
        assert isinstance(caught.value.outputs[7], openai.BadRequestError)
        assert caught.value.outputs[:7] + caught.value.outputs[8:] == outputs[:7] + outputs[8:]
        assert_books(raising.ledger, other)


class Answer(BaseModel):
    setup: str
    punchline: str


def test_structured_output_cut_at_its_cap_is_rerun_with_room(endpoint):
    model = budgeted(chat(endpoint))
    chain = ChatPromptTemplate.from_template("joke {i}: 'cat' need {need}") | model.with_structured_output(Answer)
    xs = [{"i": i, "need": n} for i, n in enumerate([30, 35, 150, 40, 45])]
    runner = BudgetedRunnable(chain, budget=600, curves=lambda x: cf.SurgeCurves.from_peak(
        [40.0], 1.0, 10.0, form="cumulative"), waves=2)
    outputs = runner.batch(xs, return_exceptions=True)
    report = runner.last_report
    first = report.passes[0].inputs[2]
    assert first.cut_off and first.error.startswith("LengthFinishReasonError")
    assert isinstance(outputs[2], Answer) and report.inputs[2].reruns == 1 and report.inputs[2].error is None
    sent = caps(endpoint, "joke 2:")
    assert sent == [cap for cap in report.inputs[2].caps if cap] and sent[0] < 150 <= sent[1]
    assert all(isinstance(out, Answer) for out in outputs)
    assert_books(runner.ledger, endpoint)


# --- fallbacks run last, for the inputs no pass funded ---------------------------------------


def test_fallbacks_run_after_the_waves_for_inputs_never_funded(endpoint):
    xs = [{"i": i, "need": n} for i, n in enumerate(NEEDS * 2)]
    cheap = chain_for(endpoint, "short answer {i}: need {need}")
    runner = BudgetedRunnable(chain_for(endpoint), budget=2_400, predictor=guess(), width=30, waves=3,
                              on_abandon=cheap, fallback_tokens=20)
    outputs = runner.batch(xs)
    report = runner.last_report
    first = report.passes[0]
    abandoned_first = [i for i, row in enumerate(first.inputs) if row.abandoned]
    funded_later = [i for i in abandoned_first if any(report.inputs[i].caps[1:])]
    never = [i for i in abandoned_first if i not in funded_later]
    assert funded_later and never and len(report.passes) >= 3
    for i in funded_later:  # a wave ran it through the chain: its fallback never ran
        assert caps(endpoint, f"short answer {i}:") == [] and not report.inputs[i].fallback
    for i in never:
        assert caps(endpoint, f"short answer {i}:") == [20] and caps(endpoint, f"task {i}:") == []
        assert report.inputs[i].fallback and outputs[i] == f"used {min(20, xs[i]['need'])}"
    chain_spent = [sum(row.output_tokens for row in pass_.inputs if not row.fallback) for pass_ in report.passes]
    for k, pass_ in enumerate(report.passes[1:], 1):  # the waves never touch an allowance still held
        held = [i for i in abandoned_first if not any(report.inputs[i].caps[1:k])]
        assert pass_.budget == report.budget - sum(chain_spent[:k]) - 20 * len(held)
    assert report.spent == endpoint.billed_tokens <= 2_400
    assert_books(runner.ledger, endpoint)


# --- what the predictor learns ------------------------------------------------------------------


class Learning(cf.ConstantPrior):
    """The constant guess, keeping what the runner teaches it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.taught: list[cf.Observation] = []

    def update(self, observations):
        self.taught.extend(observations)


def test_the_predictor_learns_each_inputs_last_run(endpoint):
    predictor = Learning(tau=120, spread=0.5)
    runner = BudgetedRunnable(chain_for(endpoint), budget=2_400, predictor=predictor, width=30, waves=3)
    runner.batch(INPUTS)
    report = runner.last_report
    taught = {seen.text: seen for seen in predictor.taught}
    ran = [row for row in report.inputs if not row.abandoned]
    assert len(predictor.taught) == len(taught) == len(ran)
    for row, x in zip(report.inputs, INPUTS):
        if row.abandoned:
            continue
        seen = taught[runner.text_of(x)]
        last_cap = [cap for cap in row.caps if cap][-1]
        assert seen.censored == (x["need"] > last_cap)
        assert seen.tau == (last_cap if seen.censored else x["need"])


# --- refused before anything is sent ------------------------------------------------------------


def test_bad_waves_are_refused_by_name(endpoint):
    chain = chain_for(endpoint)
    with pytest.raises(ValueError, match="max_waves"):
        BudgetedRunnable(chain, budget=100, waves=-1)
    with pytest.raises(ValueError, match="decoding"):
        BudgetedRunnable(chain, budget=100, waves=Waves(2, decoding="greedy"))
    with pytest.raises(TypeError, match="is_correct"):
        Waves(2, is_correct="yes")
    with pytest.raises(TypeError, match="waves"):
        BudgetedRunnable(chain, budget=100, waves="three")
    peaked = BudgetedRunnable(chain, budget=1_000, waves=2, curves=lambda x: cf.SurgeCurves.from_peak(
        [50.0], 1.0, 20.0, form="surge"))
    with pytest.raises(ValueError, match="cumulative"):
        peaked.batch(INPUTS[:3])
    assert endpoint.bodies == [] and peaked.ledger.snapshot().spent == 0 and peaked.ledger.snapshot().reserved == 0


async def test_an_empty_batch_with_waves(endpoint):
    runner = runner_for(endpoint, 500, waves=2)
    assert runner.batch([]) == [] and await runner.abatch([]) == [] and list(runner.batch_as_completed([])) == []
    assert len(runner.last_report.passes) == 1 and endpoint.bodies == []
    assert_books(runner.ledger, endpoint)


# --- the worked example of docs/integrations.md runs as printed ---------------------------------

DOCS = Path(__file__).resolve().parents[4] / "docs" / "integrations.md"


def test_the_documented_example_prints_what_the_docs_show(endpoint, monkeypatch):
    section = DOCS.read_text().split("### Waves: reinvest what the first pass did not use", 1)[1].split("\n### ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    questions = [{"question": f"task {i}: need {n}", "expected": f"used {n}"} for i, n in enumerate(NEEDS)]
    namespace: dict[str, Any] = {"questions": questions}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(DOCS), "exec"), namespace)
    assert printed.getvalue() == shown
    runner = namespace["runner"]
    assert sum(a == q["expected"] for a, q in zip(namespace["answers"], questions)) == 10
    assert_passes_on_the_wire(endpoint, runner.last_report, INPUTS)
    assert_books(runner.ledger, endpoint)


# --- each wave's grants are clear_fast.next_wave on what the earlier passes left ----------------


def test_each_waves_grants_are_next_wave_on_the_leftover(endpoint):
    runner = runner_for(endpoint, 2_400, waves=3)
    runner.batch(INPUTS)
    report = runner.last_report
    prior = guess()
    tau, spread = prior.predict([runner.text_of(x) for x in INPUTS])
    curves = curves_from_prediction(tau, width=30, max_tokens=float(runner.max_tokens))
    tried = np.zeros(len(INPUTS), dtype=np.int64)
    cut = np.zeros(len(INPUTS), dtype=bool)
    for k, pass_ in enumerate(report.passes):
        grants = np.array([row.cap for row in pass_.inputs])
        if k:
            reference = cf.next_wave(curves, spread, pass_.budget, tried=tried, cut=cut, correct=~cut & (tried > 0))
            assert grants.tolist() == reference.tokens.tolist()
        ran = grants > 0
        tried = np.where(ran, grants, tried)
        cut = np.where(ran, [x["need"] > g for x, g in zip(INPUTS, grants)], cut)
    assert len(report.passes) >= 3
    assert_books(runner.ledger, endpoint)
