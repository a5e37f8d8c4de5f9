"""Run allocation policies over a stream at several budgets and measure what they buy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from .._checks import as_budget, as_float_array, as_integer_at_least, require_instance
from ..curves import SurgeCurves
from ..pricing import utility
from ..workloads.pools import paper_data
from ..workloads.predictors import NoisyThresholdOracle
from ..workloads.simulated_model import SimulatedReasoner
from ..workloads.streams import Stream
from .policies import Policy, paper_policies
from .results import EvaluationResult, EvaluationRow

PAPER_BUDGETS_PER_QUERY: tuple[int, ...] = tuple(paper_data()["clear_vs_uniform"]["budget_per_query"])
"""Budgets per query of the paper's experiment: 100 to 1500 tokens."""

DEFAULT_PREDICTOR_SIGMA = 0.2
"""Error (log-tokens) of the default threshold predictor: about 20%, the order of a trained regressor's error."""


def predicted_curves(stream: Stream, tau_hat: NDArray[np.float64]) -> SurgeCurves:
    """The curves a policy sees: predicted thresholds with the model's shared ``alpha`` and ``beta``.

    As in the paper, only ``tau`` is predicted per query; ``alpha`` and ``beta`` are
    the model's, fitted once over its traffic. The stream's queries share ``beta``;
    the fitted ``alpha`` is the one whose asymptote ``alpha / beta**2`` is the
    stream's mean success probability (per-pool differences are not known to the
    policy).

    Parameters
    ----------
    stream : Stream
    tau_hat : ndarray, shape (n,)
        Predicted thresholds in tokens (>= 0).

    Returns
    -------
    SurgeCurves, form "cumulative"
    """
    tau_hat = as_float_array("tau_hat", tau_hat, len(stream), minimum=0.0)
    if len(stream) == 0:
        return SurgeCurves(tau_hat, np.empty(0), np.empty(0), form="cumulative")
    beta = float(np.mean(stream.curves.beta))
    alpha = float(np.mean(stream.success_probability)) * beta * beta
    return SurgeCurves(tau_hat, alpha, beta, form="cumulative")


def _checked_caps(caps: Any, n: int, budget: int, policy: str) -> NDArray[np.int64]:
    """The policy's caps as int64, refusing anything that is not n whole numbers >= 0 within the budget."""
    values = np.asarray(caps)
    if values.shape != (n,) or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"policy {policy!r} must return {n} integer caps, got shape {values.shape} dtype {values.dtype}")
    if np.any(values < 0):
        raise ValueError(f"policy {policy!r} returned a negative cap at index {int(np.argmax(values < 0))}")
    granted = int(values.sum())
    if granted > budget:
        # An explicit check, not `assert`: it must hold even under `python -O`.
        raise AssertionError(f"policy {policy!r} granted {granted} tokens, over the budget of {budget}")
    return values.astype(np.int64)


@dataclass(frozen=True)
class _Measured:
    """What one policy's run gave: outcomes, tokens granted (at most committed at once) and used."""

    correct: NDArray[np.bool_]
    granted: int
    used: int
    largest_caps: NDArray[np.int64]
    never_run: NDArray[np.bool_]
    price: float | None


def _run_passes(policy: Any, stream: Stream, predicted: SurgeCurves, budget: int, reasoner: SimulatedReasoner) -> _Measured:
    """A policy of several passes (first pass, then waves), each checked against what is left of the budget."""
    n = len(stream)

    def answer(caps: NDArray[np.int64]) -> tuple[Any, Any, Any]:
        _checked_caps(caps, n, budget, policy.name)
        return reasoner.answer_many(caps)

    first, result = policy.run_passes(stream, predicted, budget, answer)
    if result.spent > budget or result.committed > budget:
        # An explicit check, not `assert`: it must hold even under `python -O`.
        raise AssertionError(
            f"policy {policy.name!r} used {result.spent} and committed {result.committed} tokens, over the budget of {budget}"
        )
    return _Measured(result.correct, result.committed, result.spent, result.tried, result.tried == 0, first.shadow_price)


def evaluate(
    stream: Stream,
    policies: Iterable[Policy] | None = None,
    budgets_per_query: Sequence[int] = PAPER_BUDGETS_PER_QUERY,
    *,
    reasoner_seed: int = 0,
    predictor: Any = None,
) -> EvaluationResult:
    """Run each policy over ``stream`` at each budget and measure accuracy and spending.

    Parameters
    ----------
    stream : Stream
        Queries with known true curves.
    policies : iterable of Policy, optional
        Objects with ``name`` and ``decide(stream, predicted, budget) -> Decision``.
        Default: the paper's five (CLEAR, Uniform, Proportional, SelfEstimate, Oracle).
        A policy with ``run_passes(stream, predicted, budget, answer)`` (such as
        :class:`WavesPolicy`) runs several passes against the simulated model instead.
    budgets_per_query : sequence of int
        Total budget / number of queries; whole numbers >= 0. Default: 100 to 1500.
    reasoner_seed : int, default 0
        Seed of the simulated model that answers at the caps.
    predictor : object with ``predict(texts) -> (tau, spread)``, optional
        Threshold predictor behind the predicted curves. Default:
        ``NoisyThresholdOracle(stream, DEFAULT_PREDICTOR_SIGMA, seed=stream.seed)``.

    Returns
    -------
    EvaluationResult
        One row per (budget, policy), with realised accuracy (the simulated model
        run at the caps), expected accuracy (true curves at the caps; for several
        passes, at each query's largest cap, since the simulated model repeats an
        answer), tokens granted (for several passes: the most spent or reserved at
        once) and used (over all passes), abandonment rate (never run) and shadow
        price (of the first pass).

    Raises
    ------
    TypeError
        If ``stream`` is not a Stream, a policy lacks ``decide``, or a budget is not a whole number.
    ValueError
        If a budget or ``reasoner_seed`` is negative, or the predictor returns bad thresholds.
    AssertionError
        If a policy grants more tokens than the budget.

    Notes
    -----
    Every policy sees the same predictions and is judged by the same simulated
    model (one draw of each query's natural length and knowledge), so the
    differences between policies are paired, not independent noise.
    """
    require_instance("stream", stream, Stream)
    chosen = tuple(paper_policies() if policies is None else policies)
    for policy in chosen:
        if not callable(getattr(policy, "decide", None)) or not isinstance(getattr(policy, "name", None), str):
            raise TypeError(f"`policies` must hold objects with `name` and `decide`, got {policy!r:.80}")
    budgets = [as_budget(b, "budgets_per_query") for b in budgets_per_query]
    as_integer_at_least("reasoner_seed", reasoner_seed, 0)
    if predictor is None:
        predictor = NoisyThresholdOracle(stream, DEFAULT_PREDICTOR_SIGMA, seed=stream.seed)
    tau_hat, _spread = predictor.predict(list(stream.texts))
    predicted = predicted_curves(stream, tau_hat)
    reasoner = SimulatedReasoner(stream.curves, seed=reasoner_seed)
    n = len(stream)
    rows = []
    for per_query in budgets:
        budget = per_query * n
        for policy in chosen:
            if callable(getattr(policy, "run_passes", None)):
                row = _run_passes(policy, stream, predicted, budget, reasoner)
            else:
                decision = policy.decide(stream, predicted, budget)
                caps = _checked_caps(decision.caps, n, budget, policy.name)
                correct, used, _cut = reasoner.answer_many(caps)
                row = _Measured(correct, int(caps.sum()), int(used.sum()), caps, caps == 0, decision.shadow_price)
            rows.append(
                EvaluationRow(
                    stream=stream.name,
                    policy=policy.name,
                    budget_per_query=per_query,
                    budget=budget,
                    accuracy=float(row.correct.mean()) if n else math.nan,
                    expected_accuracy=float(utility(stream.curves, row.largest_caps).mean()) if n else math.nan,
                    tokens_granted=row.granted,
                    tokens_used=row.used,
                    abandonment_rate=float(np.mean(row.never_run)) if n else math.nan,
                    shadow_price=math.nan if row.price is None else float(row.price),
                    predictor=repr(predictor),
                )
            )
    return EvaluationResult(tuple(rows))
