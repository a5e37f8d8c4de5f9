"""The real-model benchmark, reduced: SmolLM2-135M behind llama.cpp, list repetition, rollouts to caps on the wire.

The full run is ``python benchmarks/bench_real_model.py`` (60 + 60 prompts, three
budgets, six policies); this one learns from 16 prompts of 2 to 12 words and
allocates 16 held-out ones at 10 tokens each under the same six policies, so it takes
one to two minutes on two cores (up to seven when other work crowds them). It asserts
what holds with a margin: the caps on the wire, no budget overspent, every CLEAR policy
at least Uniform (6 solved against 3 when it was written) and none above the Oracle;
the gap closed is the full benchmark's to measure.
"""

from __future__ import annotations

import pytest

from clear_fast.experiments.real_model import POLICIES, run_real_model_experiment

pytestmark = pytest.mark.live_model


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from support.local_model import LocalModelUnavailable, serve_smollm2

    try:
        with serve_smollm2(tmp_path_factory.mktemp("smollm2") / "server.log", threads=1) as url:
            yield run_real_model_experiment(
                url, train=16, heldout=16, budgets=(10,), seed=1, largest=12, train_caps=(48, 10, 20),
                reference_cap=48, policies=POLICIES,
            )
    except LocalModelUnavailable as missing:
        pytest.fail(str(missing))


def test_every_cap_went_out_on_the_wire_and_no_budget_was_overspent(experiment):
    assert [r.policy for r in experiment.runs] == list(POLICIES)
    for run in experiment.runs:
        assert run.caps_on_wire, run  # each request body carried max_tokens equal to its grant, nothing else sent
        assert run.overruns == 0, run  # the server honoured every max_tokens
        assert run.tokens_used <= run.budget == 160 and run.granted <= run.budget
    uniform = experiment.run("Uniform", 10)
    assert uniform.requests == 16 and uniform.granted == 160


def test_the_greedy_log_is_fitted_as_deterministic(experiment):
    fit = experiment.fit
    # a step at each answer's length, one token wide: never a degenerate width of a fraction of a token
    assert fit["decoding"] == "deterministic" and fit["width"] == pytest.approx(1.0)
    assert any("decoding looks deterministic" in note for note in fit["notes"])
    assert 0 < fit["solved_training_prompts"] < 16


def test_the_learnt_allocation_is_never_below_uniform_and_never_above_the_oracle(experiment):
    uniform, oracle = experiment.run("Uniform", 10).solved, experiment.run("Oracle", 10).solved
    assert uniform <= oracle <= experiment.reference["solvable"]
    for policy in [p for p in POLICIES if p not in ("Uniform", "Oracle")]:
        solved = experiment.run(policy, 10).solved
        assert uniform <= solved <= oracle, (policy, solved, uniform, oracle)
    # waves start from the risk-aware pass and only add to what it solved
    waves, first = experiment.run("RiskAware+solvability+waves", 10), experiment.run("RiskAware+solvability", 10)
    assert waves.solved >= first.solved and waves.tokens_used >= first.tokens_used
    # the predictor's chances separate the prompts the model can solve from those it cannot
    predictors = experiment.predictors
    assert predictors["mean_chance_solvable"] > predictors["mean_chance_unsolvable"]
