"""Where each input's utility curve comes from.

A predictor is any object with ``predict(texts) -> (tau, spread)``: per text, the
tokens a model needs before it can answer (the emergence threshold) and how
widely the answer lengths spread past it. ``clear_fast.estimators`` provides
trained ones; :class:`ConstantPredictor` is the neutral default that treats every
input alike. The curve built from a prediction is the accuracy-at-a-cap form:
success probability ``ceiling`` once the cap is comfortably past ``tau``.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np
from clear_fast import SurgeCurves
from clear_fast._checks import as_float_array


@runtime_checkable
class Predictor(Protocol):
    """Predicts each text's emergence threshold and spread, in tokens."""

    def predict(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """Return ``(tau, spread)``, two arrays with one value per text."""
        ...


class ConstantPredictor:
    """Predicts the same threshold and spread for every text.

    With identical curves the allocation funds as many inputs as the budget can
    carry to a useful length and abandons the rest, instead of starving all.

    Args:
        tau: Tokens before any answer can succeed (>= 0).
        spread: Width of the answer lengths past ``tau`` (> 0).
    """

    def __init__(self, tau: float = 256.0, spread: float = 256.0) -> None:
        if not np.isfinite(tau) or tau < 0:
            raise ValueError(f"`tau` must be a finite number >= 0, got {tau!r}")
        if not np.isfinite(spread) or spread <= 0:
            raise ValueError(f"`spread` must be a finite number > 0, got {spread!r}")
        self.tau = float(tau)
        self.spread = float(spread)

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(texts)
        return np.full(n, self.tau), np.full(n, self.spread)

    def __repr__(self) -> str:
        return f"ConstantPredictor(tau={self.tau:g}, spread={self.spread:g})"


def curves_from_prediction(
    tau: Any,
    spread: Any,
    *,
    ceiling: float = 1.0,
    weight: Any = None,
    max_tokens: Any = None,
) -> SurgeCurves:
    """Accuracy-at-a-cap curves from predicted thresholds and spreads.

    Args:
        tau: Predicted thresholds, one per input.
        spread: Predicted widths (``1/beta``), one per input.
        ceiling: Success probability when nothing is cut off.
        weight: Optional value weights, one per input.
        max_tokens: Optional hard cap per input (e.g. the model's output limit).

    Returns:
        ``SurgeCurves`` of the ``"cumulative"`` form.
    """
    tau = as_float_array("tau", tau, minimum=0.0)
    spread = as_float_array("spread", spread, tau.shape[0], strictly_positive=True)
    return SurgeCurves.from_peak(
        tau, ceiling, spread, form="cumulative", weight=weight, max_tokens=max_tokens
    )


def predict_curves(predictor: Any, texts: Sequence[str], **curve_options: Any) -> SurgeCurves:
    """Run ``predictor`` on ``texts`` and turn its output into curves.

    Raises:
        TypeError: If ``predictor`` has no ``predict`` method.
        ValueError: If it returns the wrong number of values.
    """
    if not callable(getattr(predictor, "predict", None)):
        raise TypeError(f"`predictor` must have a predict(texts) method, got {type(predictor).__name__}")
    result = predictor.predict(list(texts))
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(f"`predictor.predict` must return (tau, spread), got {type(result).__name__}")
    tau, spread = result
    if np.shape(tau) != (len(texts),):
        raise ValueError(f"`predictor.predict` returned {np.shape(tau)} thresholds for {len(texts)} texts")
    return curves_from_prediction(tau, spread, **curve_options)
