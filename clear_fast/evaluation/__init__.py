"""Evaluation: run allocation policies over streams with known truth and measure what they buy.

* :mod:`.policies` - CLEAR, Uniform, Proportional, SelfEstimate, Oracle, and a risk-aware CLEAR.
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
    "apportion",
    "evaluate",
    "paper_policies",
    "predicted_curves",
]
