"""run_openai_waves through the real openai client: reruns of cut requests and funding of abandoned ones."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from clear_fast import SurgeCurves, run_openai_waves

# natural lengths the endpoint answers with; the predictions below are too low for the 2nd and 4th
NEEDS = [30, 80, 45, 120, 60, 40]
PREDICTED = [28.0, 40.0, 42.0, 60.0, 55.0, 38.0]


@pytest.fixture
def client(endpoint):
    return openai.AsyncOpenAI(base_url=endpoint.url, api_key="sk-test", max_retries=0)


def _prompts():
    return [f"task {i}: need {n}" for i, n in enumerate(NEEDS)]


def _curves():
    return SurgeCurves(PREDICTED, 0.9 / 25.0, 1 / 5.0, form="cumulative")


async def test_cut_requests_are_rerun_with_more_room_and_the_batch_keeps_its_budget(client, endpoint):
    first = np.array([35, 45, 50, 65, 0, 45])  # the 5th is abandoned, the 2nd and 4th will be cut
    result = await run_openai_waves(
        client, _prompts(), _curves(), 600, model="m", spread=0.3, first=first, cap_param="max_tokens",
        is_correct=lambda i, content: content == f"used {NEEDS[i]}",
    )
    assert result.passes[0].granted == first.sum() and len(result.passes) >= 2
    wave = result.passes[1]
    # every request on the wire is one a pass funded, with the cap it granted
    funded = [(_prompts()[o.index], o.cap) for p in result.passes for o in p.outcomes if not o.abandoned]
    assert sorted((b["messages"][0]["content"], b["max_tokens"]) for b in endpoint.bodies) == sorted(funded)
    # the wave runs only what the first pass cut or abandoned, the cut ones past their first cap
    waved = {o.index: o.cap for o in wave.outcomes if not o.abandoned}
    assert set(waved) <= {1, 3, 4} and waved
    for i, cap in waved.items():
        assert cap > first[i]
    assert result.spent <= 600 and wave.budget == 600 - result.passes[0].spent
    assert result.answered_correctly is not None and result.answered_correctly[[0, 2, 5]].all()
    assert result.answered_correctly.sum() > 3  # the first pass solved three; the waves won back more
    for i, outcome in enumerate(result.outcomes):
        assert outcome.index == i
        if result.answered_correctly[i]:
            assert outcome.content == f"used {NEEDS[i]}"


async def test_without_a_grader_finished_requests_are_done_and_a_tight_budget_stops_the_waves(client, endpoint):
    result = await run_openai_waves(client, _prompts(), _curves(), 200, model="m", cap_param="max_tokens")
    assert result.answered_correctly is None and result.spent <= 200
    firsts = {o.index for o in result.passes[0].outcomes if not o.abandoned and not o.cut_off}
    for later in result.passes[1:]:
        assert not firsts & {o.index for o in later.outcomes if not o.abandoned}
    assert len(endpoint.bodies) == sum(sum(1 for o in p.outcomes if not o.abandoned) for p in result.passes)


async def test_bad_wave_arguments(client, endpoint):
    with pytest.raises(ValueError, match="`max_waves` must be a whole number >= 0"):
        await run_openai_waves(client, _prompts(), _curves(), 200, model="m", max_waves=-1)
    with pytest.raises(ValueError, match="6 queries for 2 requests"):
        await run_openai_waves(client, _prompts()[:2], _curves(), 200, model="m")
    with pytest.raises(ValueError, match="over the budget of 100"):
        await run_openai_waves(client, _prompts(), _curves(), 100, model="m", first=[50] * 6)
    assert endpoint.bodies == []


async def test_each_pass_teaches_the_learner_and_its_curves_plan_the_next_wave(client, endpoint):
    first = np.array([35, 45, 50, 65, 65, 45])  # the 2nd and 4th are cut; the first pass spends 285
    seen = []

    def learn(outcome):
        seen.append(outcome)
        # what the pass taught: the 2nd query is hopeless, the 4th needs about 118 tokens
        ceilings = [0.9] * 6
        ceilings[1] = 1e-6
        return SurgeCurves([28.0, 40.0, 42.0, 118.0, 55.0, 38.0], np.array(ceilings) / 25.0, 1 / 5.0,
                           form="cumulative"), 0.02

    # 130 tokens left: enough for one rerun, the 2nd (cheap, as first predicted) or the 4th
    result = await run_openai_waves(
        client, _prompts(), _curves(), 415, model="m", spread=0.3, first=first, cap_param="max_tokens",
        is_correct=lambda i, content: content == f"used {NEEDS[i]}", learn=learn, max_waves=1,
    )
    assert len(seen) == 1 and len(result.passes) == 2  # after every pass that a wave may follow
    taught = seen[0]
    assert taught.caps.tolist() == first.tolist()
    assert taught.correct.tolist() == [True, False, True, False, True, True]
    assert taught.cut.tolist() == [False, True, False, True, False, False]
    assert taught.tokens_used.tolist() == [30, 45, 45, 65, 60, 40]
    waved = {o.index: o.cap for o in result.passes[1].outcomes if not o.abandoned}
    assert set(waved) == {3} and waved[3] >= 120  # the learnt curves decided the wave
    assert result.answered_correctly.tolist() == [True, False, True, True, True, True] and result.spent <= 415
    # without what the pass taught, the same leftover goes to the 2nd query, cheaper as first predicted
    control = await run_openai_waves(
        client, _prompts(), _curves(), 415, model="m", spread=0.3, first=first, cap_param="max_tokens",
        is_correct=lambda i, content: content == f"used {NEEDS[i]}", max_waves=1,
    )
    assert 1 in {o.index for o in control.passes[1].outcomes if not o.abandoned}
