"""The demo's targets for RiskAware+waves, on its own streams (500 queries each, seed 0) at every budget.

At every budget from 100 to 1500 tokens per query, on all four streams: at least
Uniform's accuracy, at least the paper's CLEAR accuracy, and on the tokens-used plot
no point below Uniform's curve (read at the same number of tokens used).
"""

from __future__ import annotations

import numpy as np
import pytest

from clear_fast.evaluation import DEFAULT_PREDICTOR_SIGMA, PAPER_BUDGETS_PER_QUERY, UniformPolicy, WavesPolicy, evaluate
from clear_fast.workloads import STREAM_SHAPES, make_stream, paper_data


@pytest.mark.parametrize("shape", STREAM_SHAPES)
def test_waves_meet_uniform_and_the_papers_clear_at_every_budget(shape):
    stream = make_stream(shape, 500, seed=0)
    result = evaluate(stream, [UniformPolicy(), WavesPolicy(DEFAULT_PREDICTOR_SIGMA)], PAPER_BUDGETS_PER_QUERY, reasoner_seed=0)
    uniform = [r for r in result.rows if r.policy == "Uniform"]
    waves = [r for r in result.rows if r.policy == "RiskAware+waves"]
    paper = dict(zip(PAPER_BUDGETS_PER_QUERY, paper_data()["clear_vs_uniform"][shape]["clear"]))
    used = np.array([r.tokens_used for r in uniform], dtype=float)
    for ours, theirs in zip(waves, uniform):
        assert ours.budget_per_query == theirs.budget_per_query
        assert ours.accuracy >= theirs.accuracy, ours
        assert 100 * ours.accuracy >= paper[ours.budget_per_query] - 1e-9, ours
        assert ours.tokens_used <= ours.budget
        at_same_tokens = np.interp(ours.tokens_used, used, [r.accuracy for r in uniform])
        assert ours.accuracy >= at_same_tokens - 1e-12, (ours, at_same_tokens)
