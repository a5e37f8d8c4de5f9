"""A token budget that spans several model calls of one input (an agent's run, a parallel chain).

Each call is capped at its share of what remains; a call that would get less
than ``min_call_tokens`` is refused with :class:`BudgetExhausted` before any
request is sent. Reservations make it safe when calls overlap: two concurrent
calls never both get the whole remainder.

Branches that run at the same time (the steps of a ``RunnableParallel``) each get
a child budget from :meth:`TokenBudget.split`: the children draw on one pool, and
a call takes the tokens left in proportion to its branch's share among the
branches that hold no reservation right now. Two branches starting together get
half each; a branch that finishes early leaves the rest to the others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from langchain_core.runnables import RunnableConfig

#: Configurable key read by models wrapped with :func:`budgeted`: an ``int`` caps every
#: call, a :class:`TokenBudget` caps each call at its share of what the budget has left.
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
        """Give the reservation back unused (the call failed before the provider billed anything)."""
        self.budget._settle(self, 0)


class _Pool:
    """The books shared by a budget and the children split from it."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.spent = 0
        self.reserved = 0
        self.calls = 0
        self.unknown_usage = 0
        self.lock = threading.Lock()

    @property
    def left(self) -> int:
        return self.total - self.spent - self.reserved


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
        self._pool = _Pool(total)
        self._parent: TokenBudget | None = None
        self._weight = Fraction(1)
        self._children: list[TokenBudget] = []
        self._open = True
        self._in_flight = 0
        self._spent = 0

    # --- reading -----------------------------------------------------------------------

    @property
    def spent(self) -> int:
        """Output tokens settled so far by this budget's calls (and its children's)."""
        return self._spent

    @property
    def remaining(self) -> int:
        """Tokens the next call of this budget would get (its share of what is neither spent nor reserved)."""
        with self._pool.lock:
            return self._share()

    @property
    def calls(self) -> int:
        """Model calls started under this budget's pool."""
        return self._pool.calls

    @property
    def unknown_usage_calls(self) -> int:
        """Calls whose response reported no usage (charged their whole cap)."""
        return self._pool.unknown_usage

    # --- branches running at once ---------------------------------------------------------

    def split(self, n: int) -> list[TokenBudget]:
        """``n`` child budgets for branches that run at the same time, drawing on this pool.

        Close each child (:meth:`close`) when its branch ends; until all are closed,
        this budget's own calls count as one more branch.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` must be a whole number >= 1, got {n!r}")
        with self._pool.lock:
            children = []
            for _ in range(n):
                child = TokenBudget.__new__(TokenBudget)
                child.total = self.total
                child.min_call_tokens = self.min_call_tokens
                child._pool = self._pool
                child._parent = self
                child._weight = self._weight / n
                child._children = []
                child._open = True
                child._in_flight = 0
                child._spent = 0
                children.append(child)
            self._children.extend(children)
            return children

    def close(self) -> None:
        """End this child's branch: its share goes back to the branches still running."""
        with self._pool.lock:
            self._open = False
            if self._parent is not None:
                self._parent._children = [c for c in self._parent._children if c is not self]

    def _waiting_weight(self) -> Fraction:
        """Weight of the open branches under this node that hold no reservation right now."""
        open_children = [c for c in self._children if c._open]
        if not open_children:
            return Fraction(0) if self._in_flight else self._weight
        return sum((c._waiting_weight() for c in open_children), Fraction(0))

    def _root(self) -> TokenBudget:
        node = self
        while node._parent is not None:
            node = node._parent
        return node

    def _share(self) -> int:
        left = self._pool.left
        open_children = [c for c in self._children if c._open]
        # A budget whose branches are still running calls as one more branch beside them.
        weight = self._weight / (len(open_children) + 1) if open_children else self._weight
        waiting = self._root()._waiting_weight()
        if not open_children and self._in_flight == 0:
            waiting -= weight  # counted once below
        return int(left * weight / (waiting + weight))

    # --- calls ------------------------------------------------------------------------

    def reserve(self, limit: int | None = None) -> Grant:
        """Reserve this budget's share of what remains for the next call.

        Args:
            limit: The most the call can use (the model's output limit); the
                share is cut to it, leaving the rest for other calls.

        Raises:
            BudgetExhausted: If fewer than ``min_call_tokens`` would be reserved.
        """
        with self._pool.lock:
            share = self._share()
            cap = share if limit is None else min(share, limit)
            if cap < self.min_call_tokens:
                pool = self._pool
                raise BudgetExhausted(
                    f"token budget exhausted: {pool.spent} of {pool.total} tokens spent over {pool.calls} "
                    f"call(s), {pool.left} left ({share} for this call), a call needs at least "
                    f"{self.min_call_tokens}"
                )
            self._pool.reserved += cap
            self._pool.calls += 1
            self._in_flight += 1
            return Grant(cap=cap, budget=self)

    def _settle(self, grant: Grant, used: int | None) -> None:
        with self._pool.lock:
            self._pool.reserved -= grant.cap
            self._in_flight -= 1
            if used is None:
                self._pool.unknown_usage += 1
                used = grant.cap
            # An endpoint that ignores the cap can overrun it; the overrun is real spending.
            used = max(int(used), 0)
            self._pool.spent += used
            node: TokenBudget | None = self
            while node is not None:
                node._spent += used
                node = node._parent

    def config(self, **extra: Any) -> RunnableConfig:
        """A config that makes budgeted models draw from this budget."""
        config: dict[str, Any] = dict(extra)
        config["configurable"] = {**config.get("configurable", {}), CAP_KEY: self}
        return config  # type: ignore[return-value]

    def __repr__(self) -> str:
        pool = self._pool
        return f"TokenBudget(total={pool.total}, spent={pool.spent}, reserved={pool.reserved}, calls={pool.calls})"
