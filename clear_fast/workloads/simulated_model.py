"""A simulated reasoning model whose accuracy at a cap is a known cumulative curve.

Each query ``i`` has a threshold ``tau_i`` and a model-wide width ``1/beta``. The
model either knows the answer (probability ``p_i = alpha_i / beta_i**2``) or not,
and thinks for a natural length ``tau_i + Gamma(2, 1/beta_i)`` tokens, rounded up
to a whole token. A cap cuts the answer off when it is shorter than that length.
The answer is right only when the model knows it and it fits, so

    P(correct at cap b) = p_i * P(tau_i + Gamma(2, 1/beta_i) <= b)
                        = alpha_i / beta_i**2 * (1 - (1 + beta_i x) exp(-beta_i x)),  x = b - tau_i,

which is ``SurgeCurves(..., form="cumulative")``: the surge is the density of
correct-answer lengths (the paper fits the surge to histograms of correct
rollouts by length).

A wrong answer (the model does not know) runs for a length drawn from the same
law: length alone says nothing about correctness, and an answer cut at the cap
is censored whether or not it would have been right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_index, as_nonnegative_integer, as_whole_counts, require_instance
from ..curves import SurgeCurves

FINISH_STOP = "stop"
FINISH_LENGTH = "length"


@dataclass(frozen=True)
class SimulatedAnswer:
    """One answer of the simulated model.

    Attributes
    ----------
    correct : bool
        True when the model knew the answer and it fitted under the cap.
    tokens_used : int
        ``min(cap, natural_length)``; 0 when the cap is 0 (the query was not run).
    finish_reason : str or None
        ``"stop"`` when the answer ended by itself, ``"length"`` when the cap cut it
        (typed like a real request's, which has none when no answer came back).
    natural_length : int
        Tokens the answer takes without a cap.
    """

    correct: bool
    tokens_used: int
    finish_reason: str | None
    natural_length: int


class SimulatedReasoner:
    """A reasoning model whose answers follow each query's cumulative curve.

    Parameters
    ----------
    curves : SurgeCurves, length n
        Query ``i`` follows curve ``i`` (``tau``, ``alpha``, ``beta``; either form:
        a ``"surge"`` curve is read as the density of correct lengths, so the
        accuracy at a cap is its cumulative form). ``weight`` and the caps of the
        curves play no part: they are the allocator's business.
    seed : int, default 0
        Seed of the model's randomness.

    Raises
    ------
    TypeError
        If ``curves`` is not a :class:`~clear_fast.SurgeCurves` or ``seed`` is not an integer.
    ValueError
        If a query's success probability ``alpha / beta**2`` exceeds 1, or ``seed < 0``.

    Notes
    -----
    Whether the model knows query ``i`` and its natural length are drawn once,
    when the reasoner is built, from the ``i``-th triple of uniforms of
    ``numpy.random.default_rng(seed)``; so they depend only on ``seed`` and ``i``
    (a stream's first ``k`` queries get the same draws as a stream of ``k``), and a
    larger cap never makes an answer worse. ``Gamma(2, 1/beta)`` is drawn as a sum
    of two exponentials.
    """

    def __init__(self, curves: SurgeCurves, *, seed: int = 0) -> None:
        require_instance("curves", curves, SurgeCurves)
        self._seed = as_nonnegative_integer("seed", seed)
        success = curves.alpha / (curves.beta * curves.beta)
        # A small tolerance: from_peak(peak=1) computes alpha = beta**2 with rounding.
        too_likely = success > 1.0 + 1e-9
        if too_likely.any():
            i = int(np.argmax(too_likely))
            raise ValueError(
                f"`curves` must have success probability alpha/beta**2 <= 1, got {success[i]:.6g} at index {i}"
            )
        uniforms = np.random.default_rng(self._seed).random((len(curves), 3))
        # 1 - u lies in (0, 1]: the logarithms stay finite.
        extra = -(np.log1p(-uniforms[:, 0]) + np.log1p(-uniforms[:, 1])) / curves.beta
        natural = np.maximum(np.ceil(curves.tau + extra), 1.0).astype(np.int64)
        knows = uniforms[:, 2] < np.minimum(success, 1.0)
        natural.flags.writeable = False
        knows.flags.writeable = False
        self._natural = natural
        self._knows = knows

    def __len__(self) -> int:
        return int(self._natural.shape[0])

    @property
    def seed(self) -> int:
        """The seed the draws came from."""
        return self._seed

    @property
    def natural_lengths(self) -> NDArray[np.int64]:
        """Read-only int64[n]: tokens each answer takes without a cap."""
        return self._natural

    @property
    def knows_answer(self) -> NDArray[np.bool_]:
        """Read-only bool[n]: whether the model would answer each query right given room."""
        return self._knows

    def answer(self, query: int, cap: int) -> SimulatedAnswer:
        """Answer query ``query`` under a cap of ``cap`` tokens.

        Parameters
        ----------
        query : int
            Index of the query, ``0 <= query < n``.
        cap : int
            Generation limit in tokens (>= 0). 0 means the query is not run.

        Returns
        -------
        SimulatedAnswer

        Raises
        ------
        TypeError
            If ``query`` or ``cap`` is not an integer.
        ValueError
            If ``query`` is out of range or ``cap`` is negative.
        """
        as_index("query", query, len(self))
        as_nonnegative_integer("cap", cap)
        natural = int(self._natural[query])
        cut = natural > cap
        return SimulatedAnswer(
            correct=bool(self._knows[query]) and not cut,
            tokens_used=min(int(cap), natural),
            finish_reason=FINISH_LENGTH if cut else FINISH_STOP,
            natural_length=natural,
        )

    def answer_many(self, caps: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_]]:
        """Answer every query at once, query ``i`` under ``caps[i]``.

        Parameters
        ----------
        caps : array_like of int, shape (n,)
            Whole numbers of tokens >= 0 (0 = not run).

        Returns
        -------
        correct : ndarray of bool, shape (n,)
        tokens_used : ndarray of int64, shape (n,)
            ``min(caps, natural_lengths)``.
        cut : ndarray of bool, shape (n,)
            True where the cap cut the answer (``finish_reason == "length"``),
            which includes every query with cap 0.

        Raises
        ------
        TypeError
            If ``caps`` is not numeric.
        ValueError
            If ``caps`` has the wrong shape, or holds a negative, non-finite or
            fractional value.
        """
        caps = as_whole_counts("caps", caps, len(self))
        cut = self._natural > caps
        return self._knows & ~cut, np.minimum(caps, self._natural), cut
