"""clear_fast: one token budget, many LLM queries, spent where it buys the most accuracy.

The public API lives here; every module behind it is private or documented
in its own right. See README.md for the tour and docs/architecture.md for the map.

``import clear_fast`` loads the solver (curves, prices, allocation) and nothing
else; the names of estimation, workloads, evaluation, the runtime and model
calls are loaded on first use (PEP 562), so a script that only allocates never
pays for them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._kernel import IMPLEMENTATION
from .allocate import Allocation, allocate
from .curves import SurgeCurves
from .levels import LevelAllocation, allocate_levels
from .pricing import best_response, breakeven_price, utility
from .uncertainty import UncertainAllocation, allocate_uncertain, expected_utility

if TYPE_CHECKING:  # the lazily loaded names, spelled out for type checkers and editors
    from .calls import (
        OpenAIBatchResult,
        OpenAIWavesResult,
        RequestOutcome,
        grants_to_requests,
        request_fields,
        run_openai_batch,
        run_openai_levels,
        run_openai_waves,
        write_batch_jsonl,
    )
    from .estimators import (
        ConstantPrior,
        HistoryPredictor,
        Observation,
        SelfEstimatePredictor,
        SolvabilityPredictor,
        ThresholdPredictor,
        heldout_error,
    )
    from .evaluation import EvaluationResult
    from .evaluation.evaluate import evaluate  # mypy reads `from .evaluation import evaluate` as the submodule
    from .fit import FitResult, Rollouts, ThresholdDistribution, fit_recall, fit_rollouts, load_profile
    from .runtime import (
        BudgetExceeded,
        Defer,
        FallBack,
        Ledger,
        LedgerError,
        Pacer,
        RedisLedger,
        Refuse,
        TenantShares,
        schedule_from_history,
    )
    from .waves import next_wave, run_waves
    from .workloads import SimulatedReasoner, Stream, make_stream

__version__ = "0.1.0"

__all__ = [
    "IMPLEMENTATION",
    "Allocation",
    "LevelAllocation",
    "SurgeCurves",
    "allocate",
    "allocate_levels",
    "best_response",
    "breakeven_price",
    "utility",
    # estimation
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
    # workloads and evaluation
    "EvaluationResult",
    "SimulatedReasoner",
    "Stream",
    "evaluate",
    "make_stream",
    # runtime
    "BudgetExceeded",
    "Defer",
    "FallBack",
    "Ledger",
    "LedgerError",
    "Pacer",
    "RedisLedger",
    "Refuse",
    "TenantShares",
    "schedule_from_history",
    # waves: what a pass did not use, spent on what it abandoned or cut short
    "next_wave",
    "run_waves",
    # model calls
    "OpenAIBatchResult",
    "OpenAIWavesResult",
    "RequestOutcome",
    "grants_to_requests",
    "request_fields",
    "run_openai_batch",
    "run_openai_levels",
    "run_openai_waves",
    "write_batch_jsonl",
]

# Where each lazily loaded public name lives.
_LAZY_NAMES = {
    "clear_fast.estimators": (
        "ConstantPrior", "HistoryPredictor", "Observation", "SelfEstimatePredictor", "SolvabilityPredictor",
        "ThresholdPredictor", "heldout_error",
    ),
    "clear_fast.fit": ("FitResult", "Rollouts", "ThresholdDistribution", "fit_recall", "fit_rollouts", "load_profile"),
    "clear_fast.evaluation": ("EvaluationResult", "evaluate"),
    "clear_fast.workloads": ("SimulatedReasoner", "Stream", "make_stream"),
    "clear_fast.runtime": (
        "BudgetExceeded", "Defer", "FallBack", "Ledger", "LedgerError", "Pacer", "RedisLedger", "Refuse",
        "TenantShares", "schedule_from_history",
    ),
    "clear_fast.calls": (
        "OpenAIBatchResult", "OpenAIWavesResult", "RequestOutcome", "grants_to_requests", "request_fields",
        "run_openai_batch", "run_openai_levels", "run_openai_waves", "write_batch_jsonl",
    ),
    "clear_fast.waves": ("next_wave", "run_waves"),
}
_HOME_OF = {name: module for module, names in _LAZY_NAMES.items() for name in names}
# Subpackages reachable as attributes (``clear_fast.runtime``) without importing them first.
_SUBPACKAGES = frozenset({"calls", "cli", "estimators", "evaluation", "experiments", "fit", "runtime", "workloads"})


def __getattr__(name: str) -> Any:
    if name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # found once; later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF, *_SUBPACKAGES})
