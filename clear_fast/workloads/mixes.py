"""The paper's four traffic shapes as mixes of the easy, medium and hard pools.

The paper names its streams (Balanced, MostlyEasy, MostlyHard, UShaped) but does
not publish their mixes. These shares were chosen from a grid in steps of 0.05
(symmetric: MostlyHard mirrors MostlyEasy) as the mix for which the calibrated
pools reproduce the paper's Uniform accuracy at 1500 tokens per query most
closely while keeping the pools' success probabilities ordered easy > medium >
hard (see :mod:`clear_fast.workloads.calibration`). The fit puts few MATH500-like
queries in the skewed streams: the paper's numbers leave little room for them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

POOL_NAMES = ("easy", "medium", "hard")

STREAM_MIXES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "Balanced": MappingProxyType({"easy": 1 / 3, "medium": 1 / 3, "hard": 1 / 3}),
        "MostlyEasy": MappingProxyType({"easy": 0.75, "medium": 0.05, "hard": 0.20}),
        "MostlyHard": MappingProxyType({"easy": 0.20, "medium": 0.05, "hard": 0.75}),
        "UShaped": MappingProxyType({"easy": 0.40, "medium": 0.20, "hard": 0.40}),
    }
)
"""Share of each pool in each stream shape (each row sums to 1)."""

STREAM_SHAPES = tuple(STREAM_MIXES)
