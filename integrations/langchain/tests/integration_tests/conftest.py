"""A real model for the live tests: SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible server.

The server is started once per session on a free port of 127.0.0.1 and stopped
by its pid. A missing server package or model file is a failure, not a skip:
these tests are part of CI.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.request

import pytest
from smollm2_server import INSTALL, free_port, model_path


@pytest.fixture(scope="session")
def smollm2_url(tmp_path_factory: pytest.TempPathFactory):
    """Base URL (``.../v1``) of a running SmolLM2 server; the server is killed at the end."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(f"llama-cpp-python is not installed; install it with: {INSTALL}")
    gguf = model_path()
    port = free_port()
    log_path = tmp_path_factory.mktemp("smollm2") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--seed", "0",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"the model server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:
                    if json.load(reply)["data"][0]["id"] == "smollm2":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the model server was not ready in 120 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
