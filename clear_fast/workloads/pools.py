"""Pools of queries of one difficulty, described by the distribution of their thresholds.

The paper's figure 1 shows, for Qwen2.5-Math-7B, the share of a benchmark's
problems solved when generation is capped at 128, 256, ... tokens. Read as a
function of the cap, that recall is the empirical distribution function of the
benchmark's emergence thresholds ``tau``. Three benchmarks make three pools:
GSM8K (easy), MATH500 (medium), AIME/AMC (hard).

Between measured caps the distribution is interpolated linearly in log-tokens.
Two ends are not measured and are fixed here: no threshold lies below
``FLOOR_TOKENS`` (recall 0 there), and when recall has not reached 100% at the
largest measured cap (GSM8K: 97% at 1024), the rest lies below twice that cap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_float_array

FLOOR_TOKENS = 64.0
POOL_BENCHMARKS = {"easy": "GSM8K", "medium": "MATH500", "hard": "AIME_AMC"}


@lru_cache(maxsize=1)
def _paper_data_text() -> str:
    from importlib import resources  # here: `import clear_fast` must not load importlib.resources

    return resources.files("clear_fast").joinpath("data", "paper_curves.json").read_text(encoding="utf-8")


def paper_data() -> dict[str, Any]:
    """The numbers read off the paper's figures (a fresh copy of ``clear_fast/data/paper_curves.json``).

    Returns
    -------
    dict
        Keys ``"recall_vs_tokens"`` (figure 1) and ``"clear_vs_uniform"`` (the
        four streams: accuracy of CLEAR and Uniform and CLEAR's abandonment, in %,
        by budget per query).
    """
    return json.loads(_paper_data_text())


@dataclass(frozen=True, eq=False)
class ThresholdPool:
    """The threshold distribution of one pool, from a recall-against-cap curve.

    Parameters
    ----------
    name : str
        Pool name (``"easy"``, ``"medium"``, ``"hard"``).
    benchmark : str
        Where the curve was measured.
    tokens : ndarray, shape (k,)
        Increasing caps in tokens, starting at ``FLOOR_TOKENS`` (recall 0).
    recall : ndarray, shape (k,)
        Non-decreasing share solved at each cap, from 0 to 1.
    """

    name: str
    benchmark: str
    tokens: NDArray[np.float64]
    recall: NDArray[np.float64]

    @classmethod
    def from_recall_curve(cls, name: str, benchmark: str, tokens: ArrayLike, recall_pct: ArrayLike) -> ThresholdPool:
        """Build a pool from a measured curve, adding the two unmeasured ends.

        Parameters
        ----------
        name, benchmark : str
            As in the class.
        tokens : array_like, shape (k,)
            Increasing caps in tokens, all above ``FLOOR_TOKENS``.
        recall_pct : array_like, shape (k,)
            Non-decreasing share solved at each cap, in percent.

        Raises
        ------
        ValueError
            If the caps do not increase, start at or below ``FLOOR_TOKENS``, or the
            recall is not non-decreasing within [0, 100].
        """
        caps = as_float_array("tokens", tokens)
        share = as_float_array("recall_pct", recall_pct, len(caps), minimum=0.0) / 100.0
        if np.any(np.diff(caps) <= 0) or caps[0] <= FLOOR_TOKENS:
            raise ValueError(f"`tokens` must increase and start above {FLOOR_TOKENS:g}, got {caps.tolist()}")
        if np.any(np.diff(share) < 0) or share[-1] > 1.0:
            raise ValueError(f"`recall_pct` must be non-decreasing within [0, 100], got {(share * 100).tolist()}")
        caps = np.concatenate(([FLOOR_TOKENS], caps))
        share = np.concatenate(([0.0], share))
        if share[-1] < 1.0:
            caps = np.append(caps, 2.0 * caps[-1])
            share = np.append(share, 1.0)
        caps.flags.writeable = False
        share.flags.writeable = False
        return cls(name, benchmark, caps, share)

    def cdf(self, tokens: ArrayLike) -> NDArray[np.float64]:
        """Share of the pool's thresholds at or below ``tokens`` (the recall at that cap)."""
        caps = np.asarray(tokens, dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_caps = np.log(caps)
        return np.interp(log_caps, np.log(self.tokens), self.recall, left=0.0, right=1.0)

    def quantile(self, share: ArrayLike) -> NDArray[np.float64]:
        """Inverse of :meth:`cdf`: the threshold below which a given share of the pool lies.

        Parameters
        ----------
        share : array_like
            Values in [0, 1].

        Returns
        -------
        ndarray of float64
            Thresholds in tokens. Flat stretches of the recall curve hold no
            thresholds, so the smallest cap reaching a share is returned.
        """
        u = np.asarray(share, dtype=np.float64)
        if np.any(~np.isfinite(u) | (u < 0) | (u > 1)):
            raise ValueError("`share` must lie in [0, 1]")
        # Keep the first point of every rise: the inverse of a step-free, piecewise log-linear CDF.
        rises = np.concatenate(([True], np.diff(self.recall) > 0))
        last_zero = int(np.flatnonzero(self.recall == 0.0)[-1])
        rises[:last_zero] = False
        rises[last_zero] = True
        return np.exp(np.interp(u, self.recall[rises], np.log(self.tokens[rises])))

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """``n`` thresholds drawn from the pool by inverse-CDF sampling."""
        return self.quantile(rng.random(n))

    def grid(self, points: int = 4000) -> NDArray[np.float64]:
        """``points`` equally weighted thresholds at the mid-quantiles: a deterministic stand-in for the pool."""
        return self.quantile((np.arange(points) + 0.5) / points)

    def __repr__(self) -> str:
        median = float(self.quantile(0.5))
        return f"ThresholdPool({self.name!r}, benchmark={self.benchmark!r}, median_tau={median:.0f})"


@lru_cache(maxsize=1)
def _pools() -> tuple[ThresholdPool, ...]:
    curves = paper_data()["recall_vs_tokens"]
    return tuple(
        ThresholdPool.from_recall_curve(name, bench, curves[bench]["tokens"], curves[bench]["recall_pct"])
        for name, bench in POOL_BENCHMARKS.items()
    )


def threshold_pools() -> dict[str, ThresholdPool]:
    """The three pools built from the paper's recall curves, keyed ``"easy"``, ``"medium"``, ``"hard"``."""
    return {pool.name: pool for pool in _pools()}

