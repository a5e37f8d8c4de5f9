"""Allocation policies compared in the paper's experiment.

A policy turns a stream, the predicted curves of its queries and a total budget
into one generation cap per query (0 = abandoned). All of them grant whole
tokens and never more than the budget in total.

* :class:`ClearPolicy` - ``clear_fast.allocate`` on the predicted curves.
* :class:`UniformPolicy` - the same cap ``budget // n`` for every query.
* :class:`ProportionalPolicy` - caps proportional to the predicted threshold.
* :class:`SelfEstimatePolicy` - each query asks for what it believes it needs
  (TALE-EP-like: a noisy self-estimate), scaled down together when over budget.
* :class:`OraclePolicy` - ``clear_fast.allocate`` on the true curves.

Beyond the paper, :class:`RiskAwareClearPolicy` allocates against the expected
utility over each threshold's predictive spread (``clear_fast.uncertainty``), and
:class:`WavesPolicy` runs it as a first pass and then spends what that pass left
on the queries it abandoned or cut short (``clear_fast.waves``): a policy of
several passes, which :func:`clear_fast.evaluation.evaluate` runs through
its ``run_passes`` method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .._checks import as_integer_at_least, as_nonnegative_number
from ..allocate import allocate
from ..curves import SurgeCurves
from ..uncertainty import allocate_uncertain
from ..waves import DECODINGS, WavesResult, run_waves
from ..workloads.streams import Stream


@dataclass(frozen=True)
class Decision:
    """What a policy grants.

    Attributes
    ----------
    caps : ndarray of int64, shape (n,)
        Generation cap per query (0 = abandoned).
    shadow_price : float
        Price per token at which the caps clear, for policies that have one; NaN otherwise.
    """

    caps: NDArray[np.int64]
    shadow_price: float = math.nan


@runtime_checkable
class Policy(Protocol):
    """Anything with a ``name`` and ``decide(stream, predicted, budget) -> Decision``."""

    name: str

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps for the stream's queries within ``budget`` tokens in total."""
        ...


def apportion(weights: NDArray[np.float64], budget: int) -> NDArray[np.int64]:
    """Split ``budget`` whole tokens in proportion to ``weights`` (largest remainder).

    The result sums to exactly ``budget`` (when some weight is positive), and each
    share is within one token of ``budget * w_i / sum(w)``.
    """
    weights = np.asarray(weights, dtype=np.float64)
    total = float(weights.sum())
    if len(weights) == 0 or total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = (weights / total) * budget
    caps = np.floor(exact).astype(np.int64)
    # Rounding in exact can let floor sum past budget by a token; never hand out more than there is.
    while caps.sum() > budget:
        caps[int(np.argmax(caps))] -= 1
    order = np.argsort(-(exact - caps), kind="stable")
    caps[order[: budget - int(caps.sum())]] += 1
    return caps


class ClearPolicy:
    """CLEAR: the shadow-price allocation on the predicted curves."""

    name = "CLEAR"

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps from ``clear_fast.allocate(predicted, budget)``."""
        result = allocate(predicted, budget)
        return Decision(result.tokens, float(result.shadow_price))


class RiskAwareClearPolicy:
    """CLEAR against the expected utility over an uncertain threshold.

    Each predicted threshold is read as the median of a lognormal with standard
    deviation ``spread`` in log-tokens, and the budget goes where expected
    accuracy gains most (:func:`clear_fast.uncertainty.allocate_uncertain`): a
    query whose threshold may be higher than predicted is given a margin, or
    dropped when the margin costs too much.

    Parameters
    ----------
    spread : float
        Standard deviation of ``log tau`` the policy assumes for every query
        (>= 0); the threshold predictor's error, when known.
    """

    name = "RiskAwareCLEAR"

    def __init__(self, spread: float) -> None:
        self.spread: float = as_nonnegative_number("spread", spread)

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps from ``allocate_uncertain(predicted, spread, budget)``."""
        result = allocate_uncertain(predicted, self.spread, budget)
        return Decision(result.tokens, float(result.shadow_price))


class WavesPolicy:
    """RiskAwareCLEAR, then waves: the leftover re-allocated to queries abandoned or cut at their cap.

    The first pass is :class:`RiskAwareClearPolicy`'s. After each pass the tokens it did
    not use go to the queries it abandoned and to those cut at their cap, valued with
    the cut as evidence (their threshold is above the cap, or the model does not know
    them): :func:`clear_fast.waves.next_wave`. Over all passes the batch never uses more
    than the budget.

    Parameters
    ----------
    spread : float
        Standard deviation of ``log tau`` the policy assumes for every query (>= 0).
    max_waves : int
        Waves after the first pass (>= 0).
    decoding : {"deterministic", "sampled"}
        Whether a rerun repeats the earlier answer (the simulated model does: its draws
        are fixed per query) or draws afresh.
    """

    name = "RiskAware+waves"

    def __init__(self, spread: float, *, max_waves: int = 3, decoding: str = "deterministic") -> None:
        self.first = RiskAwareClearPolicy(spread)
        self.max_waves: int = as_integer_at_least("max_waves", max_waves, 0)
        if decoding not in DECODINGS:
            raise ValueError(f"`decoding` must be one of {DECODINGS}, got {decoding!r}")
        self.decoding = decoding

    @property
    def spread(self) -> float:
        """The spread the first pass and the waves assume."""
        return self.first.spread

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """The first pass only (what a single-pass runner would send)."""
        return self.first.decide(stream, predicted, budget)

    def run_passes(
        self,
        stream: Stream,
        predicted: SurgeCurves,
        budget: int,
        answer: Callable[[NDArray[np.int64]], tuple[Any, Any, Any]],
    ) -> tuple[Decision, WavesResult]:
        """Run the first pass and the waves; ``answer(caps) -> (correct, tokens_used, cut)``."""
        first = self.decide(stream, predicted, budget)
        result = run_waves(
            answer, predicted, self.spread, budget, first.caps, max_waves=self.max_waves, decoding=self.decoding
        )
        return first, result


class OraclePolicy:
    """CLEAR with perfect knowledge: the allocation on the stream's true curves."""

    name = "Oracle"

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps from ``clear_fast.allocate(stream.curves, budget)``; ``predicted`` is ignored."""
        result = allocate(stream.curves, budget)
        return Decision(result.tokens, float(result.shadow_price))


class UniformPolicy:
    """The same cap for every query: ``budget // n``."""

    name = "Uniform"

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps ``budget // n`` for all; the remainder (fewer than n tokens) stays unspent."""
        n = len(stream)
        return Decision(np.full(n, budget // n if n else 0, dtype=np.int64))


class ProportionalPolicy:
    """Caps proportional to each query's predicted threshold, spending the whole budget."""

    name = "Proportional"

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """Caps ``budget * tau_hat_i / sum(tau_hat)``, apportioned to whole tokens."""
        return Decision(apportion(predicted.tau, budget))


class SelfEstimatePolicy:
    """TALE-EP-like: each query asks for its own noisy estimate of the tokens it needs.

    The model's self-estimate of query ``i`` is ``tau_i * exp(sigma * z_i) + 2 * width_i``
    (its threshold with lognormal error plus the mean length of the surge past
    it), from the true curve: the model judges itself, with no predictor. When
    the requests exceed the budget they are scaled down in proportion; when they
    fit, the rest of the budget is left unspent, as a self-budgeting model would.

    Parameters
    ----------
    sigma : float, default 0.5
        Error of the self-estimate in log-tokens (>= 0). Models judge their own
        needs poorly, so the default is larger than a trained predictor's.
    seed : int, default 0
        Seed of the self-estimate's error.
    """

    name = "SelfEstimate"

    def __init__(self, sigma: float = 0.5, *, seed: int = 0) -> None:
        self.sigma: float = as_nonnegative_number("sigma", sigma)
        self.seed: int = as_integer_at_least("seed", seed, 0)

    def requests(self, stream: Stream) -> NDArray[np.float64]:
        """Tokens each query asks for, before any scaling to the budget."""
        noise = np.random.default_rng([self.seed, stream.seed]).standard_normal(len(stream))
        truth = stream.curves
        return np.ceil(truth.tau * np.exp(self.sigma * noise) + 2.0 / truth.beta)

    def decide(self, stream: Stream, predicted: SurgeCurves, budget: int) -> Decision:
        """The requests, scaled down together when they exceed ``budget``."""
        wanted = self.requests(stream)
        if wanted.sum() <= budget:
            return Decision(wanted.astype(np.int64))
        return Decision(apportion(wanted, budget))


def paper_policies() -> tuple[ClearPolicy, UniformPolicy, ProportionalPolicy, SelfEstimatePolicy, OraclePolicy]:
    """The five policies of the paper's experiment, with default settings."""
    return (ClearPolicy(), UniformPolicy(), ProportionalPolicy(), SelfEstimatePolicy(), OraclePolicy())
