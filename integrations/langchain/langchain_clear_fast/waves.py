"""How a batch reinvests what its first pass did not use: the ``waves=`` of :class:`BudgetedRunnable`.

After the first pass, some funded inputs finished under their caps (tokens left
unspent), some were cut at their cap, and the abandoned ones never ran. A wave
spends the batch's leftover on the inputs abandoned or cut, at larger caps
(``clear_fast.waves.next_wave``: a cut is evidence that the input's threshold is
above its cap), and reruns them through the chain. An input that finished under
its cap, or that the grader calls correct, is never rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

#: How a rerun relates to the earlier run, as ``clear_fast.next_wave`` takes it.
DECODINGS = ("deterministic", "sampled")


@dataclass(frozen=True)
class Waves:
    """Waves after a batch's first pass.

    Args:
        max_waves: Waves after the first pass (whole number >= 0); fewer run when
            nothing is left to spend or to rerun.
        decoding: ``"deterministic"`` when a rerun repeats the earlier answer
            (temperature 0), ``"sampled"`` when it draws afresh: it decides what a
            rerun at a larger cap is worth.
        is_correct: ``is_correct(input, output) -> bool``, a grader: an input whose
            answer it accepts is never rerun, even when that answer was cut after it
            came. Without one, an input that finished under its cap is done and one
            cut at its cap is a candidate.

    Example:
        ```python
        runner = BudgetedRunnable(chain, budget=50_000, predictor=HistoryPredictor(),
                                  waves=Waves(2, is_correct=lambda x, out: x["answer"] in out))
        ```
    """

    max_waves: int = 3
    decoding: str = "deterministic"
    is_correct: Callable[[Any, Any], bool] | None = None

    def __post_init__(self) -> None:
        rounds = self.max_waves
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
            raise ValueError(f"`max_waves` must be a whole number >= 0, got {rounds!r}")
        if self.decoding not in DECODINGS:
            raise ValueError(f"`decoding` must be one of {DECODINGS}, got {self.decoding!r}")
        if self.is_correct is not None and not callable(self.is_correct):
            raise TypeError(f"`is_correct` must be a function (input, output) -> bool, got {self.is_correct!r}")


def as_waves(value: Any) -> Waves | None:
    """The runner's ``waves=``: None, a number of waves, a :class:`Waves`, or a policy with
    ``max_waves`` and ``decoding`` (``clear_fast.evaluation.WavesPolicy``)."""
    if value is None or isinstance(value, Waves):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Waves(value)
    if hasattr(value, "max_waves") and hasattr(value, "decoding"):
        return Waves(value.max_waves, value.decoding)
    raise TypeError(
        f"`waves` must be None, a number of waves, a langchain_clear_fast.Waves or a policy with max_waves and "
        f"decoding, got {value!r}"
    )
