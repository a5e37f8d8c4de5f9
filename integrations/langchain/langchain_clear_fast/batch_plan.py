"""A batch between allocation and settlement: its grants on the ledger, its configs, its report.

:meth:`BatchPlan.open` solves the allocation, reserves every grant (and every
``on_abandon`` fallback's allowance) on the ledger in one ``reserve_many``, and
:meth:`BatchPlan.configs` gives each input the config that carries its budget,
as a child of the batch's parent run. :meth:`BatchPlan.settle` charges what each
input used in one ``settle_many`` and builds the :class:`BatchReport`; a batch run
in waves charges a pass with :meth:`BatchPlan.charge` before the next one is planned
(its leftover is what the next wave may spend) and builds the report at the end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Sequence, cast

from clear_fast import Observation
from clear_fast.runtime import LedgerAPI
from langchain_core.callbacks import BaseCallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list, merge_configs, patch_config

from .results import Abandoned, BatchReport, InputReport
from .solve import Solution
from .token_budget import CAP_KEY, EFFORT_KEY, TokenBudget
from .tracker import INPUT_CAP_KEY, INPUT_KEY, InputUsage, UsageTracker

#: Parent-run metadata key holding a batch's allocation (price, grants, abandoned inputs).
ALLOCATION_KEY = "clear_fast_allocation"


@dataclass
class BatchPlan:
    """One batch between allocation and settlement."""

    batch_id: str
    budget: int
    solution: Solution
    texts: list[str]
    grants: list[int]
    reasons: list[str]
    user_configs: list[RunnableConfig]
    budgets: dict[int, TokenBudget] = field(default_factory=dict)  # funded inputs
    fallback_budgets: dict[int, TokenBudget] = field(default_factory=dict)  # abandoned inputs with a fallback
    tracker: UsageTracker = field(default_factory=UsageTracker)
    charged: dict[int, int] = field(default_factory=dict)  # settled reservations -> tokens charged
    curves: Any = None  # the predicted curves and spread it was solved on (waves start from them)
    spread: Any = None

    @classmethod
    def open(
        cls,
        ledger: LedgerAPI,
        solution: Solution,
        budget: int,
        texts: list[str],
        config: Any,
        *,
        fallback_tokens: int | None,
        min_call_tokens: int,
    ) -> BatchPlan:
        """Reserve the solution's grants (and fallback allowances, when ``fallback_tokens`` is set)."""
        n = len(texts)
        plan = cls(
            batch_id=uuid.uuid4().hex[:12], budget=budget, solution=solution, texts=texts,
            grants=[int(t) for t in solution.tokens], reasons=list(solution.reasons),
            user_configs=get_config_list(config, n),
        )
        funded = [i for i in range(n) if plan.grants[i] > 0]
        fallbacks = [i for i in range(n) if plan.grants[i] == 0] if fallback_tokens is not None else []
        asked = [plan.grants[i] for i in funded] + [fallback_tokens or 0] * len(fallbacks)
        at_least = asked[: len(funded)] + [0] * len(fallbacks)  # a fallback always gets a reservation, maybe of 0
        outcomes = ledger.reserve_many([plan.ledger_id(i) for i in funded + fallbacks], asked, at_least=at_least)
        for i, outcome in zip(funded + fallbacks, outcomes):
            if i in fallbacks:
                tokens = 0 if outcome is None else int(outcome.tokens)
                plan.fallback_budgets[i] = TokenBudget(tokens, min_call_tokens=max(1, min(min_call_tokens, tokens)))
            elif outcome is None:
                # Another worker spent the tokens between the snapshot and now.
                plan.reasons[i] = f"input {i}: abandoned: the ledger could no longer cover its {plan.grants[i]} tokens"
                plan.grants[i] = 0
            else:
                plan.budgets[i] = TokenBudget(plan.grants[i], min_call_tokens=min(min_call_tokens, plan.grants[i]))
        return plan

    def ledger_id(self, i: int) -> str:
        return f"{self.batch_id}:{i}"

    @property
    def funded(self) -> list[int]:
        return sorted(self.budgets)

    @property
    def abandoned(self) -> list[int]:
        return [i for i, grant in enumerate(self.grants) if grant == 0]

    def abandoned_marker(self, i: int) -> Abandoned:
        return Abandoned(
            index=i, reason=self.reasons[i], breakeven_price=float(self.solution.breakeven[i]),
            shadow_price=self.solution.shadow_price,
        )

    def allocation(self) -> dict[str, Any]:
        """The allocation as plain data, for the parent run's metadata and outputs."""
        return {
            "batch_id": self.batch_id,
            "budget": self.budget,
            "shadow_price": self.solution.shadow_price,
            "grants": list(self.grants),
            "abandoned": {i: self.reasons[i] for i in self.abandoned},
        }

    # --- the configs each input runs with ------------------------------------------------

    def configs(self, parent: BaseCallbackManager | None, knobs: Any, concurrency: int | None) -> dict[int, RunnableConfig]:
        """Each funded or fallback input's config: its budget, metadata, the tracker, a child of ``parent``."""
        configs: dict[int, RunnableConfig] = {}
        for i, budget in [*self.budgets.items(), *self.fallback_budgets.items()]:
            user = self.user_configs[i]
            if parent is not None:
                own = user.get("callbacks")
                user = patch_config(user, callbacks=parent)
                if own:  # an input's own handlers join the parent run's (already there: not added twice)
                    handlers = own.handlers if isinstance(own, BaseCallbackManager) else own
                    user = merge_configs(user, {"callbacks": list(handlers)})
            ours: dict[str, Any] = {
                "configurable": knobs(budget, self.grants[i]),
                "metadata": {INPUT_KEY: i, INPUT_CAP_KEY: self.grants[i] or budget.total},
                "callbacks": [self.tracker],
            }
            if concurrency is not None:
                ours["max_concurrency"] = concurrency
            configs[i] = merge_configs(user, cast(RunnableConfig, ours))
        return configs

    # --- settlement ----------------------------------------------------------------------

    def used_by(self, i: int, usage: dict[Any, InputUsage]) -> int:
        budget = self.budgets.get(i) or self.fallback_budgets.get(i)
        seen = usage.get(i)
        # The tracker also sees calls of models that were not wrapped: charge those too.
        return max(budget.spent if budget else 0, seen.output_tokens if seen else 0)

    def release(self, ledger: LedgerAPI) -> None:
        """Give every reservation back (the batch failed before its inputs ran)."""
        ids = [self.ledger_id(i) for i in [*self.budgets, *self.fallback_budgets]]
        ledger.release_many(ids)

    def charge(self, ledger: LedgerAPI, indices: Sequence[int] | None = None) -> int:
        """Settle the reservations of ``indices`` (default: all) not settled yet, in one ``settle_many``.

        Each is charged what it used; returns the tokens charged by this call.
        """
        usage = self.tracker.usage_by_input()
        wanted = None if indices is None else set(indices)
        open_ids = [i for i in [*self.budgets, *self.fallback_budgets]
                    if i not in self.charged and (wanted is None or i in wanted)]
        used = {i: self.used_by(i, usage) for i in open_ids}
        if open_ids:
            ledger.settle_many([self.ledger_id(i) for i in open_ids], [used[i] for i in open_ids])
        self.charged.update(used)
        return sum(used.values())

    def drop_fallbacks(self, ledger: LedgerAPI, indices: Sequence[int]) -> None:
        """Give back the fallback allowances of ``indices`` (a later wave ran them through the chain)."""
        dropped = [i for i in indices if i in self.fallback_budgets and i not in self.charged]
        if dropped:
            ledger.release_many([self.ledger_id(i) for i in dropped])
        for i in dropped:
            del self.fallback_budgets[i]

    def settle(self, ledger: LedgerAPI, outputs: dict[int, Any]) -> tuple[BatchReport, dict[int, Observation]]:
        """Charge every input what it used (one ``settle_many``); the report and what finished inputs teach."""
        self.charge(ledger)
        return self.report(outputs)

    def report(self, outputs: dict[int, Any]) -> tuple[BatchReport, dict[int, Observation]]:
        """The report of this pass once charged, and what its finished inputs teach, by input."""
        usage = self.tracker.usage_by_input()
        used = self.charged
        rows, observations = [], {}
        for i in range(len(self.texts)):
            seen, error = usage.get(i), outputs.get(i)
            if i in self.budgets and not isinstance(error, BaseException):
                learned = observation_of(self.texts[i], seen, self.grants[i])
                if learned is not None:
                    observations[i] = learned
            rows.append(InputReport(
                index=i, cap=self.grants[i], output_tokens=used.get(i, 0),
                reasoning_tokens=seen.reasoning_tokens if seen else 0,
                input_tokens=seen.input_tokens if seen else 0, calls=seen.calls if seen else 0,
                cut_off=bool(seen and seen.cut_off), abandoned=self.grants[i] == 0,
                error=f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else None,
                flags=seen.flags if seen else (), reason=self.reasons[i], fallback=i in self.fallback_budgets,
            ))
        report = BatchReport(
            budget=self.budget, granted=sum(self.grants), spent=sum(used.values()),
            shadow_price=self.solution.shadow_price, predicted_utility=self.solution.utility,
            upper_bound=self.solution.upper_bound, inputs=tuple(rows),
        )
        return report, observations


def knobs_for(effort_levels: Sequence[tuple[int, str]]) -> Any:
    """``(budget, grant) -> configurable values``: the budget, and the highest effort level the grant reaches."""

    def knobs(budget: TokenBudget, grant: int) -> dict[str, Any]:
        values: dict[str, Any] = {CAP_KEY: budget}
        reached = [name for smallest, name in effort_levels if grant >= smallest]
        if reached:
            values[EFFORT_KEY] = reached[-1]
        return values

    return knobs


def observation_of(text: str, seen: InputUsage | None, grant: int) -> Observation | None:
    """What one finished input says about its threshold (None: nothing usable)."""
    if seen is None or seen.calls != 1 or seen.output_tokens <= 0:
        return None  # several calls per input: their lengths are not one answer's length
    if seen.cut_off:
        return Observation(text, float(grant), censored=True)
    return Observation(text, float(seen.output_tokens))
