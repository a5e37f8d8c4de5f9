"""One call of a budgeted model: its cap, its reservation, and what it is charged.

A call is charged what the provider billed: the usage on its answer, or on the
exception it raised once the provider had answered (``openai`` raises
``LengthFinishReasonError`` for structured output cut at its cap, carrying the
billed completion). A call that failed before any answer is charged nothing; a
stream that stopped after some chunks without reporting usage is charged its
whole cap, so the books never under-count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig

from .token_budget import CAP_KEY, Grant, TokenBudget

#: Metadata key carrying the cap of one model call, for :class:`UsageTracker`.
CALL_CAP_KEY = "clear_fast_call_cap"


def check_cap(cap: Any) -> int | None:
    """A fixed per-call cap from the config, checked (None: no cap)."""
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        # A cap of 0 means "abandoned": such an input must never reach a model.
        raise ValueError(f"`{CAP_KEY}` must be a whole number of tokens >= 1 or a TokenBudget, got {cap!r}")
    return cap


def output_tokens(output: Any) -> int | None:
    """Output tokens reported by a chat model's message (``None`` if it reported none)."""
    usage = getattr(output, "usage_metadata", None)
    if not usage:
        return None
    return int(usage.get("output_tokens", 0))


def billed_in_error(error: BaseException) -> int | None:
    """Output tokens the provider billed for a call that then raised (None: no answer came back)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        usage = getattr(getattr(current, "completion", None), "usage", None)
        tokens = getattr(usage, "completion_tokens", None)
        if isinstance(tokens, int):
            return tokens
        reported = output_tokens(current)
        if reported is not None:
            return reported
        current = current.__cause__ or current.__context__
    return None


def finish_in_error(error: BaseException) -> str | None:
    """The finish reason of the answer a call that then raised came back with (None: unknown)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        choices = getattr(getattr(current, "completion", None), "choices", None) or []
        if choices and getattr(choices[0], "finish_reason", None):
            return str(choices[0].finish_reason)
        current = current.__cause__ or current.__context__
    return None


@dataclass
class ModelCall:
    """A model call between its reservation and its settlement."""

    cap: int | None
    grant: Grant | None = None
    model: Any = None
    config: RunnableConfig = field(default_factory=dict)  # type: ignore[assignment]
    kwargs: dict[str, Any] = field(default_factory=dict)
    chunks: int = 0
    streamed_usage: int | None = None
    closed: bool = False

    @classmethod
    def reserve(cls, cap: Any, limit: int | None) -> ModelCall:
        """Reserve for a call whose config carries ``cap`` (an int, a TokenBudget or None)."""
        if isinstance(cap, TokenBudget):
            grant = cap.reserve(limit)
            return cls(cap=grant.cap, grant=grant)
        fixed = check_cap(cap)
        if fixed is not None and limit is not None:
            fixed = min(fixed, limit)
        return cls(cap=fixed)

    def settle(self, used: int | None) -> None:
        if self.closed:
            return
        self.closed = True
        if self.grant is not None:
            self.grant.settle(used)

    def saw(self, chunk: Any) -> None:
        """Count a streamed chunk and any usage it carries (providers report it on one chunk, or per chunk)."""
        self.chunks += 1
        used = output_tokens(chunk)
        if used is not None:
            self.streamed_usage = (self.streamed_usage or 0) + used

    def finished(self, output: Any) -> None:
        """Settle a call that returned (``output`` None: a stream, settled from its chunks)."""
        self.settle(output_tokens(output) if output is not None else self.streamed_usage)

    def failed(self, error: BaseException) -> None:
        """Settle a call that raised (or a stream closed early): what was billed, else nothing or the cap."""
        billed = billed_in_error(error)
        if billed is None:
            billed = self.streamed_usage
        if billed is None:
            billed = None if self.chunks else 0  # chunks came but no usage: charge the whole cap
        self.settle(billed)
