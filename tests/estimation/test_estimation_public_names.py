"""The estimation API's public names are pinned: adding or dropping one is a decision."""

from __future__ import annotations

import clear_fast
from clear_fast import estimators, fit, uncertainty

FIT = {"CalibrationRow", "FitResult", "FitWarning", "Rollouts", "ThresholdDistribution", "fit_recall", "fit_rollouts", "load_profile"}
ESTIMATORS = {
    "ConstantPrior",
    "HistoryPredictor",
    "Observation",
    "OutcomeLearner",
    "SelfEstimatePredictor",
    "SolvabilityPredictor",
    "ThresholdPredictor",
    "heldout_error",
    "parse_token_estimate",
}
TOP_LEVEL = {
    "ConstantPrior",
    "FitResult",
    "HistoryPredictor",
    "Observation",
    "Rollouts",
    "SelfEstimatePredictor",
    "SolvabilityPredictor",
    "ThresholdDistribution",
    "ThresholdPredictor",
    "UncertainAllocation",
    "allocate_uncertain",
    "expected_utility",
    "fit_recall",
    "fit_rollouts",
    "heldout_error",
    "load_profile",
}


def test_public_names_are_pinned_and_importable():
    assert set(fit.__all__) == FIT
    assert set(estimators.__all__) == ESTIMATORS
    assert TOP_LEVEL <= set(clear_fast.__all__)
    for module, names in ((fit, FIT), (estimators, ESTIMATORS), (clear_fast, TOP_LEVEL)):
        for name in names:
            assert getattr(module, name) is not None
    assert clear_fast.allocate_uncertain is uncertainty.allocate_uncertain
    assert clear_fast.fit_rollouts is fit.fit_rollouts
