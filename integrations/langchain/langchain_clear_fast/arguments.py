"""Checks and defaults for BudgetedRunnable's arguments."""

from __future__ import annotations

import math
from typing import Any

from langchain_core.messages import BaseMessage


def text_of(value: Any) -> str:
    """The text a predictor sees for one input: strings as they are, dicts and messages joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return value.text if isinstance(value.text, str) else str(value.content)
    if isinstance(value, dict):
        return "\n".join(text_of(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(text_of(v) for v in value)
    return str(value)


def check_effort_levels(levels: dict[str, int] | None) -> list[tuple[int, str]]:
    """``{level: smallest grant}`` as ``(smallest grant, level)`` pairs, cheapest first."""
    if levels is None:
        return []
    if not isinstance(levels, dict) or not levels:
        raise TypeError(f"`effort_levels` must be a non-empty dict of level name -> smallest grant, got {levels!r}")
    for name, smallest in levels.items():
        if not isinstance(name, str) or isinstance(smallest, bool) or not isinstance(smallest, int) or smallest < 0:
            raise ValueError(f"`effort_levels` must map level names to whole numbers >= 0, got {name!r}: {smallest!r}")
    return sorted((smallest, name) for name, smallest in levels.items())


def check_positive(name: str, value: Any) -> float:
    """``value`` as a float, refusing anything but a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return float(value)
