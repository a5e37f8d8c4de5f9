"""A token budget that spans several model calls of one input (an agent's run).

Each call is capped at what remains; a call that would get less than
``min_call_tokens`` is refused with :class:`BudgetExhausted` before any request
is sent. Reservations make it safe when calls overlap: two concurrent calls never
both get the whole remainder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

#: Configurable key read by models wrapped with :func:`budgeted`: an ``int`` caps every
#: call, a :class:`TokenBudget` caps each call at what the budget has left.
CAP_KEY = "clear_fast_max_tokens"
#: Configurable key for a reasoning level (``reasoning_effort``) per call.
EFFORT_KEY = "clear_fast_effort"


class BudgetExhausted(RuntimeError):
    """Raised before a model call when its input's token budget has run out."""


@dataclass(frozen=True)
class Grant:
    """Tokens reserved for one model call; settle or release it exactly once."""

    cap: int
    budget: "TokenBudget"

    def settle(self, used: int | None) -> None:
        """Record the call's output tokens (``None``: unknown, charge the whole cap)."""
        self.budget._settle(self, used)

    def release(self) -> None:
        """Give the reservation back unused (the call failed before running)."""
        self.budget._settle(self, 0)


class TokenBudget:
    """Output tokens one input may spend across all its model calls.

    Args:
        total: Tokens the input may spend in all (whole number >= 0).
        min_call_tokens: Smallest cap worth a call; below it the budget is exhausted.

    Example:
        ```python
        budget = TokenBudget(1500)
        while not done:
            reply = agent_model.invoke(messages, config=budget.config())  # raises BudgetExhausted
        ```
    """

    def __init__(self, total: int, *, min_call_tokens: int = 1) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"`total` must be a whole number of tokens >= 0, got {total!r}")
        if isinstance(min_call_tokens, bool) or not isinstance(min_call_tokens, int) or min_call_tokens < 1:
            raise ValueError(f"`min_call_tokens` must be a whole number >= 1, got {min_call_tokens!r}")
        self.total = total
        self.min_call_tokens = min_call_tokens
        self._spent = 0
        self._reserved = 0
        self._calls = 0
        self._unknown_usage = 0
        self._lock = threading.Lock()

    @property
    def spent(self) -> int:
        """Output tokens settled so far."""
        return self._spent

    @property
    def remaining(self) -> int:
        """Tokens neither spent nor reserved by a call in flight."""
        with self._lock:
            return self.total - self._spent - self._reserved

    @property
    def calls(self) -> int:
        """Model calls started under this budget."""
        return self._calls

    @property
    def unknown_usage_calls(self) -> int:
        """Calls whose response reported no usage (charged their whole cap)."""
        return self._unknown_usage

    def reserve(self) -> Grant:
        """Reserve everything that remains for the next call.

        Raises:
            BudgetExhausted: If fewer than ``min_call_tokens`` remain.
        """
        with self._lock:
            left = self.total - self._spent - self._reserved
            if left < self.min_call_tokens:
                raise BudgetExhausted(
                    f"token budget exhausted: {self._spent} of {self.total} tokens spent over {self._calls} "
                    f"call(s), {left} left, a call needs at least {self.min_call_tokens}"
                )
            self._reserved += left
            self._calls += 1
            return Grant(cap=left, budget=self)

    def _settle(self, grant: Grant, used: int | None) -> None:
        with self._lock:
            self._reserved -= grant.cap
            if used is None:
                self._unknown_usage += 1
                used = grant.cap
            # An endpoint that ignores the cap can overrun it; the overrun is real spending.
            self._spent += max(int(used), 0)

    def config(self, **extra: Any) -> RunnableConfig:
        """A config that makes budgeted models draw from this budget."""
        config: dict[str, Any] = dict(extra)
        config["configurable"] = {**config.get("configurable", {}), CAP_KEY: self}
        return config  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"TokenBudget(total={self.total}, spent={self._spent}, reserved={self._reserved}, calls={self._calls})"
