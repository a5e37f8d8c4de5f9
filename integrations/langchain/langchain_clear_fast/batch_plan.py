"""A batch between allocation and settlement, and what its finished inputs teach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clear_fast import Observation
from langchain_core.runnables import RunnableConfig

from .solve import Solution
from .token_budget import TokenBudget
from .tracker import InputUsage, UsageTracker


@dataclass
class BatchPlan:
    """One batch between allocation and settlement."""

    batch_id: str
    budget: int
    solution: Solution
    texts: list[str]
    grants: list[int]
    reasons: dict[int, str]
    budgets: dict[int, TokenBudget]
    configs: dict[int, RunnableConfig]
    tracker: UsageTracker


def observation_of(text: str, seen: InputUsage | None, grant: int) -> Observation | None:
    """What one finished input says about its threshold (None: nothing usable)."""
    if seen is None or seen.calls != 1 or seen.output_tokens <= 0:
        return None  # several calls per input: their lengths are not one answer's length
    if seen.cut_off:
        return Observation(text, float(grant), censored=True)
    return Observation(text, float(seen.output_tokens))
