"""clear_fast: one token budget, many LLM queries, spent where it buys the most accuracy.

The public API lives here; every module behind it is private or documented
in its own right. See README.md for the tour.
"""

from ._kernel import IMPLEMENTATION
from .allocate import Allocation, allocate
from .curves import SurgeCurves
from .levels import LevelAllocation, allocate_levels
from .pricing import best_response, breakeven_price, utility

# --- estimation (fit, estimators) ---
from .estimators import (
    ConstantPrior,
    HistoryPredictor,
    Observation,
    SelfEstimatePredictor,
    ThresholdPredictor,
    heldout_error,
)
from .fit import FitResult, Rollouts, ThresholdDistribution, fit_recall, fit_rollouts, load_profile
from .uncertainty import UncertainAllocation, allocate_uncertain, expected_utility
# --- workloads and evaluation ---
from .evaluation import EvaluationResult, evaluate
from .workloads import SimulatedReasoner, Stream, make_stream
# --- runtime (ledger, pacer) ---
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
# --- model calls (providers, openai) ---
from .openai_runner import OpenAIBatchResult, RequestOutcome, run_openai_batch, run_openai_levels, write_batch_jsonl
from .providers import grants_to_requests, request_fields

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
    # model calls
    "OpenAIBatchResult",
    "RequestOutcome",
    "grants_to_requests",
    "request_fields",
    "run_openai_batch",
    "run_openai_levels",
    "write_batch_jsonl",
]
