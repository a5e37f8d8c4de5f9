"""Budget windows: one total budget, or a rate of tokens per period.

A rate window restarts every ``period`` seconds of the ledger's clock, counted
from the ledger's creation. Open reservations are carried into the new window
and keep holding their tokens there. With ``rollover``, what the old window did
not spend (its allowance minus its spend; negative after an overrun, so an
overrun is repaid from the next window) is added to the next allowance, up to
``max_carry`` tokens (and never past an allowance of 1e15 tokens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._checks import as_flag, as_optional_seconds, as_token_count
from .limits import MAX_ALLOWANCE, MAX_TOKENS


@dataclass(frozen=True)
class BudgetWindow:
    """How much a ledger may spend, and over what stretch of time.

    Parameters
    ----------
    budget : int
        Tokens in total (``period=None``) or per period, at most 1e14.
    period : float or None
        Length of a window in seconds of the ledger's clock; None for one
        window that never ends.
    rollover : bool
        Carry unspent tokens (or an overdraft) into the next window.
    max_carry : int or None
        Most tokens that may roll over (None: no limit). Needs ``rollover``.
    """

    budget: int
    period: float | None = None
    rollover: bool = False
    max_carry: int | None = None

    def __init__(self, budget: Any, period: Any = None, rollover: bool = False, max_carry: Any = None) -> None:
        object.__setattr__(self, "budget", as_token_count(budget, "budget", MAX_TOKENS))
        period = as_optional_seconds("period", period)
        if as_flag("rollover", rollover) and period is None:
            raise ValueError("`rollover=True` needs a `period`: a total budget has no next window to roll into")
        if max_carry is not None:
            if not rollover:
                raise ValueError("`max_carry` only applies with `rollover=True`")
            max_carry = as_token_count(max_carry, "max_carry", MAX_TOKENS)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "rollover", rollover)
        object.__setattr__(self, "max_carry", max_carry)

    def index(self, elapsed: float) -> int:
        """The window that contains ``elapsed`` seconds since the ledger's origin."""
        if self.period is None:
            return 0
        return max(int(math.floor(elapsed / self.period)), 0)

    def bounds(self, origin: float, index: int) -> tuple[float, float]:
        """Start and end (clock time) of window ``index``; the end is ``inf`` for a total budget."""
        if self.period is None:
            return origin, math.inf
        return origin + index * self.period, origin + (index + 1) * self.period

    def next_allowance(self, allowance: int, spent: int, windows_passed: int) -> int:
        """The allowance after ``windows_passed >= 1`` window ends.

        The first end carries ``allowance - spent``; every later (idle) window
        carries its whole allowance, so the carry after ``k`` ends is
        ``min(allowance - spent + (k - 1) * budget, max_carry)``. The allowance
        stops growing at :data:`~clear_fast.runtime.limits.MAX_ALLOWANCE` (1e15).
        """
        if not self.rollover:
            return self.budget
        carry = allowance - spent + (windows_passed - 1) * self.budget
        if self.max_carry is not None:
            carry = min(carry, self.max_carry)
        return min(self.budget + carry, MAX_ALLOWANCE)
