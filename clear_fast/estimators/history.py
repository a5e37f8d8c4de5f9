"""Learn thresholds from the user's own finished queries: ridge on text features, plus neighbours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_integer_at_least, as_positive_number
from .constant import ConstantPrior
from .features import hashed_ngrams
from .protocol import Observation, as_observations, as_texts

_PRIOR_PSEUDO_COUNT = 2.0  # the prior's spread counts as this many residuals until data outweighs it
_NEIGHBOUR_SHARPNESS = 0.05  # neighbour weights exp((similarity - 1) / this): near-duplicates dominate
_NEIGHBOUR_FLOOR = 0.01  # smallest variance a neighbour vote can claim (log units squared)


class HistoryPredictor:
    """Predicts ``log tau`` from text, learning from each batch of finished queries.

    Parameters
    ----------
    prior : ConstantPrior, optional
        What to say before any history (default ``ConstantPrior()``), and the prior
        spread the residual variance starts from.
    embeddings : object with ``embed_documents(texts) -> list[list[float]]``, optional
        Any LangChain ``Embeddings`` (or look-alike). When given, thresholds of the
        most similar past queries (cosine similarity) are blended in.
    n_features : int
        Hash buckets for character n-grams.
    ngram_range : (int, int)
        n-gram lengths.
    ridge : float
        L2 penalty of the regression (> 0).
    neighbours : int
        How many past queries vote in the nearest-neighbour estimate.

    Notes
    -----
    The regression keeps sufficient statistics (``X^T X``, ``X^T y``, sums), so an
    update costs O(batch x d^2) and the model equals a ridge fit on all history
    at once; the solve (one O(d^3) eigendecomposition) runs lazily before the next
    prediction. The
    intercept is not penalised. Predictive spread is ``sqrt(s^2 (1 + h))`` with ``s^2``
    the residual variance (pulled towards the prior's spread while history is
    short) and ``h`` the leverage of the new text. Neighbour votes are combined
    with the regression by inverse variance. A censored observation (threshold
    above ``tau``) is fitted at ``max(log tau, current prediction)``: the smallest
    value consistent with both.
    """

    def __init__(
        self,
        *,
        prior: ConstantPrior | None = None,
        embeddings: Any = None,
        n_features: int = 512,
        ngram_range: tuple[int, int] = (2, 4),
        ridge: float = 1.0,
        neighbours: int = 5,
    ) -> None:
        if embeddings is not None and not callable(getattr(embeddings, "embed_documents", None)):
            raise TypeError(f"`embeddings` must have an embed_documents(texts) method, got {type(embeddings).__name__}")
        n_features = as_integer_at_least("n_features", n_features, 1)
        neighbours = as_integer_at_least("neighbours", neighbours, 1)
        if not (isinstance(ngram_range, tuple) and len(ngram_range) == 2 and 1 <= ngram_range[0] <= ngram_range[1]):
            raise ValueError(f"`ngram_range` must be (low, high) with 1 <= low <= high, got {ngram_range!r}")
        ridge = as_positive_number("ridge", ridge)
        self.prior = ConstantPrior() if prior is None else prior
        self.embeddings = embeddings
        self.n_features = n_features
        self.ngram_range = ngram_range
        self.ridge = float(ridge)
        self.neighbours = neighbours
        d = n_features + 2
        self._count = 0
        self._sum_x = np.zeros(d)
        self._sum_y = 0.0
        self._sum_yy = 0.0
        self._xx = np.zeros((d, d))
        self._xy = np.zeros(d)
        self._solution: tuple[Any, ...] | None = None
        self._memory_vectors = np.zeros((0, 0))
        self._memory_targets = np.zeros(0)

    @property
    def n_observations(self) -> int:
        """How many observations the predictor has learnt from."""
        return self._count

    # -- learning --------------------------------------------------------------------------------

    def update(self, observations: Iterable[Any]) -> None:
        """Add finished queries to the history (see :class:`Observation` for the accepted forms)."""
        items = as_observations(observations)
        if not items:
            return
        texts = [item.text for item in items]
        targets = np.log(np.array([item.tau for item in items]))
        censored = np.array([item.censored for item in items])
        if censored.any():
            current, _ = self.predict([t for t, c in zip(texts, censored) if c])
            targets[censored] = np.maximum(targets[censored], np.log(current))
        features = self._features(texts)
        # embed before changing any state, so a failing embedding model leaves the predictor as it was
        vectors = self._embed(texts) if self.embeddings is not None else None
        self._count += len(items)
        self._sum_x += features.sum(axis=0)
        self._sum_y += float(targets.sum())
        self._sum_yy += float(targets @ targets)
        self._xx += features.T @ features
        self._xy += features.T @ targets
        self._solution = None
        if vectors is not None:
            self._memory_vectors = vectors if not self._memory_vectors.size else np.vstack([self._memory_vectors, vectors])
            self._memory_targets = np.r_[self._memory_targets, targets]

    def _features(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return hashed_ngrams(texts, n_features=self.n_features, ngram_range=self.ngram_range)

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        vectors = np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts) or not np.all(np.isfinite(vectors)):
            raise ValueError(
                f"`embeddings.embed_documents` must return {len(texts)} finite vectors of one size, got shape {vectors.shape}"
            )
        if self._memory_vectors.size and vectors.shape[1] != self._memory_vectors.shape[1]:
            raise ValueError(
                f"`embeddings` returned vectors of size {vectors.shape[1]}, earlier ones had "
                f"{self._memory_vectors.shape[1]}"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def _solve(self) -> tuple[NDArray[np.float64], float, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
        """Weights, intercept, feature mean, eigenvectors and eigenvalues of the scatter, residual variance."""
        if self._solution is None:
            n = self._count
            mean_x = self._sum_x / n
            mean_y = self._sum_y / n
            scatter = self._xx - n * np.outer(mean_x, mean_x)
            cross = self._xy - n * mean_x * mean_y
            # one eigendecomposition gives the ridge solution, its degrees of freedom and every leverage
            eigenvalues, eigenvectors = np.linalg.eigh(scatter)
            eigenvalues = np.maximum(eigenvalues, 0.0)
            projected = eigenvectors.T @ cross
            weights = eigenvectors @ (projected / (eigenvalues + self.ridge))
            residual = (self._sum_yy - n * mean_y * mean_y) - 2.0 * weights @ cross + weights @ scatter @ weights
            dof = float(np.sum(eigenvalues / (eigenvalues + self.ridge)))
            prior_var = self.prior.spread**2
            leftover = max(n - 1.0 - dof, 0.0)
            variance = (max(residual, 0.0) + _PRIOR_PSEUDO_COUNT * prior_var) / (leftover + _PRIOR_PSEUDO_COUNT)
            self._solution = (weights, mean_y - mean_x @ weights, mean_x, eigenvectors, eigenvalues, variance)
        return self._solution

    # -- predicting ------------------------------------------------------------------------------

    def predict(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(tau, spread)`` per text: threshold in tokens and standard deviation of ``log tau``."""
        texts = as_texts(texts)
        if self._count == 0 or not texts:
            return self.prior.predict(texts)
        weights, intercept, mean_x, eigenvectors, eigenvalues, variance = self._solve()
        features = self._features(texts)
        mean = features @ weights + intercept
        rotated = (features - mean_x) @ eigenvectors
        leverage = (rotated * rotated / (eigenvalues + self.ridge)).sum(axis=1) + 1.0 / self._count
        var = variance * (1.0 + leverage)
        if self.embeddings is not None and self._memory_targets.size:
            vote, vote_var = self._neighbour_vote(texts)
            precision = 1.0 / var + 1.0 / vote_var
            mean = (mean / var + vote / vote_var) / precision
            var = 1.0 / precision
        return np.exp(mean), np.sqrt(var)

    def _neighbour_vote(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Similarity-weighted mean of the nearest past queries' ``log tau``, and how far to trust it."""
        similarity = self._embed(texts) @ self._memory_vectors.T
        k = min(self.neighbours, similarity.shape[1])
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        sims = np.take_along_axis(similarity, nearest, axis=1)
        targets = self._memory_targets[nearest]
        weights = np.exp((sims - sims.max(axis=1, keepdims=True)) / _NEIGHBOUR_SHARPNESS)
        weights /= weights.sum(axis=1, keepdims=True)
        vote = (weights * targets).sum(axis=1)
        scatter = (weights * (targets - vote[:, None]) ** 2).sum(axis=1)
        # a vote from dissimilar queries is worth little more than the prior
        distance = np.clip(1.0 - sims.max(axis=1), 0.0, 1.0)
        return vote, scatter + distance * self.prior.spread**2 + _NEIGHBOUR_FLOOR

    def __repr__(self) -> str:
        with_neighbours = ", with embeddings" if self.embeddings is not None else ""
        return f"HistoryPredictor(observations={self._count}{with_neighbours})"

