"""Running the demo's caps through a real LangChain chain with the simulated reasoning model.

``clear-fast demo`` uses this module when the integration is installed (the
core package never imports LangChain). The demo's numbers come from a direct simulation, which is fast. To show that
the same caps behave the same way when they travel the way a user's would (a
prompt, a chat model whose ``max_tokens`` is set per input through the config,
an output parser), funded queries are also run through
``prompt | model | parser`` and the realised answers are compared with the
direct simulation, query by query. A chain call costs about a millisecond of
LangChain bookkeeping, most of the demo's time; a fixed sample of each
stream's queries can be sent instead for a quicker run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

CAP_FIELD = "max_tokens"


@dataclass(frozen=True)
class ChainRun:
    """What came back from the chain for one set of caps.

    Attributes
    ----------
    queries : ndarray of int64, shape (k,)
        The queries offered to the chain (the sample), whether sent or not.
    correct : ndarray of bool, shape (k,)
        Parsed from each answer's text; False for queries not sent.
    tokens_used : ndarray of int64, shape (k,)
        Output tokens reported in each answer's usage; 0 for queries not sent.
    calls : int
        Model calls made (abandoned queries, with cap 0, are never sent).
    """

    queries: NDArray[np.int64]
    correct: NDArray[np.bool_]
    tokens_used: NDArray[np.int64]
    calls: int


def _parse_answer(message: Any) -> dict[str, Any]:
    """The output parser: was the answer right, and how many tokens did it take."""
    text = message.content if isinstance(message.content, str) else ""
    return {"correct": text.endswith(": correct"), "tokens": int(message.usage_metadata["output_tokens"])}


def build_chain(reasoner: Any, problems: Any) -> Any:
    """``prompt | simulated chat model (per-input max_tokens) | parser`` over ``reasoner``.

    ``problems[i]`` is the text of query ``i``; it starts with ``Problem #i``,
    which is how the simulated model knows which query it is answering.
    """
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import ConfigurableField, RunnableLambda

    from .simulated_chat_model import SimulatedReasoningChatModel

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Think step by step, then give the final answer."), ("human", "{problem}")]
    )
    model = SimulatedReasoningChatModel(reasoner=reasoner).configurable_fields(
        max_tokens=ConfigurableField(id=CAP_FIELD, name="max tokens", description="per-input length cap")
    )
    texts = tuple(problems)
    to_prompt_input: Any = RunnableLambda(lambda query: {"problem": texts[query["query"]]})
    return to_prompt_input | prompt | model | RunnableLambda(_parse_answer)


def run_caps(chain: Any, caps: NDArray[np.int64], queries: NDArray[np.int64]) -> ChainRun:
    """Send each of ``queries`` whose cap is > 0 through ``chain`` with that cap; never send the others."""
    queries = np.asarray(queries, dtype=np.int64)
    correct = np.zeros(queries.shape[0], dtype=np.bool_)
    tokens = np.zeros(queries.shape[0], dtype=np.int64)
    sent = np.flatnonzero(caps[queries] > 0)
    for k in sent:
        # One invoke per input, each with its own cap in the config. Not `batch`: the simulated
        # model is CPU-bound Python, so batch's thread pool adds overhead and no parallelism.
        answer = chain.invoke({"query": int(queries[k])}, {"configurable": {CAP_FIELD: int(caps[queries[k]])}})
        correct[k] = answer["correct"]
        tokens[k] = answer["tokens"]
    return ChainRun(queries=queries, correct=correct, tokens_used=tokens, calls=int(sent.size))


def mismatches(run: ChainRun, reasoner: Any, caps: NDArray[np.int64]) -> int:
    """How many of the run's queries the chain answered differently from the direct simulation (should be 0)."""
    correct, tokens_used, _ = reasoner.answer_many(caps)
    expected_tokens = np.where(caps > 0, tokens_used, 0)[run.queries]
    return int(np.count_nonzero((run.correct != correct[run.queries]) | (run.tokens_used != expected_tokens)))
