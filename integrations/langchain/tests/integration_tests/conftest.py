"""A real model for the live tests: SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible server.

The server is started once per session on a free port of 127.0.0.1 and stopped
by its pid. A missing server package or model file is a failure, not a skip:
these tests are part of CI.
"""

from __future__ import annotations

import pytest

from support.local_model import LocalModelUnavailable, serve_smollm2


@pytest.fixture(scope="session")
def smollm2_url(tmp_path_factory: pytest.TempPathFactory):
    """Base URL (``.../v1``) of a running SmolLM2 server; the server is killed at the end."""
    try:
        with serve_smollm2(tmp_path_factory.mktemp("smollm2") / "server.log") as url:
            yield url
    except LocalModelUnavailable as missing:
        pytest.fail(str(missing))

from support.network import network_off  # noqa: E402,F401  (autouse: only 127.0.0.1 is reachable)
from support.openai_endpoint import endpoint  # noqa: E402,F401  (the recording OpenAI-compatible endpoint)
