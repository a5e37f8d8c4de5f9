"""LangChain integration of clear_fast: one token budget for a whole batch of chain runs.

* :func:`budgeted` makes a chat model's cap (and reasoning level) settable per call.
* :class:`BudgetedRunnable` runs a chain on many inputs under one budget, funding
  each input by its marginal value and abandoning the ones not worth their tokens;
  with :class:`Waves`, what the first pass did not use goes to the inputs it
  abandoned or cut at their cap, rerun at larger caps.
* :class:`UsageTracker` attributes usage to inputs and flags uncapped calls.
* :class:`TokenBudget` caps the calls of one multi-step agent at what it has left.

Also here, as modules: :mod:`.simulated_chat_model` (a chat model over clear_fast's
simulated reasoner), :mod:`.provider_fields` (each provider chat class's cap
attributes) and :mod:`.demo_chain` (the chain check of ``clear-fast demo``).
Everything of clear_fast that needs LangChain is in this package.
"""

from .budgeted import BudgetedChatModel, budgeted
from .predictors import Predictor, curves_from_prediction
from .results import (
    Abandoned,
    BatchReport,
    BatchRun,
    BudgetedBatchError,
    InputAbandoned,
    InputReport,
    NestedRunnerError,
)
from .runnable import BudgetedRunnable
from .token_budget import CAP_KEY, EFFORT_KEY, BudgetExhausted, TokenBudget
from .tracker import CallRecord, InputUsage, UncappedCall, UsageTracker
from .waves import Waves

__version__ = "0.1.0"

__all__ = [
    "CAP_KEY",
    "EFFORT_KEY",
    "Abandoned",
    "BatchReport",
    "BatchRun",
    "BudgetExhausted",
    "BudgetedBatchError",
    "BudgetedChatModel",
    "BudgetedRunnable",
    "CallRecord",
    "InputAbandoned",
    "InputReport",
    "NestedRunnerError",
    "InputUsage",
    "Predictor",
    "TokenBudget",
    "UncappedCall",
    "UsageTracker",
    "Waves",
    "budgeted",
    "curves_from_prediction",
]
