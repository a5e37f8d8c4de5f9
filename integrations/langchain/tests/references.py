"""Reference allocations computed the way BudgetedRunnable documents it: on the inputs in a seeded shuffle."""

from __future__ import annotations

import numpy as np
from clear_fast import SurgeCurves, allocate, allocate_uncertain, expected_utility


def shuffled(n: int, seed: int = 0) -> np.ndarray:
    """The order the runner solves a batch of ``n`` inputs in."""
    return np.random.default_rng(seed).permutation(n)


def seeded_allocation(curves: SurgeCurves, budget: int, seed: int = 0) -> np.ndarray:
    """``clear_fast.allocate`` on the shuffled inputs, read back in input order."""
    order = shuffled(len(curves), seed)
    tokens = np.empty(len(curves), dtype=np.int64)
    tokens[order] = allocate(curves.subset(order), budget).tokens
    return tokens


def seeded_risk_aware(curves: SurgeCurves, spread: np.ndarray, budget: int, seed: int = 0) -> np.ndarray:
    """The better, in expected accuracy, of allocate_uncertain and allocate, on the shuffled inputs."""
    order = shuffled(len(curves), seed)
    mixed, s = curves.subset(order), np.asarray(spread, float)[order]
    uncertain = allocate_uncertain(mixed, s, budget)
    exact = allocate(mixed, budget).tokens
    best = exact if expected_utility(mixed, s, exact[:, None]).sum() > uncertain.total_expected_utility else uncertain.tokens
    tokens = np.empty(len(curves), dtype=np.int64)
    tokens[order] = best
    return tokens


def one_query(curves: SurgeCurves):
    """``curves=`` for inputs that are query numbers: each input's own curve."""
    return lambda q: curves.subset([q])
