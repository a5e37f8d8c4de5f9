"""Traffic streams: many queries drawn from the easy, medium and hard pools, each with a true curve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from numpy.typing import NDArray

from .._checks import as_nonnegative_integer, require_choice
from ..curves import SurgeCurves
from .calibration import CALIBRATION, ModelCalibration
from .mixes import POOL_NAMES, STREAM_MIXES
from .pools import POOL_BENCHMARKS, threshold_pools


@dataclass(frozen=True, eq=False)
class Stream:
    """A stream of queries with known true curves, for evaluation.

    Attributes
    ----------
    name : str
        Stream shape (``"Balanced"``, ``"MostlyEasy"``, ``"MostlyHard"``, ``"UShaped"``).
    ids : tuple of str
        Unique query ids, ``"<name>-<seed>-<index>"``.
    texts : tuple of str
        Synthetic problem statements, ``"Problem #<index> ..."`` (the ``#<index>`` tag
        is how the simulated chat model finds the query). Longer statements have
        larger thresholds, as a text-based predictor would hope.
    curves : SurgeCurves, form "cumulative"
        True accuracy-at-a-cap curve of every query.
    pools : ndarray of str, shape (n,)
        Pool of each query (``"easy"``, ``"medium"``, ``"hard"``), read-only.
    seed : int
        Seed the stream was drawn with.
    """

    name: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    curves: SurgeCurves
    pools: NDArray[np.str_]
    seed: int

    def __len__(self) -> int:
        return len(self.curves)

    @property
    def success_probability(self) -> NDArray[np.float64]:
        """Asymptotic success probability ``alpha / beta**2`` of each query."""
        return self.curves.alpha / (self.curves.beta * self.curves.beta)

    def __repr__(self) -> str:
        counts = ", ".join(f"{p}={int(np.sum(self.pools == p))}" for p in POOL_NAMES)
        return f"Stream({self.name!r}, n={len(self)}, seed={self.seed}, {counts})"


def pool_counts(n: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split ``n`` queries among the pools in proportion to ``shares`` (largest remainder).

    The counts sum to ``n`` exactly and each is within one of ``n * share``.
    """
    names = list(POOL_NAMES)
    exact = np.array([n * float(shares[name]) for name in names])
    counts = np.floor(exact).astype(int)
    # Ties go to the earlier pool, so the split is deterministic.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return dict(zip(names, counts.tolist()))


_OPERATIONS = ("add {k}", "subtract {k}", "multiply by {k}", "halve it", "square the last digit", "take the remainder mod {k}")


def _problem_text(index: int, benchmark: str, tau: float, rng: np.random.Generator) -> str:
    """A synthetic statement whose number of steps grows with the threshold (with some noise)."""
    steps = max(1, int(round(tau / 50.0 * np.exp(0.25 * rng.standard_normal()))))
    picks = rng.integers(0, len(_OPERATIONS), steps)
    operands = rng.integers(2, 10, steps + 1)
    body = "; ".join(_OPERATIONS[p].format(k=int(k)) for p, k in zip(picks, operands[1:]))
    return f"Problem #{index} ({benchmark}-like): start from {int(operands[0])}; {body}. What is the result?"


def make_stream(
    shape: str, n: int = 500, *, seed: int = 0, calibration: ModelCalibration = CALIBRATION
) -> Stream:
    """Draw a stream of ``n`` queries of one shape.

    Parameters
    ----------
    shape : str
        ``"Balanced"``, ``"MostlyEasy"``, ``"MostlyHard"`` or ``"UShaped"`` (mixes in
        :data:`~clear_fast.workloads.mixes.STREAM_MIXES`).
    n : int, default 500
        Number of queries (>= 0).
    seed : int, default 0
        Seed; the same ``(shape, n, seed)`` always gives the same stream.
    calibration : ModelCalibration
        Shared width and per-pool success probabilities of the simulated model.

    Returns
    -------
    Stream
        Pool sizes follow the mix exactly (largest remainder), in random order;
        thresholds are drawn from each pool by inverse-CDF sampling; every query
        gets ``SurgeCurves(tau, alpha_pool, beta, form="cumulative")``.

    Raises
    ------
    ValueError
        On an unknown shape or a negative ``n`` or ``seed``.
    TypeError
        If ``n`` or ``seed`` is not an integer.
    """
    require_choice("shape", shape, tuple(STREAM_MIXES))
    as_nonnegative_integer("n", n)
    as_nonnegative_integer("seed", seed)
    # The shape's position keys the draws, so two shapes with one seed differ.
    rng = np.random.default_rng([int(seed), list(STREAM_MIXES).index(shape)])
    counts = pool_counts(int(n), STREAM_MIXES[shape])
    pools = rng.permutation(np.repeat(np.array(POOL_NAMES), [counts[p] for p in POOL_NAMES]))
    tau = np.empty(len(pools))
    for name, pool in threshold_pools().items():
        members = pools == name
        tau[members] = pool.sample(int(members.sum()), rng)
    alpha = np.array([calibration.alpha(p) for p in pools]) if len(pools) else np.empty(0)
    curves = SurgeCurves(tau, alpha, calibration.beta, form="cumulative")
    texts = tuple(_problem_text(i, POOL_BENCHMARKS[p], t, rng) for i, (p, t) in enumerate(zip(pools, tau)))
    ids = tuple(f"{shape}-{seed}-{i:05d}" for i in range(len(pools)))
    pools.flags.writeable = False
    return Stream(shape, ids, texts, curves, pools, int(seed))


def paper_streams(n: int = 500, *, seed: int = 0) -> dict[str, Stream]:
    """The paper's four streams, ``n`` queries each, keyed by shape."""
    return {shape: make_stream(shape, n, seed=seed) for shape in STREAM_MIXES}
