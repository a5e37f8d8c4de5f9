"""Evaluation: run allocation policies over streams with known truth and measure what they buy.

* :mod:`.policies` - CLEAR, Uniform, Proportional, SelfEstimate, Oracle, a risk-aware CLEAR, and
  waves after it.
* :mod:`.evaluate` - :func:`evaluate`, the paper's experiment on one stream.
* :mod:`.results` - :class:`EvaluationResult`, a tidy table of rows.
"""

from .evaluate import DEFAULT_PREDICTOR_SIGMA, PAPER_BUDGETS_PER_QUERY, evaluate, predicted_curves
from .policies import (
    ClearPolicy,
    Decision,
    OraclePolicy,
    Policy,
    ProportionalPolicy,
    RiskAwareClearPolicy,
    SelfEstimatePolicy,
    UniformPolicy,
    WavesPolicy,
    apportion,
    paper_policies,
)
from .results import EvaluationResult, EvaluationRow

__all__ = [
    "DEFAULT_PREDICTOR_SIGMA",
    "PAPER_BUDGETS_PER_QUERY",
    "ClearPolicy",
    "Decision",
    "EvaluationResult",
    "EvaluationRow",
    "OraclePolicy",
    "Policy",
    "ProportionalPolicy",
    "RiskAwareClearPolicy",
    "SelfEstimatePolicy",
    "UniformPolicy",
    "WavesPolicy",
    "apportion",
    "evaluate",
    "paper_policies",
    "predicted_curves",
]
