"""Threshold predictors: each query's emergence threshold ``tau``, with its uncertainty.

Every predictor follows :class:`ThresholdPredictor`: ``predict(texts) -> (tau, spread)``
(tokens, and the standard deviation of ``log tau``) and ``update(observations)``.

* :class:`ConstantPrior` — one threshold for all (cold start), from a recall table or a fit.
* :class:`HistoryPredictor` — learns from the user's finished queries (text features,
  ridge regression, and nearest neighbours when an embedding model is given).
* :class:`SelfEstimatePredictor` — asks a chat model how many tokens a query needs.

:class:`SolvabilityPredictor` predicts the other half of a query's curve: the chance
that the model solves it at all (its ceiling), learnt from outcomes; an
:class:`OutcomeLearner` feeds both predictors while a batch runs in waves.

:func:`heldout_error` measures any of them.
"""

from .constant import ConstantPrior
from .outcomes import OutcomeLearner
from .history import HistoryPredictor
from .parsing import parse_token_estimate
from .protocol import Observation, ThresholdPredictor, heldout_error
from .self_estimate import SelfEstimatePredictor
from .solvability import SolvabilityPredictor

__all__ = [
    "ConstantPrior",
    "HistoryPredictor",
    "Observation",
    "OutcomeLearner",
    "SelfEstimatePredictor",
    "SolvabilityPredictor",
    "ThresholdPredictor",
    "heldout_error",
    "parse_token_estimate",
]
