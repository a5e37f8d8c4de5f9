"""Threshold predictors with controllable error, for experiments on streams with known truth."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from .._checks import as_nonnegative_integer, as_nonnegative_number, require_instance
from .streams import Stream


class NoisyThresholdOracle:
    """Predicts a stream's thresholds with lognormal multiplicative noise of a chosen size.

    ``tau_hat_i = tau_i * exp(sigma * z_i)`` with ``z_i`` standard normal, drawn once
    per query from ``seed``: asking twice gives the same answer, and ``sigma = 0``
    is a perfect oracle. It follows the estimators' protocol
    ``predict(texts) -> (tau, spread)``.

    Parameters
    ----------
    stream : Stream
        The stream whose queries will be asked about (looked up by text).
    sigma : float
        Standard deviation of the error in log-tokens (>= 0). A learned
        predictor with a typical 25% error has ``sigma`` about 0.25.
    seed : int, default 0
        Seed of the noise.

    Raises
    ------
    TypeError
        If ``stream`` is not a Stream or ``seed`` is not an integer.
    ValueError
        If ``sigma`` is negative or not finite, or ``seed`` is negative.
    """

    def __init__(self, stream: Stream, sigma: float, *, seed: int = 0) -> None:
        require_instance("stream", stream, Stream)
        self.sigma: float = as_nonnegative_number("sigma", sigma)
        self.seed: int = as_nonnegative_integer("seed", seed)
        noise = np.random.default_rng(self.seed).standard_normal(len(stream))
        self._tau_hat: NDArray[np.float64] = stream.curves.tau * np.exp(self.sigma * noise)
        self._index: dict[str, int] = {text: i for i, text in enumerate(stream.texts)}

    def predict(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Predicted thresholds of the queries with these texts.

        Parameters
        ----------
        texts : sequence of str, length k
            Texts of queries of the stream.

        Returns
        -------
        tau : ndarray of float64, shape (k,)
            Predicted thresholds in tokens.
        spread : ndarray of float64, shape (k,)
            Standard deviation of ``log(tau)`` around the prediction: ``sigma`` for every query.

        Raises
        ------
        TypeError
            If ``texts`` is a single string.
        ValueError
            If a text is not one of the stream's.
        """
        if isinstance(texts, str):
            raise TypeError("`texts` must be a sequence of strings, got a single string")
        positions = []
        for k, text in enumerate(texts):
            i = self._index.get(text)
            if i is None:
                raise ValueError(f"`texts`[{k}] is not a query of this stream: {str(text)[:60]!r}")
            positions.append(i)
        pick = np.array(positions, dtype=np.int64)
        return self._tau_hat[pick].copy(), np.full(len(pick), self.sigma)

    def __repr__(self) -> str:
        return f"NoisyThresholdOracle(sigma={self.sigma:g}, seed={self.seed})"
