"""Attribute token usage to the input that caused it, and check caps were applied.

A chain may call models several times per input, nested in sequences, parallels,
lambdas or agents. ``on_llm_end`` carries no metadata, so the tracker maps each
model run to its input when the run starts: by a metadata key set per input
(``BudgetedRunnable`` sets it), else by the outermost run it belongs to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from .model_call import CALL_CAP_KEY, billed_in_error, finish_in_error

#: Metadata key naming the input a run belongs to.
INPUT_KEY = "clear_fast_input"
#: Metadata key with the input's whole grant.
INPUT_CAP_KEY = "clear_fast_cap"
# Finish reasons that mean "stopped by the length cap", by provider.
_CUT_OFF = {"length", "max_tokens", "MAX_TOKENS", "max_output_tokens"}


class UncappedCall(RuntimeError):
    """Raised (in strict mode) before a model call that would run without the expected cap."""


@dataclass(frozen=True)
class CallRecord:
    """One model call.

    Attributes:
        run_id: LangChain's id of the model run.
        input_key: The input it is attributed to.
        cap: The cap the model reported applying (``ls_max_tokens``), or None.
        expected_cap: The cap clear_fast asked for, or None.
        input_tokens: Prompt tokens.
        output_tokens: Generated tokens, reasoning included.
        reasoning_tokens: Of which hidden reasoning.
        finish_reason: The provider's stop reason, if reported.
        flags: What went wrong: uncapped, cap not applied, cap overrun, no usage.
    """

    run_id: UUID
    input_key: Any
    cap: int | None
    expected_cap: int | None
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    finish_reason: str | None
    flags: tuple[str, ...]

    @property
    def cut_off(self) -> bool:
        """True when the call stopped at its length cap."""
        return self.finish_reason in _CUT_OFF


@dataclass(frozen=True)
class InputUsage:
    """Usage summed over all model calls of one input."""

    calls: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cut_off: bool
    flags: tuple[str, ...]


def _usage_of(response: LLMResult) -> tuple[int, int, int, str | None, bool]:
    """(input, output, reasoning, finish_reason, reported) from a model run's result."""
    inputs = outputs = reasoning = 0
    finish: str | None = None
    reported = False
    for generations in response.generations:
        for generation in generations:
            info = generation.generation_info or {}
            message = getattr(generation, "message", None)
            meta = getattr(message, "response_metadata", None) or {}
            finish = info.get("finish_reason") or meta.get("finish_reason") or meta.get("stop_reason") or finish
            usage = getattr(message, "usage_metadata", None)
            if usage:
                reported = True
                inputs += int(usage.get("input_tokens", 0))
                outputs += int(usage.get("output_tokens", 0))
                reasoning += int((usage.get("output_token_details") or {}).get("reasoning", 0))
    if not reported and response.llm_output:
        token_usage = response.llm_output.get("token_usage") or {}
        if token_usage:
            reported = True
            inputs = int(token_usage.get("prompt_tokens", 0))
            outputs = int(token_usage.get("completion_tokens", 0))
            details = token_usage.get("completion_tokens_details") or {}
            reasoning = int(details.get("reasoning_tokens", 0) or 0)
    return inputs, outputs, reasoning, finish, reported


class UsageTracker(BaseCallbackHandler):
    """Callback handler that attributes model usage to inputs and checks caps.

    Add it to a chain's ``callbacks``. Every model call is recorded with the input
    it belongs to, its usage (input, output, reasoning tokens), the cap it ran
    under (``ls_max_tokens``) and flags for calls that ran uncapped, under a
    different cap than clear_fast granted, or past their cap (an endpoint that
    ignores the cap). Safe to share between threads: ``batch`` runs inputs in a
    thread pool.

    Args:
        key: Metadata key naming the input of a run.
        strict: Refuse (raise :class:`UncappedCall` before the request is sent)
            any call that has no cap or a cap above the one granted.
    """

    def __init__(self, *, key: str = INPUT_KEY, strict: bool = False) -> None:
        super().__init__()
        self.key = key
        self.strict = strict
        # An exception in on_chat_model_start aborts the call only when raise_error is set.
        self.raise_error = strict
        self._lock = threading.Lock()
        self._parent: dict[UUID, UUID | None] = {}
        self._started: dict[UUID, tuple[Any, int | None, int | None]] = {}
        self._calls: list[CallRecord] = []
        self._by_key: dict[Any, list[CallRecord]] = {}

    # --- attribution -------------------------------------------------------------------

    def _root(self, run_id: UUID) -> UUID:
        seen = run_id
        while (parent := self._parent.get(seen)) is not None:
            seen = parent
        return seen

    def on_chain_start(
        self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        with self._lock:
            self._parent[run_id] = parent_run_id

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        # A chain ends after everything it ran: its place in the tree is no longer needed.
        with self._lock:
            self._parent.pop(run_id, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._parent.pop(run_id, None)

    def _start(self, run_id: UUID, parent_run_id: UUID | None, metadata: dict[str, Any] | None) -> None:
        metadata = metadata or {}
        cap = metadata.get("ls_max_tokens")
        expected = metadata.get(CALL_CAP_KEY, metadata.get(INPUT_CAP_KEY))
        if self.strict:
            if cap is None:
                raise UncappedCall("model call refused: it would run without a length cap (no ls_max_tokens)")
            if expected is not None and cap > expected:
                raise UncappedCall(f"model call refused: its cap {cap} is above the {expected} tokens granted")
        with self._lock:
            self._parent[run_id] = parent_run_id
            key = metadata[self.key] if self.key in metadata else self._root(run_id)
            self._started[run_id] = (key, cap, expected)

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start(run_id, parent_run_id, metadata)

    def on_llm_start(
        self,
        serialized: Any,
        prompts: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._start(run_id, parent_run_id, metadata)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self._record(run_id, *_usage_of(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        billed = billed_in_error(error)
        if billed is not None:  # the provider answered, then the client raised (structured output cut at its cap)
            self._record(run_id, 0, billed, 0, finish_in_error(error), True)
            return
        with self._lock:
            self._started.pop(run_id, None)
            self._parent.pop(run_id, None)

    def _record(
        self, run_id: UUID, inputs: int, outputs: int, reasoning: int, finish: str | None, reported: bool
    ) -> None:
        with self._lock:
            key, cap, expected = self._started.pop(run_id, (self._root(run_id), None, None))
            self._parent.pop(run_id, None)
            flags = []
            if cap is None:
                flags.append("uncapped call")
            elif expected is not None and cap > expected:
                flags.append(f"cap {cap} above the {expected} granted")
            limit = min(c for c in (cap, expected) if c is not None) if (cap or expected) else None
            if limit is not None and outputs > limit:
                flags.append(f"overran its cap: {outputs} > {limit} tokens")
            if not reported:
                flags.append("no usage reported")
            record = CallRecord(run_id, key, cap, expected, inputs, outputs, reasoning, finish, tuple(flags))
            self._calls.append(record)
            self._by_key.setdefault(key, []).append(record)

    # --- reading -----------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        """Every finished model call, in the order they finished."""
        with self._lock:
            return list(self._calls)

    @property
    def problems(self) -> list[CallRecord]:
        """Calls with at least one flag."""
        return [call for call in self.calls if call.flags]

    def usage_by_input(self) -> dict[Any, InputUsage]:
        """Usage summed per input key."""
        with self._lock:
            grouped = {key: list(calls) for key, calls in self._by_key.items()}
        return {key: _summed(calls) for key, calls in grouped.items()}

    def usage_of(self, key: Any) -> InputUsage | None:
        """Usage summed over the calls of one input key (None: no call finished for it)."""
        with self._lock:
            calls = list(self._by_key.get(key, ()))
        return _summed(calls) if calls else None

    @property
    def output_tokens(self) -> int:
        """Output tokens of all calls."""
        return sum(call.output_tokens for call in self.calls)


def _summed(calls: list[CallRecord]) -> InputUsage:
    return InputUsage(
        calls=len(calls),
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        reasoning_tokens=sum(c.reasoning_tokens for c in calls),
        cut_off=any(c.cut_off for c in calls),
        flags=tuple(flag for c in calls for flag in c.flags),
    )
