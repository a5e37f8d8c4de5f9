"""A LangChain chat model that behaves like a reasoning model with a known curve.

Tests and demos need a model that (1) really stops at ``max_tokens``, (2) reports
usage the way provider models do, with reasoning tokens broken out, and (3) solves
a query with the probability its utility curve says. langchain-core's fake models
do none of these, so this one wraps :class:`clear_fast.SimulatedReasoner`
(or any object with the same ``answer(query, cap)`` method).

Which query a call is about is read from the prompt: by default the first
``#<number>`` in the last message (``"Solve problem #17"`` is query 17), the tag
:func:`clear_fast.make_stream` writes into each query's text.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from clear_fast import SimulatedReasoner
from clear_fast.workloads import query_from_tag
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

# Tokens of visible answer text after the hidden reasoning: a short final line.
_ANSWER_TOKENS = 4


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


class SimulatedReasoningChatModel(BaseChatModel):
    """Chat model whose answers follow each query's utility curve.

    Parameters
    ----------
    reasoner : object
        Has ``answer(query, cap) -> SimulatedAnswer`` (fields ``correct``,
        ``tokens_used``, ``finish_reason``, ``natural_length``).
    max_tokens : int, optional
        Length cap per call; None means uncapped (then ``context_limit`` is the
        only limit). A ``max_tokens`` call argument takes precedence, as with
        provider models.
    context_limit : int, default 32768
        Tokens an uncapped call may run to.
    query_of : callable, default :func:`query_from_tag`
        Maps the last message's text to a query index.
    model_name : str
        Reported as ``model_name`` in the response metadata.

    Notes
    -----
    Each reply's ``usage_metadata`` has ``output_tokens`` = tokens used (at most
    the cap) with ``output_token_details["reasoning"]`` all but the short visible
    answer; ``response_metadata`` has ``finish_reason`` ("stop" or "length"),
    ``correct`` and ``natural_length``. Streaming yields the answer word by word,
    then usage on the last chunk.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reasoner: Any
    max_tokens: int | None = None
    context_limit: int = 32768
    query_of: Callable[[str], int] = Field(default=query_from_tag, exclude=True)
    model_name: str = "simulated-reasoner"

    @classmethod
    def from_curves(cls, curves: Any, *, seed: int = 0, **kwargs: Any) -> "SimulatedReasoningChatModel":
        """Build the model over ``SimulatedReasoner(curves, seed=seed)``.

        Parameters
        ----------
        curves : SurgeCurves
            Query ``i`` follows curve ``i``.
        seed : int, default 0
            Seed of the simulated model's randomness.
        **kwargs
            Other fields (``max_tokens``, ``context_limit``, ...).
        """
        return cls(reasoner=SimulatedReasoner(curves, seed=seed), **kwargs)

    @property
    def _llm_type(self) -> str:
        return "simulated-reasoning-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "max_tokens": self.max_tokens}

    def _cap(self, kwargs: dict[str, Any]) -> int:
        cap = kwargs.get("max_tokens", self.max_tokens)
        if cap is None:
            return self.context_limit
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            # Real endpoints reject a cap of 0 or less; so does this one.
            raise ValueError(f"`max_tokens` must be a whole number >= 1, got {cap!r}")
        return min(cap, self.context_limit)

    def _respond(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> AIMessage:
        if not messages:
            raise ValueError("`messages` must not be empty")
        prompt = _message_text(messages[-1])
        query = self.query_of(prompt)
        answer = self.reasoner.answer(query, self._cap(kwargs))
        used = int(answer.tokens_used)
        if answer.finish_reason == "stop":
            content = f"Answer to #{query}: {'correct' if answer.correct else 'wrong'}"
            visible = min(_ANSWER_TOKENS, used)
        else:
            content = ""  # cut off while still reasoning: no answer was written
            visible = 0
        input_tokens = sum(len(_message_text(m).split()) for m in messages)
        return AIMessage(
            content=content,
            usage_metadata={
                "input_tokens": input_tokens,
                "output_tokens": used,
                "total_tokens": input_tokens + used,
                "output_token_details": {"reasoning": used - visible},
            },
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": answer.finish_reason,
                "correct": bool(answer.correct),
                "natural_length": int(answer.natural_length),
                "query": query,
            },
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._respond(messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._respond(messages, kwargs)
        text_so_far = _message_text(message)
        words = text_so_far.split(" ") if text_so_far else []
        for k, word in enumerate(words):
            text = word if k == 0 else " " + word
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager is not None:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
        # Usage and finish reason arrive on the last chunk, as with OpenAI's stream_options.
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=message.usage_metadata,
                response_metadata=message.response_metadata,
                chunk_position="last",
            )
        )
