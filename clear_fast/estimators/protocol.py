"""What every threshold predictor offers, what it learns from, and how its error is measured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_float_array, as_positive_tokens, require_instance


@dataclass(frozen=True)
class Observation:
    """What one finished query taught us about its threshold.

    Attributes
    ----------
    text : str
        The query.
    tau : float
        Its threshold in tokens (> 0): a fitted value (:class:`clear_fast.fit.FitResult`),
        or the length of a correct answer, which is an upper bound close to it.
    censored : bool
        True when the query was never answered within ``tau`` tokens (cut at the cap):
        its threshold is only known to be above ``tau``.
    """

    text: str
    tau: float
    censored: bool = False

    def __post_init__(self) -> None:
        require_instance("text", self.text, str)
        as_positive_tokens("tau", self.tau)


@runtime_checkable
class ThresholdPredictor(Protocol):
    """Predicts each query's emergence threshold, with its uncertainty, and learns online."""

    def predict(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return ``(tau, spread)``: the predicted threshold in tokens and the standard deviation of ``log tau``."""
        ...

    def update(self, observations: Iterable[Observation | tuple[Any, ...] | Mapping[str, Any]]) -> None:
        """Learn from finished queries."""
        ...


def as_texts(texts: Any) -> list[str]:
    """``texts`` as a list of strings (a lone string is refused: it would be read as characters)."""
    if isinstance(texts, str):
        raise TypeError("`texts` must be a sequence of strings, got a single string (wrap it in a list)")
    try:
        out = list(texts)
    except TypeError:
        raise TypeError(f"`texts` must be a sequence of strings, got {type(texts).__name__}") from None
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"`texts` must hold strings, got {type(text).__name__} at index {i}")
    return out


def as_observations(observations: Any) -> list[Observation]:
    """Observations from :class:`Observation` objects, ``(text, tau[, censored])`` tuples or mappings."""
    if isinstance(observations, (str, Observation)) or not isinstance(observations, Iterable):
        raise TypeError(f"`observations` must be an iterable of observations, got {type(observations).__name__}")
    out = []
    for i, item in enumerate(observations):
        if isinstance(item, Observation):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Observation(item["text"], item["tau"], bool(item.get("censored", False))))
        elif isinstance(item, tuple) and len(item) in (2, 3):
            out.append(Observation(item[0], item[1], bool(item[2]) if len(item) == 3 else False))
        else:
            raise TypeError(
                f"`observations` item {i} must be an Observation, a (text, tau[, censored]) tuple or a mapping, "
                f"got {item!r:.80}"
            )
    return out


def heldout_error(predictor: ThresholdPredictor, texts: Sequence[str], tau: ArrayLike) -> float:
    """Mean absolute error of a predictor on log tokens, on queries it has not learnt from.

    Parameters
    ----------
    predictor : ThresholdPredictor
    texts : sequence of str, length n
    tau : array_like, shape (n,)
        True thresholds (> 0).

    Returns
    -------
    float
        ``mean |log tau_hat - log tau|`` (0.1 is about 10% off).
    """
    texts = as_texts(texts)
    truth = as_float_array("tau", tau, len(texts), strictly_positive=True)
    if not texts:
        raise ValueError("`texts` is empty: there is no error to measure")
    predicted, _ = predictor.predict(texts)
    return float(np.mean(np.abs(np.log(predicted) - np.log(truth))))
