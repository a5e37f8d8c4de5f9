"""Calibrating the simulated model to the paper's Uniform baseline.

The simulated model (Qwen2.5-Math-7B-like) has one width ``1/beta`` shared by all
queries, as the paper's model-intrinsic ``beta``, and one success probability
``p`` per pool (the share of that pool the model ever solves); ``alpha = p * beta**2``.
The thresholds come from the measured recall curves (:mod:`.pools`), so only
four numbers are free. They are set in two steps, both deterministic:

1. For a given width, the pools' success probabilities are the bounded least
   squares fit (``0 <= p <= 1``) of Uniform's expected accuracy at the ample
   budget of 1500 tokens per query on the four streams to the paper's Uniform
   numbers there. Uniform gives every query the same cap ``b``, so its expected
   accuracy is linear in ``p``: ``sum_pool share * p_pool * E[C_pool(b) / p_pool]``.
2. The width is the value on a grid (5 to 200 tokens in steps of 5) whose step-1
   fit follows the paper's whole Uniform curve (100 to 1500 tokens per query,
   four streams) with the smallest root-mean-square error.

``CALIBRATION`` holds the result; the tests check it against a fresh
:func:`derive_calibration`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
from numpy.typing import NDArray

from .._checks import require_choice
from .mixes import POOL_NAMES, STREAM_MIXES
from .pools import paper_data, threshold_pools

AMPLE_BUDGET_PER_QUERY = 1500
WIDTH_GRID = tuple(float(w) for w in range(5, 205, 5))


@dataclass(frozen=True)
class ModelCalibration:
    """The simulated model's shared width and per-pool success probabilities.

    Attributes
    ----------
    width : float
        ``1/beta`` in tokens: correct answers run ``tau + Gamma(2, width)`` tokens.
    success : Mapping[str, float]
        Asymptotic success probability ``alpha / beta**2`` per pool, in [0, 1].
    """

    width: float
    success: Mapping[str, float]

    @property
    def beta(self) -> float:
        """Decay rate per token, ``1 / width``."""
        return 1.0 / self.width

    def alpha(self, pool: str) -> float:
        """Slope at onset of the pool's queries, ``success * beta**2``."""
        return self.success[pool] * self.beta * self.beta


CALIBRATION = ModelCalibration(
    width=15.0,
    success=MappingProxyType({"easy": 0.7734, "medium": 0.1335, "hard": 0.0719}),
)
"""The calibration used by the streams (derived by :func:`derive_calibration`, rounded to 4 places)."""


def _fits_under(thresholds: NDArray[np.float64], cap: float, width: float) -> float:
    """Mean over thresholds of ``P(tau + Gamma(2, width) <= cap)``."""
    x = np.maximum(cap - thresholds, 0.0) / width
    return float(np.mean(1.0 - (1.0 + x) * np.exp(-x)))


def pool_fit_shares(width: float, caps: NDArray[np.float64] | list[float]) -> NDArray[np.float64]:
    """Share of each pool's correct answers that fit under each cap.

    Parameters
    ----------
    width : float
        ``1/beta`` in tokens.
    caps : array_like, shape (k,)
        Caps in tokens.

    Returns
    -------
    ndarray, shape (k, 3)
        Column order ``("easy", "medium", "hard")``; Uniform's expected accuracy on
        a stream at cap ``caps[j]`` is ``row j @ (shares * success)``.
    """
    grids = {name: pool.grid() for name, pool in threshold_pools().items()}
    return np.array([[_fits_under(grids[name], float(cap), width) for name in POOL_NAMES] for cap in caps])


def uniform_expected_accuracy(
    stream: str, caps: list[float] | NDArray[np.float64], calibration: ModelCalibration = CALIBRATION
) -> NDArray[np.float64]:
    """Expected accuracy of Uniform on an infinitely long stream of one shape.

    Parameters
    ----------
    stream : str
        One of the shapes in :data:`~clear_fast.workloads.mixes.STREAM_MIXES`.
    caps : array_like, shape (k,)
        The cap every query gets.
    calibration : ModelCalibration
        Model parameters.

    Returns
    -------
    ndarray, shape (k,)
        Accuracy as a share in [0, 1].
    """
    require_choice("stream", stream, tuple(STREAM_MIXES))
    mix = np.array([STREAM_MIXES[stream][name] * calibration.success[name] for name in POOL_NAMES])
    return pool_fit_shares(calibration.width, np.asarray(caps, dtype=np.float64)) @ mix


def bounded_least_squares(design: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """Minimise ``||design @ p - target||`` subject to ``0 <= p <= 1``, for a few unknowns.

    Tries every active set (each unknown free, at 0 or at 1) and keeps the best
    feasible one: exact for a convex problem, and cheap for three unknowns (27 sets).
    """
    k = design.shape[1]
    best, best_error = np.zeros(k), np.inf
    for states in itertools.product(("free", 0.0, 1.0), repeat=k):
        p = np.array([0.0 if s == "free" else s for s in states])
        free = np.array([s == "free" for s in states])
        if free.any():
            residual_target = target - design[:, ~free] @ p[~free]
            p[free] = np.linalg.lstsq(design[:, free], residual_target, rcond=None)[0]
        if np.any(p < -1e-12) or np.any(p > 1 + 1e-12):
            continue
        error = float(np.sum((design @ p - target) ** 2))
        if error < best_error - 1e-15:
            best, best_error = np.clip(p, 0.0, 1.0), error
    return best


def derive_calibration(widths: tuple[float, ...] = WIDTH_GRID) -> ModelCalibration:
    """Recompute the calibration from the packaged paper numbers (see the module notes).

    Parameters
    ----------
    widths : tuple of float
        Candidate widths ``1/beta`` in tokens.

    Returns
    -------
    ModelCalibration
        Unrounded.
    """
    paper = paper_data()["clear_vs_uniform"]
    budgets = np.array(paper["budget_per_query"], dtype=np.float64)
    ample = int(np.flatnonzero(budgets == AMPLE_BUDGET_PER_QUERY)[0])
    shapes = list(STREAM_MIXES)
    mixes = np.array([[STREAM_MIXES[s][name] for name in POOL_NAMES] for s in shapes])
    observed = np.array([paper[s]["uniform"] for s in shapes]) / 100.0  # (streams, budgets)
    best: tuple[float, ModelCalibration] | None = None
    for width in widths:
        fits = pool_fit_shares(width, budgets)  # (budgets, pools)
        success = bounded_least_squares(mixes * fits[ample], observed[:, ample])
        predicted = (mixes * success) @ fits.T  # (streams, budgets)
        rms = float(np.sqrt(np.mean((predicted - observed) ** 2)))
        if best is None or rms < best[0]:
            best = (rms, ModelCalibration(width, MappingProxyType(dict(zip(POOL_NAMES, success.tolist())))))
    assert best is not None
    return best[1]
