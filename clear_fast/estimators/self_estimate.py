"""Ask a (cheap) chat model how many tokens a query needs: the TALE-EP estimate, calibrated online."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_number_at_least, as_positive_number
from .constant import ConstantPrior
from .parsing import parse_token_estimate
from .protocol import as_observations, as_texts

logger = logging.getLogger("clear_fast.estimators")

DEFAULT_PROMPT = (
    "Task: estimate how many tokens a careful step-by-step solution to the question below needs, "
    "including the final answer. Reply with a single number of tokens and nothing else.\n\n"
    "Question: {question}"
)
_PSEUDO_COUNT = 2.0  # the starting spread counts as this many residuals


def _reply_text(reply: Any) -> str | None:
    """The text of a model reply: a string, a message with ``.content``, or content blocks."""
    content = getattr(reply, "content", reply)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks, e.g. [{"type": "text", "text": "..."}]
        parts = [b if isinstance(b, str) else b.get("text", "") for b in content if isinstance(b, (str, dict))]
        return " ".join(p for p in parts if isinstance(p, str))
    return None


class SelfEstimatePredictor:
    """Thresholds from a chat model's own estimate of the tokens a query needs.

    Parameters
    ----------
    model : Runnable, chat model or callable
        Anything with ``invoke(prompt)`` (any LangChain ``BaseChatModel`` or ``Runnable``;
        ``batch(prompts)`` is used when present), or a plain callable ``prompt -> reply``.
        Replies may be strings or messages.
    prior : ConstantPrior, optional
        Used for every query whose reply names no usable number (default ``ConstantPrior()``).
    prompt : str
        Template with a ``{question}`` field.
    spread : float
        Starting standard deviation of ``log tau`` around a self-estimate (> 0).
    max_tokens : float
        Estimates above this are absurd and fall back to the prior.

    Notes
    -----
    Self-estimates are biased (models tend to guess round, short numbers), so
    ``update`` calibrates: it keeps running sums of ``log(tau / estimate)`` over
    observed queries and predicts ``estimate * exp(mean)`` with that residual's
    standard deviation as the spread. Replies are cached per text, so ``update``
    does not ask the model again. Censored observations are skipped in the
    calibration (a lower bound says little about a ratio). An exception raised
    by the model itself propagates: a broken endpoint should be seen, not hidden.
    """

    def __init__(
        self,
        model: Any,
        *,
        prior: ConstantPrior | None = None,
        prompt: str = DEFAULT_PROMPT,
        spread: float = 0.8,
        max_tokens: float = 100_000.0,
    ) -> None:
        if not (callable(getattr(model, "invoke", None)) or callable(model)):
            raise TypeError(f"`model` must have an invoke(prompt) method or be callable, got {type(model).__name__}")
        if not isinstance(prompt, str) or "{question}" not in prompt:
            raise ValueError("`prompt` must be a string with a {question} field")
        spread = as_positive_number("spread", spread)
        max_tokens = as_number_at_least("max_tokens", max_tokens, 1)
        self.model = model
        self.prior = ConstantPrior() if prior is None else prior
        self.prompt = prompt
        self.max_tokens = float(max_tokens)
        self._start_var = float(spread) ** 2
        self._estimates: dict[str, float | None] = {}
        self._count = 0.0
        self._sum = 0.0
        self._sum_squares = 0.0

    # -- asking ----------------------------------------------------------------------------------

    def _ask(self, texts: list[str]) -> None:
        """Ask the model about every text not yet cached."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._estimates]
        if not missing:
            return
        prompts = [self.prompt.format(question=t) for t in missing]
        batch = getattr(self.model, "batch", None)
        if callable(batch):
            replies = list(batch(prompts))
        elif callable(getattr(self.model, "invoke", None)):
            replies = [self.model.invoke(p) for p in prompts]
        else:
            replies = [self.model(p) for p in prompts]
        for text, reply in zip(missing, replies):
            answer = _reply_text(reply)
            estimate = parse_token_estimate(answer, max_tokens=self.max_tokens) if answer is not None else None
            if estimate is None:
                shown = answer if answer is not None else repr(reply)
                logger.warning(
                    "self-estimate unusable (no number of tokens in [1, %g] in %r): using the prior",
                    self.max_tokens,
                    shown[:120],
                )
            self._estimates[text] = estimate

    def raw_estimates(self, texts: Sequence[str]) -> list[float | None]:
        """The model's own numbers, uncalibrated (None where its reply was unusable)."""
        texts = as_texts(texts)
        self._ask(texts)
        return [self._estimates[t] for t in texts]

    # -- protocol --------------------------------------------------------------------------------

    @property
    def bias(self) -> float:
        """Mean of ``log(tau / estimate)`` over observed queries (0 before any)."""
        return self._sum / (self._count + _PSEUDO_COUNT)

    @property
    def spread(self) -> float:
        """Standard deviation of ``log tau`` around a calibrated self-estimate."""
        mean = self.bias
        scatter = self._sum_squares - 2 * mean * self._sum + self._count * mean * mean
        return math.sqrt((_PSEUDO_COUNT * self._start_var + max(scatter, 0.0)) / (self._count + _PSEUDO_COUNT))

    def predict(self, texts: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(tau, spread)``: calibrated self-estimates, or the prior where a reply was unusable."""
        raw = self.raw_estimates(texts)
        tau, spread = self.prior.predict(texts)
        usable = np.array([r is not None for r in raw], dtype=bool)
        if usable.any():
            values = np.array([r for r in raw if r is not None])
            tau[usable] = values * math.exp(self.bias)
            spread[usable] = self.spread
        return tau, spread

    def update(self, observations: Iterable[Any]) -> None:
        """Calibrate against observed thresholds; queries with unusable replies update the prior."""
        items = as_observations(observations)
        raw = self.raw_estimates([o.text for o in items])
        fallback = []
        for item, estimate in zip(items, raw):
            if estimate is None:
                fallback.append(item)
            elif not item.censored:
                residual = math.log(item.tau / estimate)
                self._count += 1
                self._sum += residual
                self._sum_squares += residual * residual
        if fallback:
            self.prior.update(fallback)

    def __repr__(self) -> str:
        return f"SelfEstimatePredictor(bias={self.bias:+.3f}, spread={self.spread:.3f}, observations={int(self._count)})"
