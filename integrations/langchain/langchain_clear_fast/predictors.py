"""Where each input's utility curve comes from.

A predictor is any object with ``predict(texts) -> (tau, spread)``, the protocol
of ``clear_fast.ThresholdPredictor``: per text, the predicted emergence threshold
in tokens (the median) and the standard deviation of ``log tau``. The estimators
in ``clear_fast`` (``ConstantPrior``, ``HistoryPredictor``, ``SelfEstimatePredictor``)
all qualify; ``ConstantPrior()`` is the default.

The threshold says where an input starts to pay; the model says how fast it pays
after that: ``width`` (``1/beta`` in tokens, fit per model with
``clear_fast.fit_rollouts``) and ``ceiling`` (success probability when nothing is
cut off). Together they give the accuracy-at-a-cap curve of each input.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np
from clear_fast import SurgeCurves


@runtime_checkable
class Predictor(Protocol):
    """Predicts each text's emergence threshold (tokens) and the spread of its log."""

    def predict(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """Return ``(tau, spread)``, two arrays with one value per text."""
        ...


def curves_from_prediction(
    tau: Any,
    *,
    width: float = 200.0,
    ceiling: float = 1.0,
    weight: Any = None,
    max_tokens: Any = None,
) -> SurgeCurves:
    """Accuracy-at-a-cap curves from predicted thresholds.

    Args:
        tau: Predicted thresholds in tokens, one per input.
        width: The model's curve width ``1/beta`` in tokens (scalar or per input).
        ceiling: Success probability when nothing is cut off (scalar or per input).
        weight: Optional value weights, one per input.
        max_tokens: Optional hard cap per input (e.g. the model's output limit).

    Returns:
        ``SurgeCurves`` of the ``"cumulative"`` form.
    """
    if np.ndim(tau) == 0:
        tau = [tau]  # one input; SurgeCurves checks every value
    return SurgeCurves.from_peak(tau, ceiling, width, form="cumulative", weight=weight, max_tokens=max_tokens)


def run_predictor(predictor: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``predictor.predict(texts)``, checked: two float arrays of one value per text.

    Raises:
        TypeError: If ``predictor`` has no ``predict`` method.
        ValueError: If it returns the wrong shape or bad values.
    """
    if not callable(getattr(predictor, "predict", None)):
        raise TypeError(f"`predictor` must have a predict(texts) method, got {type(predictor).__name__}")
    result = predictor.predict(list(texts))
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(f"`predictor.predict` must return (tau, spread), got {type(result).__name__}")
    tau, spread = result
    if np.shape(tau) != (len(texts),) or np.shape(spread) != (len(texts),):
        raise ValueError(
            f"`predictor.predict` returned shapes {np.shape(tau)} and {np.shape(spread)} for {len(texts)} texts"
        )
    return _finite_nonnegative("tau", tau), _finite_nonnegative("spread", spread)


def _finite_nonnegative(name: str, values: Any) -> np.ndarray:
    """A float64 copy of a predictor's output, refused when an entry is not a finite number >= 0."""
    try:
        array = np.array(values, dtype=np.float64)  # a copy: nothing the predictor holds is aliased
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of numbers, got {values!r:.80}") from None
    for problem, bad in (("finite", ~np.isfinite(array)), (">= 0", array < 0)):
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"`{name}` must be {problem}, got {array[i]} at index {i}")
    return array
