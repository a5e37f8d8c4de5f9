"""The model-call names in clear_fast's public API, and what importing clear_fast does not pull in."""

import subprocess
import sys

import clear_fast

MODEL_CALLS = {
    "OpenAIBatchResult",
    "OpenAIWavesResult",
    "RequestOutcome",
    "grants_to_requests",
    "request_fields",
    "run_openai_batch",
    "run_openai_levels",
    "run_openai_waves",
    "write_batch_jsonl",
}


def test_model_call_names_are_public():
    assert MODEL_CALLS <= set(clear_fast.__all__)
    assert all(hasattr(clear_fast, name) for name in MODEL_CALLS)


def test_importing_clear_fast_imports_no_client_library():
    code = (
        "import sys, clear_fast; "
        "loaded = sorted(m for m in ('openai', 'langchain_core', 'httpx', 'httpx2') if m in sys.modules); "
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
