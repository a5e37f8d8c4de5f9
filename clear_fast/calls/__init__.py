"""Model calls: the request fields that apply a cap, and budgeted batches through the openai client.

* :mod:`.providers` - each provider's spelling of a length cap and reasoning knob
  (:func:`request_fields`, :func:`grants_to_requests`, :func:`split_thinking`).
* :mod:`.openai_runner` - :func:`run_openai_batch` and :func:`run_openai_levels`
  send the funded requests of a batch through ``openai.AsyncOpenAI`` and settle
  the usage on a ledger; :func:`run_openai_waves` reinvests what a pass did not use;
  :func:`write_batch_jsonl` writes a Batch API file.

Nothing here imports a client library: the openai client is used by duck typing,
and LangChain's attribute names live in the LangChain integration.
"""

from .openai_runner import (
    OpenAIBatchResult,
    OpenAIWavesResult,
    RequestOutcome,
    run_openai_batch,
    run_openai_levels,
    run_openai_waves,
    write_batch_jsonl,
)
from .providers import (
    ANTHROPIC_MIN_THINKING,
    EFFORT_LEVELS,
    OPENAI_CAP_PARAMS,
    PROVIDERS,
    ThinkingSplit,
    grants_to_requests,
    level_names,
    request_fields,
    split_thinking,
)

__all__ = [
    "ANTHROPIC_MIN_THINKING",
    "EFFORT_LEVELS",
    "OPENAI_CAP_PARAMS",
    "PROVIDERS",
    "OpenAIBatchResult",
    "OpenAIWavesResult",
    "RequestOutcome",
    "ThinkingSplit",
    "grants_to_requests",
    "level_names",
    "request_fields",
    "run_openai_batch",
    "run_openai_levels",
    "run_openai_waves",
    "split_thinking",
    "write_batch_jsonl",
]
