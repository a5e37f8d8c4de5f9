"""Fixtures of the estimation tests: one shared fit, and a real local model for the self-estimate test."""

from __future__ import annotations

import pytest

from estimation_data import make_rollouts


@pytest.fixture(scope="session")
def standard_fit():
    """One fit shared by several tests (fitting takes seconds on a busy machine)."""
    from clear_fast.fit import Rollouts, fit_rollouts

    data = make_rollouts(seed=11)
    result = fit_rollouts(Rollouts.from_arrays(data.query, data.cap, data.tokens, data.cut, data.correct))
    return data, result


@pytest.fixture(scope="module")
def smollm2_base_url(tmp_path_factory):
    """A real small chat model (SmolLM2-135M-Instruct) behind llama-cpp-python's OpenAI-compatible server.

    Started on a free port of 127.0.0.1 and stopped by its process at the end. A missing
    server package or model file fails the test: it is part of the suite, not optional.
    """
    from support.local_model import LocalModelUnavailable, serve_smollm2

    try:
        with serve_smollm2(tmp_path_factory.mktemp("smollm2") / "server.log") as url:
            yield url
    except LocalModelUnavailable as missing:
        pytest.fail(str(missing))
