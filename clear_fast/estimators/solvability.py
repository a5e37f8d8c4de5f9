"""Learn, from text, the chance that the model can solve a query at all: the ceiling of its curve.

A threshold says how many tokens a query needs *if* the model can answer it. Many
queries the model cannot answer at any length; funding them is the costliest mistake
an allocation makes, since their tokens buy nothing. :class:`SolvabilityPredictor`
learns that chance from finished queries (logistic regression on the same hashed
text features as :class:`HistoryPredictor`), and its predictions become each
query's ceiling: ``alpha_i = p_i * beta**2`` (:meth:`clear_fast.fit.FitResult.curves_for`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_integer_at_least, as_positive_number, require_number
from .features import hashed_ngrams
from .protocol import as_texts

_NEWTON_STEPS = 50
_TOLERANCE = 1e-8
_FLOOR = 1e-4  # predictions stay in [1e-4, 1 - 1e-4]: a curve needs a positive ceiling


class SolvabilityPredictor:
    """Predicts the probability that the model solves a query given room, learning from outcomes.

    Parameters
    ----------
    prior : float
        The chance before any history (in (0, 1); e.g. a fit's ``success_probability``).
    strength : float
        How many observations the prior is worth (> 0): the intercept is pulled towards
        ``logit(prior)`` as by that many pseudo-observations.
    n_features : int
        Hash buckets for character n-grams.
    ngram_range : (int, int)
        n-gram lengths.
    ridge : float
        L2 penalty on the feature weights (> 0); the intercept is not penalised.

    Notes
    -----
    An observation is a query's text and a label in [0, 1]: 1 for a query that was
    solved, 0 for one the model answered wrongly with room to spare, and a
    probability in between for evidence that is not conclusive (a fit's posterior
    chance that the query is known, :meth:`clear_fast.fit.FitResult.solvability_observations`;
    a query cut at its cap says little). The model is a logistic regression fitted
    to all history by Newton's method (soft labels are its natural targets), refitted
    lazily before the next prediction: O(n d**2) per step, d = n_features + 3.
    """

    def __init__(
        self,
        *,
        prior: float = 0.5,
        strength: float = 2.0,
        n_features: int = 512,
        ngram_range: tuple[int, int] = (2, 4),
        ridge: float = 0.3,
    ) -> None:
        prior = float(require_number("prior", prior))
        if not 0.0 < prior < 1.0:
            raise ValueError(f"`prior` must be a probability in (0, 1), got {prior!r}")
        self.prior = prior
        self.strength = as_positive_number("strength", strength)
        self.n_features = as_integer_at_least("n_features", n_features, 1)
        if not (isinstance(ngram_range, tuple) and len(ngram_range) == 2 and 1 <= ngram_range[0] <= ngram_range[1]):
            raise ValueError(f"`ngram_range` must be (low, high) with 1 <= low <= high, got {ngram_range!r}")
        self.ngram_range = ngram_range
        self.ridge = as_positive_number("ridge", ridge)
        self._features: list[NDArray[np.float64]] = []
        self._labels: list[NDArray[np.float64]] = []
        self._weights: NDArray[np.float64] | None = None

    @classmethod
    def from_fit(cls, result: Any, **kwargs: Any) -> SolvabilityPredictor:
        """A predictor whose prior is a fit's mean chance of success (:class:`clear_fast.fit.FitResult`)."""
        return cls(prior=min(max(float(result.success_probability), _FLOOR), 1.0 - _FLOOR), **kwargs)

    @property
    def n_observations(self) -> int:
        """How many observations the predictor has learnt from."""
        return int(sum(block.shape[0] for block in self._labels))

    def update(self, observations: Iterable[Any]) -> None:
        """Learn from finished queries: ``(text, label)`` pairs or mappings with ``text`` and ``solved``.

        ``label`` is a bool or a probability in [0, 1].
        """
        texts, labels = _as_labelled(observations)
        if not texts:
            return
        self._features.append(self._featurise(texts))
        self._labels.append(labels)
        self._weights = None

    def predict(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """The chance, per text, that the model solves it given enough tokens (in [1e-4, 1 - 1e-4])."""
        texts = as_texts(texts)
        if not texts:
            return np.zeros(0)
        if not self._labels:
            return np.full(len(texts), self.prior)
        weights = self._solve()
        logits = self._featurise(texts) @ weights[1:] + weights[0]
        return np.clip(1.0 / (1.0 + np.exp(-logits)), _FLOOR, 1.0 - _FLOOR)

    def _featurise(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return hashed_ngrams(texts, n_features=self.n_features, ngram_range=self.ngram_range)

    def _solve(self) -> NDArray[np.float64]:
        """Intercept and weights of the penalised logistic regression on all history (Newton's method)."""
        if self._weights is not None:
            return self._weights
        features = np.vstack(self._features)
        labels = np.concatenate(self._labels)
        n, d = features.shape
        design = np.hstack([np.ones((n, 1)), features])
        penalty = np.full(d + 1, self.ridge)
        penalty[0] = 0.0
        centre = math.log(self.prior / (1.0 - self.prior))
        weights = np.zeros(d + 1)
        weights[0] = centre
        for _ in range(_NEWTON_STEPS):
            chance = 1.0 / (1.0 + np.exp(-(design @ weights)))
            prior_chance = 1.0 / (1.0 + math.exp(-weights[0]))
            gradient = design.T @ (chance - labels) + penalty * weights
            # the prior: `strength` pseudo-observations of label `prior` that see only the intercept
            gradient[0] += self.strength * (prior_chance - self.prior)
            curvature = chance * (1.0 - chance)
            hessian = (design * curvature[:, None]).T @ design + np.diag(penalty)
            hessian[0, 0] += self.strength * prior_chance * (1.0 - prior_chance)
            step = np.linalg.solve(hessian, gradient)
            weights -= step
            if float(np.max(np.abs(step))) < _TOLERANCE:
                break
        self._weights = weights
        return weights

    def __repr__(self) -> str:
        return f"SolvabilityPredictor(prior={self.prior:.3f}, observations={self.n_observations})"


def _as_labelled(observations: Any) -> tuple[list[str], NDArray[np.float64]]:
    if isinstance(observations, (str, bytes)) or not isinstance(observations, Iterable):
        raise TypeError(f"`observations` must be an iterable of (text, label) pairs, got {type(observations).__name__}")
    texts, labels = [], []
    for i, item in enumerate(observations):
        if isinstance(item, Mapping):
            text, label = item.get("text"), item.get("solved")
        elif isinstance(item, tuple) and len(item) == 2:
            text, label = item
        else:
            raise TypeError(f"`observations` item {i} must be a (text, label) pair or a mapping, got {item!r:.80}")
        if not isinstance(text, str):
            raise TypeError(f"`observations` item {i}: the text must be a string, got {type(text).__name__}")
        if isinstance(label, (bool, np.bool_)):
            label = float(label)
        if not isinstance(label, (int, float, np.integer, np.floating)) or not 0.0 <= float(label) <= 1.0:
            raise ValueError(f"`observations` item {i}: the label must be a bool or a probability in [0, 1], got {label!r}")
        texts.append(text)
        labels.append(float(label))
    return texts, np.array(labels, dtype=np.float64)
