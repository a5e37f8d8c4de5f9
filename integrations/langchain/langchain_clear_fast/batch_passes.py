"""The passes of one batch: the first pass, its waves, then the fallbacks of the inputs never funded.

A runner asks :meth:`BatchPasses.next_step` what to run next, runs it (``batch``,
``abatch`` or their ``as_completed`` forms), gives each output to :meth:`record`,
and hands out what :meth:`ready` returns: outputs no later pass will replace.
:meth:`close` charges what is still reserved and builds the batch's report. The
sync and async runners share this logic; only the calls differ.

With waves, each pass is charged before the next is planned, so a wave spends at
most what the batch's budget minus everything charged or still held leaves
(``clear_fast.waves.next_wave`` on that leftover, reserved on the ledger like the
first pass). The fallbacks run last, for the inputs no pass funded: their
allowances stay reserved through the waves, and one is given back when a wave
funds its input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from clear_fast import Observation, next_wave
from clear_fast.runtime import LedgerAPI
from langchain_core.runnables import Runnable, RunnableConfig

from .batch_plan import BatchPlan
from .results import BatchReport, InputReport
from .solve import Solution
from .waves import Waves


@dataclass(frozen=True)
class Step:
    """One call to make: ``runnable`` on ``values`` (the inputs at ``indices``) with their configs."""

    plan: BatchPlan
    pass_index: int  # 0: the first pass (and the fallbacks), k: wave k
    indices: list[int]
    values: list[Any]
    runnable: Runnable[Any, Any]
    configs: list[RunnableConfig]
    extra: dict[str, Any]
    through_chain: bool  # False: the fallbacks
    final: bool  # no later pass can replace these outputs


class BatchPasses:
    """The passes of one batch and the outputs they gave so far."""

    def __init__(
        self,
        first: BatchPlan,
        inputs: list[Any],
        *,
        ledger: LedgerAPI,
        chain: Runnable[Any, Any],
        fallback: Runnable[Any, Any] | None,
        configs_of: Callable[[BatchPlan], dict[int, RunnableConfig]],
        kwargs: dict[str, Any],
        waves: Waves | None,
        min_call_tokens: int,
    ) -> None:
        n = len(inputs)
        self.first, self.inputs, self.ledger = first, inputs, ledger
        self.chain, self.fallback, self.configs_of, self.kwargs = chain, fallback, configs_of, kwargs
        self.waves, self.min_call_tokens = waves, min_call_tokens
        self.plans: list[BatchPlan] = [first]
        self.outputs: dict[int, Any] = {}
        self._pass_outputs: list[dict[int, Any]] = [{}]
        self._ready: list[tuple[int, Any]] = []
        self._queued: set[int] = set()
        self._ran: set[int] = set()  # inputs some pass ran through the chain
        self._stage = "first"
        self.tried = np.zeros(n, dtype=np.int64)  # largest cap each input ran at
        self.cut = np.zeros(n, dtype=bool)  # its last run stopped at its cap
        self.correct = np.zeros(n, dtype=bool)  # the grader accepted its last answer
        self.done = np.zeros(n, dtype=bool)  # no wave may rerun it
        if waves is None:
            self._hand_out_markers()

    # --- what to run ---------------------------------------------------------------------

    def next_step(self) -> Step | None:
        """The next call to make (None: the batch is over)."""
        if self._stage == "first":
            self._stage = "waves"
            if self.first.funded:
                return self._chain_step(self.first, final=self.waves is None or self.waves.max_waves == 0)
        if self._stage == "waves":
            step = self._next_wave() if self.waves is not None else None
            if step is not None:
                return step
            self._stage = "fallback"
            if self.waves is not None:
                self._end_waves()
        if self._stage == "fallback":
            self._stage = "done"
            left = sorted(self.first.fallback_budgets)
            if self.fallback is not None and left:
                configs = self.configs_of(self.first)
                return Step(self.first, 0, left, [self.inputs[i] for i in left], self.fallback,
                            [configs[i] for i in left], {}, through_chain=False, final=True)
        return None

    def _chain_step(self, plan: BatchPlan, *, final: bool) -> Step:
        configs = self.configs_of(plan)
        funded = plan.funded
        return Step(plan, len(self.plans) - 1, funded, [self.inputs[i] for i in funded], self.chain, [configs[i] for i in funded],
                    self.kwargs, through_chain=True, final=final)

    def _next_wave(self) -> Step | None:
        assert self.waves is not None
        wave = len(self.plans)
        if wave > self.waves.max_waves:
            return None
        last = self.plans[-1]
        last.charge(self.ledger, last.funded)  # what the last pass left is known only once it is charged
        left = self.leftover()
        if left <= 0 or self.done.all():
            return None
        plan = next_wave(self.first.curves, self.first.spread, left, tried=self.tried, cut=self.cut,
                         correct=self.done, decoding=self.waves.decoding)
        tokens = np.where(self.done, 0, plan.tokens)  # an answered input is never rerun
        if not tokens.any():
            return None
        reasons = tuple(self._why(i, int(t), wave) for i, t in enumerate(tokens.tolist()))
        solution = Solution(
            tokens=tokens, shadow_price=float(plan.shadow_price),
            utility=float(plan.expected_utility[tokens > 0].sum()), upper_bound=math.nan,
            breakeven=np.full(len(tokens), np.nan), reasons=reasons,
        )
        opened = BatchPlan.open(self.ledger, solution, left, self.first.texts, self.first.user_configs,
                                fallback_tokens=None, min_call_tokens=self.min_call_tokens)
        if not opened.funded:
            return None  # another worker spent the leftover meanwhile
        self.first.drop_fallbacks(self.ledger, opened.funded)  # the chain runs them now: no fallback will
        self.plans.append(opened)
        self._pass_outputs.append({})
        return self._chain_step(opened, final=wave == self.waves.max_waves)

    def _why(self, i: int, tokens: int, wave: int) -> str:
        if tokens == 0:
            return f"input {i}: wave {wave}: not rerun"
        if self.tried[i] == 0:
            return f"input {i}: wave {wave}: funded with {tokens} tokens of the leftover (abandoned before)"
        return f"input {i}: wave {wave}: rerun with {tokens} tokens of the leftover (cut at {self.tried[i]})"

    def leftover(self) -> int:
        """What the batch may still spend: its budget minus what it charged and still holds, within the ledger's free tokens."""
        charged = sum(sum(plan.charged.values()) for plan in self.plans)
        held = sum(budget.total for i, budget in self.first.fallback_budgets.items() if i not in self.first.charged)
        return max(0, min(self.ledger.snapshot().free, self.first.budget - charged - held))

    def _end_waves(self) -> None:
        """No wave follows: the answers held back are final, and the fallbacks are for the inputs never run."""
        for i in sorted(self._ran - self._queued):
            self._queue(i, self.outputs[i])
        self._hand_out_markers()

    def _hand_out_markers(self) -> None:
        """An ``Abandoned`` for each input no pass ran and no fallback will (none given, or none reserved)."""
        for i in self.first.abandoned:
            if i not in self._ran and (self.fallback is None or i not in self.first.fallback_budgets):
                self.outputs[i] = self.first.abandoned_marker(i)
                self._queue(i, self.outputs[i])

    # --- what came back ------------------------------------------------------------------

    def record(self, step: Step, j: int, output: Any) -> None:
        """Keep the output of ``step``'s ``j``-th input; with waves, note whether it may be rerun."""
        i = step.indices[j]
        self._pass_outputs[step.pass_index][i] = output
        earlier = self.outputs.get(i)
        failed = isinstance(output, BaseException)
        if not (failed and step.through_chain and i in self._ran and not isinstance(earlier, BaseException)):
            self.outputs[i] = output  # a failed rerun leaves the earlier answer in place
        if not step.through_chain or self.waves is None:
            self._queue(i, self.outputs[i])
            return
        self._ran.add(i)
        seen = step.plan.tracker.usage_of(i)
        self.tried[i] = step.plan.grants[i]
        self.cut[i] = bool(seen and seen.cut_off)
        grader = self.waves.is_correct
        if grader is not None and not failed:
            self.correct[i] = bool(grader(self.inputs[i], output))
        # Done: graded correct, finished under its cap, or failed for another reason than the cap.
        self.done[i] = self.correct[i] or not self.cut[i]
        if step.final or self.done[i]:
            self._queue(i, self.outputs[i])

    def _queue(self, i: int, output: Any) -> None:
        self._ready.append((i, output))
        self._queued.add(i)

    def ready(self) -> list[tuple[int, Any]]:
        """``(index, output)`` of the inputs whose outputs became final since the last call."""
        ready, self._ready = self._ready, []
        return ready

    # --- the end ---------------------------------------------------------------------------

    def allocation(self) -> dict[str, Any]:
        """The first pass's allocation as plain data, with each wave's."""
        allocation = self.first.allocation()
        if self.waves is not None:
            allocation["waves"] = [plan.allocation() for plan in self.plans[1:]]
        return allocation

    def close(self) -> tuple[BatchReport, dict[int, Observation]]:
        """Charge everything still reserved; the batch's report and what its finished inputs teach, by input."""
        for plan in self.plans:
            plan.charge(self.ledger)
        reports, observations = [], {}
        for plan, outputs in zip(self.plans, self._pass_outputs):
            report, learned = plan.report(outputs)
            reports.append(report)
            observations.update(learned)  # a later pass's run of an input says more than an earlier one
        if self.waves is None:
            return reports[0], observations
        return self._merged(reports), observations

    def _merged(self, reports: list[BatchReport]) -> BatchReport:
        graded = self.waves is not None and self.waves.is_correct is not None
        rows = []
        for i in range(len(self.inputs)):
            mine = [report.inputs[i] for report in reports]
            ran = [row for row in mine if not row.abandoned]
            last = ran[-1] if ran else mine[0]
            output = self.outputs.get(i)
            rows.append(InputReport(
                index=i, cap=max(row.cap for row in mine), output_tokens=sum(row.output_tokens for row in mine),
                reasoning_tokens=sum(row.reasoning_tokens for row in mine),
                input_tokens=sum(row.input_tokens for row in mine), calls=sum(row.calls for row in mine),
                cut_off=last.cut_off, abandoned=not ran,
                error=f"{type(output).__name__}: {output}" if isinstance(output, BaseException) else None,
                flags=tuple(flag for row in mine for flag in row.flags), reason=last.reason,
                fallback=mine[0].fallback, caps=tuple(row.cap for row in mine),
                correct=bool(self.correct[i]) if graded and i in self._ran else None,
            ))
        first = reports[0]
        return BatchReport(
            budget=first.budget, granted=sum(report.granted for report in reports),
            spent=sum(report.spent for report in reports), shadow_price=first.shadow_price,
            predicted_utility=first.predicted_utility, upper_bound=first.upper_bound, inputs=tuple(rows),
            passes=tuple(reports),
        )
