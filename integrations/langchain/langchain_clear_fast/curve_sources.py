"""Each input's utility curve, whatever the size of the batch it comes in.

A runner gets its curves one of three ways, all per input so that a batch of any
size and a single ``invoke`` work alike:

* a predictor (``predict(texts) -> (tau, spread)``) reading each input's text;
* a function of one input returning its curve (``SurgeCurves`` of one query);
* the name of a column of dict inputs holding the curve (``SurgeCurves`` of one
  query) or just the threshold ``tau`` (a number; the runner's ``width`` and
  ``ceiling`` give the rest).

Every curve is cut at the runner's output limit, so no grant goes past it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numbers

import numpy as np
from clear_fast import SurgeCurves

from .predictors import curves_from_prediction, run_predictor


def check_curves_argument(curves: Any) -> None:
    """Refuse a ``curves=`` that is not a function of one input or a column name."""
    if isinstance(curves, SurgeCurves):
        raise TypeError(
            "`curves` takes each input's curve: a function of one input returning SurgeCurves of one query "
            "(e.g. `lambda x: all_curves.subset([x['id']])`) or the name of the input column holding it; "
            f"fixed SurgeCurves for {len(curves)} queries would tie the runner to batches of exactly that size"
        )
    if curves is not None and not (callable(curves) or isinstance(curves, str)):
        raise TypeError(f"`curves` must be a function of one input or a column name, got {type(curves).__name__}")


@dataclass(frozen=True)
class CurveSource:
    """Where a runner's curves come from, and the shape it gives predicted thresholds."""

    predictor: Any
    curves: Callable[[Any], SurgeCurves] | str | None
    text_of: Callable[[Any], str]
    width: float
    ceiling: float
    limit: int | None

    def for_inputs(self, inputs: Sequence[Any]) -> tuple[SurgeCurves, np.ndarray]:
        """The curves of ``inputs`` and the spread of each ``log tau`` (0 when given)."""
        if self.curves is None:
            tau, spread = run_predictor(self.predictor, [self.text_of(x) for x in inputs])
            return self._from_tau(tau), spread
        parts = [self._one(x, i) for i, x in enumerate(inputs)]
        return self._joined(parts), np.zeros(len(parts))

    def _from_tau(self, tau: Any) -> SurgeCurves:
        limit = None if self.limit is None else float(self.limit)
        return curves_from_prediction(tau, width=self.width, ceiling=self.ceiling, max_tokens=limit)

    def _one(self, value: Any, i: int) -> SurgeCurves:
        if isinstance(self.curves, str):
            if not isinstance(value, Mapping) or self.curves not in value:
                raise ValueError(f"input {i} has no column {self.curves!r} (`curves={self.curves!r}`): got {value!r:.80}")
            found = value[self.curves]
            what = f"column {self.curves!r} of input {i}"
        else:
            found = self.curves(value)  # type: ignore[misc]
            what = f"`curves` of input {i}"
        if isinstance(found, numbers.Real) and not isinstance(found, bool):
            return self._from_tau([float(found)])
        if not isinstance(found, SurgeCurves) or len(found) != 1:
            raise ValueError(f"{what} must be SurgeCurves of one query or a threshold in tokens, got {found!r:.80}")
        return found

    def _joined(self, parts: list[SurgeCurves]) -> SurgeCurves:
        if not parts:
            return self._from_tau(np.zeros(0))
        forms = {part.form for part in parts}
        if len(forms) > 1:
            raise ValueError(f"the inputs' curves must all have one form, got {sorted(forms)}")

        def column(name: str) -> np.ndarray:
            return np.concatenate([getattr(part, name) for part in parts])

        max_tokens = column("max_tokens")
        if self.limit is not None:
            max_tokens = np.minimum(max_tokens, float(self.limit))
        return SurgeCurves(
            column("tau"), column("alpha"), column("beta"), weight=column("weight"),
            min_tokens=np.minimum(column("min_tokens"), max_tokens), max_tokens=max_tokens, form=forms.pop(),
        )
