"""OutcomeLearner: a batch's graded outcomes teach its predictors between waves."""

from __future__ import annotations

import numpy as np
import pytest

import clear_fast as cf
from clear_fast.estimators import OutcomeLearner, SolvabilityPredictor
from clear_fast.waves import PassOutcome, run_waves

from estimation_data import make_texts


def _outcome(caps, correct, used, cut):
    return PassOutcome(np.array(caps), None if correct is None else np.array(correct), np.array(used), np.array(cut))


def test_solved_queries_teach_thresholds_and_graded_ones_solvability(standard_fit):
    _, fit = standard_fit
    texts, _ = make_texts(5, seed=1)
    thresholds, solvable = cf.HistoryPredictor(), SolvabilityPredictor(prior=0.5)
    learner = OutcomeLearner(fit, texts, thresholds, solvable)
    before_curves, before_spread = learner.predictions()
    # query 0 solved in 310 tokens, 1 answered wrong with room to spare, 2 cut, 3 and 4 not run
    curves, spread = learner(_outcome([400, 400, 300, 0, 0], [True, False, False, False, False], [310, 120, 300, 0, 0],
                                      [False, False, True, False, False]))
    assert thresholds.n_observations == 1 and solvable.n_observations == 2
    assert thresholds.predict(texts[:1])[0][0] < before_curves.tau[0]  # pulled towards 310 from the prior's 400
    chance = curves.alpha / curves.beta**2
    assert chance[0] > 0.5 > chance[1]  # solved: more likely; wrong with room: less
    assert len(curves) == 5 and spread.shape == (5,) and not np.array_equal(spread, before_spread)
    # nothing graded, nothing learnt
    assert learner(_outcome([400] * 5, None, [100] * 5, [False] * 5)) is None
    assert learner(_outcome([0, 0, 300, 0, 0], [False] * 5, [0, 0, 300, 0, 0], [False, False, True, False, False])) is None
    assert thresholds.n_observations == 1


def test_waves_plan_with_what_each_pass_taught():
    beta = 1 / 10.0
    curves = cf.SurgeCurves([50.0, 50.0, 50.0], 0.9 * beta**2, beta, form="cumulative")
    natural, knows = np.array([60, 90, 70]), np.array([True, True, False])

    def answer(caps):
        return knows & (natural <= caps) & (caps > 0), np.minimum(caps, natural), natural > caps

    seen = []

    def learn(outcome):
        seen.append(outcome)
        # after the first pass: the third query is hopeless, the others need more than thought
        return cf.SurgeCurves([85.0, 85.0, 85.0], [0.9 * beta**2, 0.9 * beta**2, 1e-9 * beta**2], beta, form="cumulative"), 0.05

    result = run_waves(answer, curves, 0.1, 400, np.array([65, 65, 65]), max_waves=2, learn=learn)
    assert len(seen) == result.passes - 1 >= 1  # after every pass but the last
    first = seen[0]
    assert first.caps.tolist() == [65, 65, 65] and first.correct.tolist() == [True, False, False]
    assert first.cut.tolist() == [False, True, True] and first.tokens_used.tolist() == [60, 65, 65]
    assert result.caps[1][2] == 0 and result.caps[1][1] > 65  # the learnt curves decided the wave
    assert result.correct.tolist() == [True, True, False] and result.spent <= 400


def test_bad_learner_arguments_are_refused(standard_fit):
    _, fit = standard_fit
    with pytest.raises(TypeError, match="`fit` must be a FitResult"):
        OutcomeLearner(object(), ["a"], cf.HistoryPredictor())
    with pytest.raises(TypeError, match="`thresholds` must have predict and update"):
        OutcomeLearner(fit, ["a"], object())
