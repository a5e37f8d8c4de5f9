"""Learn from a batch while it runs: each pass's graded outcomes sharpen the predictions of the next wave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .protocol import as_texts
from .solvability import SolvabilityPredictor


class OutcomeLearner:
    """Feeds what a pass showed to the predictors and gives the next wave its curves.

    Parameters
    ----------
    fit : clear_fast.fit.FitResult
        The model's profile: its ``curves_for(tau, chance)`` builds the curves.
    texts : sequence of str, length n
        The batch's queries, in batch order.
    thresholds : HistoryPredictor, or any threshold predictor
        Learns from ``(text, tokens)`` of every query solved (the length of a correct
        answer, an upper bound close to its threshold).
    solvability : SolvabilityPredictor, optional
        Learns 1 for a query solved and 0 for one answered wrongly with room to spare
        (finished under its cap); a run cut at its cap teaches it nothing. Without one,
        every query keeps the model's mean chance.

    Notes
    -----
    Call it with a :class:`clear_fast.waves.PassOutcome` (``run_waves`` and
    ``run_openai_waves`` do, as their ``learn=``). Only graded outcomes teach: without a
    grader (``outcome.correct`` is None) the predictions are kept. The predictors are
    changed in place: they keep what the batch taught them.
    """

    def __init__(
        self, fit: Any, texts: Sequence[str], thresholds: Any, solvability: SolvabilityPredictor | None = None
    ) -> None:
        if not callable(getattr(fit, "curves_for", None)):
            raise TypeError(f"`fit` must be a FitResult (with curves_for), got {type(fit).__name__}")
        for name, predictor in (("thresholds", thresholds), ("solvability", solvability)):
            if predictor is not None and not (callable(getattr(predictor, "predict", None)) and callable(getattr(predictor, "update", None))):
                raise TypeError(f"`{name}` must have predict and update, got {type(predictor).__name__}")
        self.fit = fit
        self.texts = as_texts(texts)
        self.thresholds = thresholds
        self.solvability = solvability

    def predictions(self) -> tuple[Any, NDArray[np.float64]]:
        """The batch's curves and spreads as the predictors see them now."""
        tau, spread = self.thresholds.predict(self.texts)
        chance = None if self.solvability is None else self.solvability.predict(self.texts)
        return self.fit.curves_for(tau, chance), spread

    def __call__(self, outcome: Any) -> tuple[Any, NDArray[np.float64]] | None:
        """Learn from one pass; the next wave's ``(curves, spread)``, or None when nothing was learnt."""
        if outcome.correct is None:
            return None
        ran = np.asarray(outcome.caps) > 0
        solved = ran & np.asarray(outcome.correct, dtype=bool)
        wrong = ran & ~np.asarray(outcome.cut, dtype=bool) & ~solved
        if not (solved.any() or wrong.any()):
            return None
        used = np.asarray(outcome.tokens_used)
        self.thresholds.update([(self.texts[i], float(max(used[i], 1))) for i in np.flatnonzero(solved)])
        if self.solvability is not None:
            self.solvability.update(
                [(self.texts[i], True) for i in np.flatnonzero(solved)] + [(self.texts[i], False) for i in np.flatnonzero(wrong)]
            )
        return self.predictions()

    def __repr__(self) -> str:
        return f"OutcomeLearner(queries={len(self.texts)}, thresholds={self.thresholds!r}, solvability={self.solvability!r})"

