"""Fitting curves to a model: from rollout logs, or from a table of recall against cap.

* :func:`fit_rollouts` — runs of queries at caps (correct or not, cut or not) ->
  the model's shared ``alpha``, ``beta`` and every query's threshold with an interval
  (:class:`FitResult`, saved and loaded as a JSON model profile).
* :func:`fit_recall` — a benchmark's solved share at several caps -> the
  distribution of thresholds (:class:`ThresholdDistribution`).
"""

from .diagnostics import FitWarning
from .goodness import CalibrationRow
from .recall import ThresholdDistribution, fit_recall
from .result import FitResult, load_profile
from .rollout_fit import fit_rollouts
from .rollouts import Rollouts

__all__ = [
    "CalibrationRow",
    "FitResult",
    "FitWarning",
    "Rollouts",
    "ThresholdDistribution",
    "fit_recall",
    "fit_rollouts",
    "load_profile",
]
