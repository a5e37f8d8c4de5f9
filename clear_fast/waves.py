"""Waves: reinvest what a pass did not spend, in the queries it abandoned or cut short.

One allocation decides every cap before anything runs, on guesses. After the pass,
some funded queries finished under their caps (tokens left unspent), some were cut
at their cap (their threshold is above it, or the model does not know them), and
the abandoned ones never ran. A *wave* spends the leftover on those two kinds of
query, knowing what the pass taught:

* an abandoned query is valued as before: ``E[w p F(b - tau)]`` over its predicted
  threshold's spread;
* a query cut at cap ``c`` is evidence, not a loss: its run was not correct at ``c``.
  Rerun at ``b > c`` it succeeds with probability
  ``P(known, c < L <= b) / P(not correct at c)`` under greedy decoding (the same
  answer again, now with room), or ``E[(1 - p F(c - tau)) p F(b - tau)] / E[1 - p F(c - tau)]``
  with sampled decoding (a fresh answer); the threshold's distribution is updated by
  the failure in both. A rerun costs its whole new cap: a chat API restarts.
* a query that finished under its cap is done (answered, right or wrong).

Between passes the predictions themselves can learn: a ``learn`` callback gets
each pass's outcomes (:class:`PassOutcome`) and may return new curves and spreads
for the next wave (:class:`clear_fast.estimators.OutcomeLearner` feeds solved
queries to a threshold predictor and graded outcomes to a solvability predictor).

Each wave is a multiple-choice knapsack over candidate grants
(:func:`clear_fast.allocate_levels`) with the leftover as its budget, so the whole
batch never spends more than its budget. Nothing here runs a model: a batch
runner calls :func:`next_wave` between passes (``clear_fast.calls.run_openai_waves``
does, and so does :func:`run_waves` for any synchronous ``answer(caps)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_budget, as_float_array, as_integer_at_least, require_choice, require_instance
from .curves import SurgeCurves
from .levels import allocate_levels

DECODINGS = ("deterministic", "sampled")
_Z = np.linspace(-6.0, 6.0, 121)  # quadrature over z = log(tau / tau_hat) / spread: normal mass beyond 6 is 2e-9
_Z_WEIGHTS = np.exp(-0.5 * _Z * _Z) / np.sum(np.exp(-0.5 * _Z * _Z))
_TAIL = 2.5  # candidate grants span tau_hat exp(+-2.5 spread) ...
_WIDTHS_PAST = 8.0  # ... and this many 1/beta past it
_CHUNK = 2048  # queries per block of the (queries x grants x nodes) arrays


@dataclass(frozen=True, eq=False)
class WavePlan:
    """The caps of the next wave.

    Attributes
    ----------
    tokens : ndarray of int64, shape (n,)
        Cap of each query in this wave (0 = not run); ``sum(tokens) <= budget``.
    candidates : ndarray of bool, shape (n,)
        Queries the wave could fund: never run, or cut at their cap and not known correct.
    expected_utility : ndarray of float64, shape (n,)
        Each funded query's chance (times its weight) of being solved in this wave, given
        what the earlier passes showed.
    shadow_price : float
        Expected utility per token at the margin of this wave.
    budget : int
        The leftover this wave could spend.
    """

    tokens: NDArray[np.int64]
    candidates: NDArray[np.bool_]
    expected_utility: NDArray[np.float64]
    shadow_price: float
    budget: int
    spent: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spent", int(self.tokens.sum()))


def rerun_value(
    curves: SurgeCurves,
    spread: ArrayLike,
    tokens: ArrayLike,
    *,
    tried: ArrayLike | None = None,
    decoding: str = "deterministic",
) -> NDArray[np.float64]:
    """Weighted chance that a query is solved at ``tokens``, given it was not correct at ``tried``.

    Parameters
    ----------
    curves : SurgeCurves, form "cumulative", length n
        Predicted curves (``tau`` the median threshold, ``alpha / beta**2`` the ceiling).
    spread : float or array_like, shape (n,)
        Standard deviation of ``log tau`` (>= 0).
    tokens : array_like, shape (n,) or (n, L)
        Grants to value (>= 0), one or ``L`` per query.
    tried : array_like, shape (n,), optional
        The cap each query's earlier run was not correct at (0: never run; default all 0).
    decoding : {"deterministic", "sampled"}
        Whether a rerun repeats the earlier answer (greedy decoding) or draws afresh.

    Returns
    -------
    ndarray, shape like ``tokens``
        ``weight * P(correct at b | not correct at tried)``; 0 for grants not above
        ``tried`` or below ``min_tokens``; grants above ``max_tokens`` valued at it.
    """
    require_instance("curves", curves, SurgeCurves)
    if curves.form != "cumulative":
        raise ValueError(f"waves need curves of form 'cumulative' (a chance of success), got {curves.form!r}")
    require_choice("decoding", decoding, DECODINGS)
    n = len(curves)
    spreads = as_float_array("spread", spread, n, minimum=0.0)
    earlier = as_float_array("tried", np.zeros(n) if tried is None else tried, n, minimum=0.0)
    grants = np.array(tokens, dtype=np.float64, copy=True)
    if grants.ndim not in (1, 2) or grants.shape[0] != n:
        raise ValueError(f"`tokens` must have shape ({n},) or ({n}, L), got {grants.shape}")
    if not np.all(np.isfinite(grants)) or np.any(grants < 0):
        raise ValueError("`tokens` must be finite and >= 0")
    flat = grants.reshape(n, -1)
    out = np.zeros_like(flat)
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(start + _CHUNK, n))
        out[rows] = _values(curves, rows, spreads[rows], flat[rows], earlier[rows], decoding)
    return out.reshape(grants.shape)


def _values(
    curves: SurgeCurves,
    rows: slice,
    spread: NDArray[np.float64],
    grants: NDArray[np.float64],
    tried: NDArray[np.float64],
    decoding: str,
) -> NDArray[np.float64]:
    beta = curves.beta[rows][:, None]
    ceiling = (curves.alpha[rows] / curves.beta[rows] ** 2)[:, None]  # p: the chance with room to spare
    tau = curves.tau[rows][:, None] * np.exp(spread[:, None] * _Z[None, :])  # (m, K)
    usable = (grants >= curves.min_tokens[rows][:, None]) & (grants > tried[:, None])
    capped = np.minimum(grants, curves.max_tokens[rows][:, None])
    fits = _gamma2_cdf(capped[:, :, None] - tau[:, None, :], beta[:, :, None])  # (m, L, K)
    fitted_before = _gamma2_cdf(tried[:, None] - tau, beta)  # (m, K)
    not_before = 1.0 - ceiling * fitted_before
    if decoding == "deterministic":
        solved = ceiling[:, :, None] * np.maximum(fits - fitted_before[:, None, :], 0.0)
    else:
        solved = not_before[:, None, :] * ceiling[:, :, None] * fits
    chance = (solved * _Z_WEIGHTS).sum(axis=2) / (not_before * _Z_WEIGHTS).sum(axis=1)[:, None]
    return np.where(usable, curves.weight[rows][:, None] * np.clip(chance, 0.0, 1.0), 0.0)


def _gamma2_cdf(x: NDArray[np.float64], beta: NDArray[np.float64]) -> NDArray[np.float64]:
    y = beta * np.maximum(x, 0.0)
    return -np.expm1(-y) - y * np.exp(-y)


def next_wave(
    curves: SurgeCurves,
    spread: ArrayLike,
    budget: int,
    *,
    tried: ArrayLike,
    cut: ArrayLike,
    correct: ArrayLike | None = None,
    decoding: str = "deterministic",
    levels: int = 48,
) -> WavePlan:
    """Caps for the next wave of a batch: the leftover budget on queries never run or cut at their cap.

    Parameters
    ----------
    curves : SurgeCurves, form "cumulative", length n
        The batch's predicted curves (per-query ceilings welcome).
    spread : float or array_like, shape (n,)
        Standard deviation of each predicted ``log tau`` (>= 0).
    budget : int
        Tokens this wave may spend: the batch's budget minus what earlier passes used.
    tried : array_like of int, shape (n,)
        Largest cap each query has run at so far (0 = never run).
    cut : array_like of bool, shape (n,)
        Whether that run stopped at its cap (finish_reason ``"length"``).
    correct : array_like of bool, shape (n,), optional
        Queries known to be solved (a grader's verdict; a run cut after its answer
        can be correct). Default: none known.
    decoding : {"deterministic", "sampled"}
        How a rerun relates to the earlier run (see :func:`rerun_value`).
    levels : int
        Candidate grants per query (>= 2).

    Returns
    -------
    WavePlan

    Notes
    -----
    Candidates are the queries never run, and those cut at their cap and not known
    correct. A query that finished under its cap is done: rerunning a greedy answer
    repeats it. Candidate grants per query span from just above its earlier cap (or
    ``tau_hat exp(-2.5 s)``) to ``max(tried, tau_hat exp(2.5 s)) + 8 / beta``, within
    ``min_tokens``, ``max_tokens`` and the budget; their values come from
    :func:`rerun_value` and the knapsack from :func:`clear_fast.allocate_levels`.
    """
    require_instance("curves", curves, SurgeCurves)
    n = len(curves)
    total = as_budget(budget)
    spreads = as_float_array("spread", spread, n, minimum=0.0)
    earlier = as_float_array("tried", tried, n, minimum=0.0)
    was_cut = _as_flags("cut", cut, n)
    known = np.zeros(n, dtype=bool) if correct is None else _as_flags("correct", correct, n)
    count = as_integer_at_least("levels", levels, 2)
    candidates = ((earlier == 0) | was_cut) & ~known
    low = np.maximum.reduce([np.floor(earlier) + 1.0, np.ceil(curves.min_tokens), curves.tau * np.exp(-_TAIL * spreads)])
    low = np.where(earlier > 0, np.floor(earlier) + 1.0, low)  # a rerun must go past its earlier cap
    high = np.maximum(earlier, curves.tau * np.exp(_TAIL * spreads)) + _WIDTHS_PAST / curves.beta
    high = np.minimum.reduce([high, np.floor(curves.max_tokens), np.full(n, float(total))])
    candidates &= low <= high
    tokens = np.zeros(n, dtype=np.int64)
    value = np.zeros(n)
    if not candidates.any() or total == 0:
        return WavePlan(tokens, candidates, value, 0.0, total)
    pick = np.flatnonzero(candidates)
    share = np.linspace(0.0, 1.0, count)
    grants = np.floor(low[pick, None] + share[None, :] * (high - low)[pick, None])
    sub = curves.subset(pick)
    values = rerun_value(sub, spreads[pick], grants, tried=earlier[pick], decoding=decoding)
    chosen = allocate_levels(grants, values, total)
    funded = chosen.level >= 0
    rows = np.arange(pick.shape[0])
    tokens[pick[funded]] = grants[rows[funded], chosen.level[funded]].astype(np.int64)
    value[pick[funded]] = values[rows[funded], chosen.level[funded]]
    return WavePlan(tokens, candidates, value, float(chosen.shadow_price), total)


def _as_flags(name: str, value: ArrayLike, n: int) -> NDArray[np.bool_]:
    flags = np.asarray(value)
    if flags.shape != (n,) or flags.dtype != np.bool_:
        raise ValueError(f"`{name}` must be {n} booleans, got shape {flags.shape} dtype {flags.dtype}")
    return flags.astype(bool, copy=True)


@dataclass(frozen=True, eq=False)
class PassOutcome:
    """What one pass of a batch showed, for a ``learn`` callback.

    Attributes
    ----------
    caps : ndarray of int64, shape (n,)
        The pass's caps (0: not run in this pass).
    correct : ndarray of bool, shape (n,), or None
        Graded answers of the queries run (None when there is no grader).
    tokens_used : ndarray of int64, shape (n,)
        Tokens each query used in this pass.
    cut : ndarray of bool, shape (n,)
        Whether each run stopped at its cap.
    """

    caps: NDArray[np.int64]
    correct: NDArray[np.bool_] | None
    tokens_used: NDArray[np.int64]
    cut: NDArray[np.bool_]

    @property
    def ran(self) -> NDArray[np.bool_]:
        """Queries run in this pass."""
        return self.caps > 0


Learner = Callable[[PassOutcome], "tuple[SurgeCurves, ArrayLike] | None"]
"""Called after each pass; returns the curves and spreads for the next wave, or None to keep them."""


@dataclass(frozen=True, eq=False)
class WavesResult:
    """What a batch run in waves did.

    Attributes
    ----------
    caps : list of ndarray of int64, shape (n,) each
        The caps of each pass, the first pass first.
    correct : ndarray of bool, shape (n,)
        Solved in some pass (as ``answer`` reported).
    tokens_used : ndarray of int64, shape (n,)
        Tokens each query used over all passes.
    tried : ndarray of int64, shape (n,)
        Largest cap each query ran at (0: never run).
    budget : int
    committed : int
        The most the batch ever had spent or reserved at once: ``max over passes of
        (used before it + its caps)`` (<= ``budget``).
    """

    caps: list[NDArray[np.int64]]
    correct: NDArray[np.bool_]
    tokens_used: NDArray[np.int64]
    tried: NDArray[np.int64]
    budget: int
    committed: int

    @property
    def spent(self) -> int:
        """Tokens used over all passes (<= ``budget``)."""
        return int(self.tokens_used.sum())

    @property
    def passes(self) -> int:
        """Passes that ran (the first one included)."""
        return len(self.caps)


def run_waves(
    answer: Callable[[NDArray[np.int64]], tuple[ArrayLike, ArrayLike, ArrayLike]],
    curves: SurgeCurves,
    spread: ArrayLike,
    budget: int,
    first: ArrayLike,
    *,
    max_waves: int = 3,
    decoding: str = "deterministic",
    graded: bool = True,
    learn: Learner | None = None,
) -> WavesResult:
    """Run a first pass at ``first``, then up to ``max_waves`` waves on what it left.

    Parameters
    ----------
    answer : callable
        ``answer(caps) -> (correct, tokens_used, cut)``, arrays of shape (n,): runs the
        queries with ``caps > 0`` at those caps (a query with cap 0 must report 0 tokens).
    curves, spread
        As in :func:`next_wave`.
    budget : int
        Tokens for the whole batch.
    first : array_like of int, shape (n,)
        Caps of the first pass (any allocation's ``tokens``), summing to at most ``budget``.
    max_waves : int
        Waves after the first pass (>= 0).
    decoding : {"deterministic", "sampled"}
        See :func:`rerun_value`.
    graded : bool
        Whether ``correct`` is a grader's verdict the waves may use (True), or unknown
        until the end (False: only cut runs are rerun).
    learn : callable, optional
        ``learn(PassOutcome) -> (curves, spread) or None``, called after every pass but the
        last: new predictions for the next wave (see :class:`PassOutcome`).

    Returns
    -------
    WavesResult

    Raises
    ------
    ValueError
        When ``first`` exceeds the budget, or ``answer`` reports more tokens than a cap.
    """
    n = len(curves)
    total = as_budget(budget)
    rounds = as_integer_at_least("max_waves", max_waves, 0)
    caps = np.asarray(first)
    if caps.shape != (n,) or not np.issubdtype(caps.dtype, np.integer) or np.any(caps < 0):
        raise ValueError(f"`first` must be {n} whole caps >= 0, got shape {caps.shape} dtype {caps.dtype}")
    if int(caps.sum()) > total:
        raise ValueError(f"`first` grants {int(caps.sum())} tokens, over the budget of {total}")
    caps = caps.astype(np.int64)
    passes: list[NDArray[np.int64]] = []
    correct = np.zeros(n, dtype=bool)
    used = np.zeros(n, dtype=np.int64)
    tried = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=bool)
    committed = 0
    for wave in range(rounds + 1):
        if wave > 0:
            plan = next_wave(
                curves, spread, total - int(used.sum()), tried=tried, cut=cut,
                correct=correct if graded else None, decoding=decoding,
            )
            caps = plan.tokens
            if not caps.any():
                break
        committed = max(committed, int(used.sum()) + int(caps.sum()))
        if committed > total:  # a plan never exceeds the leftover; this guards the invariant itself
            raise AssertionError(f"wave {wave} would commit {committed} tokens of a budget of {total}")
        got_correct, got_used, got_cut = (np.asarray(a) for a in answer(caps))
        ran = caps > 0
        if np.any(got_used > caps):
            i = int(np.argmax(got_used > caps))
            raise ValueError(f"`answer` used {int(got_used[i])} tokens at a cap of {int(caps[i])} (index {i})")
        passes.append(caps.copy())
        this_used = np.where(ran, got_used, 0).astype(np.int64)
        this_correct = ran & got_correct.astype(bool)
        used += this_used
        correct |= this_correct
        tried = np.where(ran, caps, tried)
        cut = np.where(ran, got_cut.astype(bool), cut)
        if learn is not None and wave < rounds:
            learnt = learn(PassOutcome(caps.copy(), this_correct if graded else None, this_used, ran & got_cut.astype(bool)))
            if learnt is not None:
                curves, spread = learnt
    return WavesResult(passes, correct, used, tried, total, committed)
