"""The cold-start predictor: one threshold for every query, learnt online."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_positive_number, require_choice, require_number
from ..fit.recall import ThresholdDistribution, fit_recall
from ..fit.result import FitResult
from .protocol import as_observations, as_texts


class ConstantPrior:
    """Every query gets the same threshold: the population's typical one.

    Parameters
    ----------
    tau : float
        Typical threshold in tokens (the median; > 0).
    spread : float
        Standard deviation of ``log tau`` across queries (> 0).
    strength : float
        How many observations the starting values are worth (> 0): updates move the
        estimate from the prior towards the observed mean of ``log tau`` at this pace.

    Notes
    -----
    ``update`` keeps running sums of ``log tau`` (a normal model with a conjugate
    prior worth ``strength`` observations), so it is O(1) memory. A censored
    observation (threshold above ``tau``) counts at ``max(log tau, current mean)``.
    """

    def __init__(self, tau: float = 400.0, spread: float = 1.0, *, strength: float = 1.0) -> None:
        # a non-number is a TypeError here, before the value is judged
        self._prior_mean = math.log(as_positive_number("tau", require_number("tau", tau)))
        self._prior_var = as_positive_number("spread", require_number("spread", spread)) ** 2
        self._strength = as_positive_number("strength", require_number("strength", strength))
        self._count = 0.0
        self._sum = 0.0
        self._sum_squares = 0.0

    @classmethod
    def from_distribution(cls, distribution: ThresholdDistribution, **kwargs: Any) -> ConstantPrior:
        """The median and log-spread of a fitted distribution (see :func:`clear_fast.fit.fit_recall`)."""
        return cls(distribution.median, max(distribution.log_std, 1e-3), **kwargs)

    @classmethod
    def from_fit(cls, result: FitResult, **kwargs: Any) -> ConstantPrior:
        """The population of thresholds found by :func:`clear_fast.fit.fit_rollouts`."""
        return cls(math.exp(result.tau_log_mean), result.tau_log_std, **kwargs)

    @classmethod
    def from_benchmark(cls, name: str, *, method: str = "interpolate", **kwargs: Any) -> ConstantPrior:
        """A prior from a published recall table shipped with clear_fast.

        Parameters
        ----------
        name : {"GSM8K", "MATH500", "AIME_AMC"}
            Benchmarks measured on Qwen2.5-Math-7B (easy, medium, hard maths).
        """
        from importlib import resources  # here: `import clear_fast` must not load importlib.resources

        table = json.loads(resources.files("clear_fast").joinpath("data/paper_curves.json").read_text("utf-8"))
        recall = table["recall_vs_tokens"]
        known = sorted(k for k, v in recall.items() if isinstance(v, dict))
        require_choice("name", name, known)
        return cls.from_distribution(fit_recall(recall[name]["tokens"], recall[name]["recall_pct"], method=method), **kwargs)

    @property
    def tau(self) -> float:
        """The current typical threshold (tokens)."""
        return math.exp(self._log_mean())

    @property
    def spread(self) -> float:
        """The current standard deviation of ``log tau``."""
        count = self._count + self._strength
        mean = self._log_mean()
        scatter = self._sum_squares - 2.0 * mean * self._sum + self._count * mean * mean + self._strength * (self._prior_mean - mean) ** 2
        return math.sqrt((self._strength * self._prior_var + max(scatter, 0.0)) / count)

    def _log_mean(self) -> float:
        return (self._strength * self._prior_mean + self._sum) / (self._strength + self._count)

    def predict(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(tau, spread)`` for each text: the same two numbers for all."""
        n = len(as_texts(texts))
        return np.full(n, self.tau), np.full(n, self.spread)

    def update(self, observations: Iterable[Any]) -> None:
        """Fold observed thresholds into the running mean and spread of ``log tau``."""
        for item in as_observations(observations):
            value = math.log(item.tau)
            if item.censored:
                value = max(value, self._log_mean())
            self._count += 1.0
            self._sum += value
            self._sum_squares += value * value

    def __repr__(self) -> str:
        return f"ConstantPrior(tau={self.tau:.1f}, spread={self.spread:.3f}, observations={int(self._count)})"
