"""The real-model benchmark, reduced: SmolLM2-135M behind llama.cpp, list repetition, rollouts to caps on the wire.

The full run is ``python benchmarks/bench_real_model.py`` (60 + 60 prompts, three
budgets, six policies); this one learns from 16 prompts of 2 to 12 words and
allocates 16 held-out ones at 10 tokens each, so it takes a couple of minutes.
"""

from __future__ import annotations

import pytest

from clear_fast.experiments.real_model import run_real_model_experiment

pytestmark = pytest.mark.live_model

POLICIES = ("Uniform", "RiskAware+solvability", "RiskAware+solvability+waves", "Oracle")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    from support.local_model import LocalModelUnavailable, serve_smollm2

    try:
        with serve_smollm2(tmp_path_factory.mktemp("smollm2") / "server.log") as url:
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
    assert fit["decoding"] == "deterministic" and fit["width"] > 1.0
    assert any("decoding looks deterministic" in note for note in fit["notes"])
    assert 0 < fit["solved_training_prompts"] < 16


def test_the_learnt_allocation_is_never_below_uniform_and_never_above_the_oracle(experiment):
    uniform, oracle = experiment.run("Uniform", 10).solved, experiment.run("Oracle", 10).solved
    assert uniform <= oracle <= experiment.reference["solvable"]
    for policy in ("RiskAware+solvability", "RiskAware+solvability+waves"):
        solved = experiment.run(policy, 10).solved
        assert uniform <= solved <= oracle, (policy, solved, uniform, oracle)
    # the predictor's chances separate the prompts the model can solve from those it cannot
    predictors = experiment.predictors
    assert predictors["mean_chance_solvable"] > predictors["mean_chance_unsolvable"]
