"""A chain under one token budget: CLEAR allocation for batches, a paced quote for single calls.

``BudgetedRunnable(chain, budget=...)`` predicts each input's utility curve, lets
``clear_fast.allocate`` split the budget (abandoning inputs that are not worth
their tokens), and runs the chain with each input's grant as a
:class:`TokenBudget` in its config. Models wrapped with :func:`budgeted` inside
the chain read it: every call is capped at what the input has left.

The budget lives on a ledger (``clear_fast.runtime.Ledger`` unless you pass your
own, e.g. a ``RedisLedger`` shared by a fleet). Grants are reserved before any
model call and settled with the tokens really used, so concurrent batches and
single calls never spend more than the budget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, Sequence

import numpy as np
from clear_fast import SurgeCurves, allocate, best_response
from clear_fast.runtime import Ledger
from clear_fast.runtime.ledger_api import LedgerAPI
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, get_config_list, merge_configs

from .predictors import ConstantPredictor, predict_curves
from .results import Abandoned, BatchReport, BatchRun, BudgetedBatchError, InputReport
from .token_budget import CAP_KEY, EFFORT_KEY, TokenBudget
from .tracker import INPUT_CAP_KEY, INPUT_KEY, UsageTracker

ON_ABANDON = ("result", "raise")
# Single calls before any batch has set a price: a token must buy this share of the curve's steepest gain.
IDLE_PRICE_FRACTION = 0.01


class InputAbandoned(RuntimeError):
    """Raised for an abandoned input when ``on_abandon="raise"``; carries the :class:`Abandoned`."""

    def __init__(self, abandoned: Abandoned) -> None:
        self.abandoned = abandoned
        super().__init__(abandoned.reason)


def text_of(value: Any) -> str:
    """The text a predictor sees for one input: strings as they are, dicts and messages joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return value.text if isinstance(value.text, str) else str(value.content)
    if isinstance(value, dict):
        return "\n".join(text_of(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return "\n".join(text_of(v) for v in value)
    return str(value)


def _check_levels(levels: dict[str, int] | None) -> list[tuple[int, str]]:
    if levels is None:
        return []
    if not isinstance(levels, dict) or not levels:
        raise TypeError(f"`effort_levels` must be a non-empty dict of level name -> smallest grant, got {levels!r}")
    for name, smallest in levels.items():
        if not isinstance(name, str) or isinstance(smallest, bool) or not isinstance(smallest, int) or smallest < 0:
            raise ValueError(f"`effort_levels` must map level names to whole numbers >= 0, got {name!r}: {smallest!r}")
    return sorted((smallest, name) for name, smallest in levels.items())


@dataclass
class _Plan:
    """One batch between allocation and settlement."""

    batch_id: str
    budget: int
    allocation: Any
    grants: list[int]
    reasons: dict[int, str]
    budgets: dict[int, TokenBudget]
    configs: dict[int, RunnableConfig]
    tracker: UsageTracker


class BudgetedRunnable(Runnable[Any, Any]):
    """Runs a chain on many inputs under one token budget, spent where it buys most.

    Args:
        chain: Any runnable whose chat models were wrapped with :func:`budgeted`.
        budget: Total output tokens (an int), or a ledger from ``clear_fast.runtime``
            (``Ledger``, ``RedisLedger``) to share the budget with other workers.
            The budget is drawn down by every batch and call of this object.
        predictor: ``predict(texts) -> (tau, spread)``; default: a constant one.
        curves: Instead of a predictor: ``SurgeCurves`` for the batch's inputs, or
            a function ``inputs -> SurgeCurves``.
        on_abandon: ``"result"`` (an :class:`Abandoned` in the input's place),
            ``"raise"``, or a runnable or function run on the abandoned input instead
            (a cache, a cheap default); it gets no tokens from the budget.
        text_of: Maps an input to the text the predictor reads.
        max_concurrency: Inputs run at once (a ``max_concurrency`` in the call's
            config takes precedence).
        min_call_tokens: Smallest cap worth a model call; an input whose budget has
            fewer tokens left stops with :class:`BudgetExhausted`.
        price: Price per token for single inputs (``invoke``/``stream``) before
            any batch has set one; after a batch its shadow price is used. At 0 an
            input gets what takes it to about 99% of its curve's ceiling.
        curve_options: Passed to the curve builder (``ceiling``, ``weight``, ``max_tokens``).
        effort_levels: Reasoning level by grant size, ``{"low": 0, "medium": 2000,
            "high": 8000}``: an input gets the highest level whose smallest grant it
            reaches (sent as ``reasoning_effort`` by models that have one).

    Example:
        ```python
        model = budgeted(ChatOpenAI(model="gpt-5-mini"))
        chain = prompt | model | StrOutputParser()
        runner = BudgetedRunnable(chain, budget=200_000, predictor=my_predictor)
        answers = runner.batch(questions)
        print(runner.last_report.table())
        ```
    """

    def __init__(
        self,
        chain: Runnable[Any, Any],
        *,
        budget: int | LedgerAPI,
        predictor: Any = None,
        curves: SurgeCurves | Callable[[list[Any]], SurgeCurves] | None = None,
        on_abandon: str | Runnable[Any, Any] | Callable[[Any], Any] = "result",
        text_of: Callable[[Any], str] = text_of,
        max_concurrency: int | None = None,
        min_call_tokens: int = 1,
        price: float = 0.0,
        curve_options: dict[str, Any] | None = None,
        effort_levels: dict[str, int] | None = None,
    ) -> None:
        if not isinstance(chain, Runnable):
            raise TypeError(f"`chain` must be a langchain Runnable, got {type(chain).__name__}")
        self.chain = chain
        self.ledger = budget if isinstance(budget, LedgerAPI) else Ledger(budget)
        if predictor is not None and curves is not None:
            raise ValueError("pass `predictor` or `curves`, not both")
        if predictor is not None and not callable(getattr(predictor, "predict", None)):
            raise TypeError(f"`predictor` must have a predict(texts) method, got {type(predictor).__name__}")
        self.predictor = predictor if predictor is not None or curves is not None else ConstantPredictor()
        if curves is not None and not (isinstance(curves, SurgeCurves) or callable(curves)):
            raise TypeError(f"`curves` must be SurgeCurves or a function of the inputs, got {type(curves).__name__}")
        self.curves = curves
        if isinstance(on_abandon, str) and on_abandon not in ON_ABANDON:
            raise ValueError(f"`on_abandon` must be one of {ON_ABANDON}, a runnable or a function, got {on_abandon!r}")
        if not isinstance(on_abandon, str) and not callable(on_abandon) and not isinstance(on_abandon, Runnable):
            raise TypeError(f"`on_abandon` must be a string, a runnable or a function, got {on_abandon!r}")
        self.on_abandon = on_abandon
        self.text_of = text_of
        if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise ValueError(f"`max_concurrency` must be a whole number >= 1, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        if isinstance(min_call_tokens, bool) or not isinstance(min_call_tokens, int) or min_call_tokens < 1:
            raise ValueError(f"`min_call_tokens` must be a whole number >= 1, got {min_call_tokens!r}")
        self.min_call_tokens = min_call_tokens
        if not np.isfinite(price) or price < 0:
            raise ValueError(f"`price` must be a finite number >= 0, got {price!r}")
        self.price = float(price)
        self.curve_options = dict(curve_options or {})
        self.effort_levels = _check_levels(effort_levels)
        self.last_report: BatchReport | None = None

    # --- curves and allocation -------------------------------------------------------

    def curves_for(self, inputs: Sequence[Any]) -> SurgeCurves:
        """The predicted utility curves of ``inputs``, one per input."""
        if isinstance(self.curves, SurgeCurves):
            curves = self.curves
        elif self.curves is not None:
            curves = self.curves(list(inputs))
        else:
            curves = predict_curves(self.predictor, [self.text_of(x) for x in inputs], **self.curve_options)
        if len(curves) != len(inputs):
            raise ValueError(f"`curves` has {len(curves)} queries for a batch of {len(inputs)} inputs")
        return curves

    def _plan(self, inputs: list[Any], config: Any) -> _Plan:
        user_configs = get_config_list(config, len(inputs))
        curves = self.curves_for(inputs)
        budget = self.ledger.snapshot().free
        allocation = allocate(curves, budget)
        batch_id = uuid.uuid4().hex[:12]
        grants = [int(t) for t in allocation.tokens]
        reasons: dict[int, str] = {}
        tracker = UsageTracker()
        budgets: dict[int, TokenBudget] = {}
        configs: dict[int, RunnableConfig] = {}
        concurrency = user_configs[0].get("max_concurrency") if user_configs else None
        concurrency = concurrency or self.max_concurrency
        for i, grant in enumerate(grants):
            if grant == 0:
                reasons[i] = allocation.why(i)
                continue
            if self.ledger.try_reserve(f"{batch_id}:{i}", grant) is None:
                # Another worker spent the tokens between the snapshot and now.
                grants[i] = 0
                reasons[i] = f"query {i}: abandoned: the ledger could no longer cover its {grant} tokens"
                continue
            budgets[i] = TokenBudget(grant, min_call_tokens=min(self.min_call_tokens, grant))
            ours: dict[str, Any] = {
                "configurable": self._knobs(budgets[i], grant),
                "metadata": {INPUT_KEY: i, INPUT_CAP_KEY: grant},
                "callbacks": [tracker],
            }
            if concurrency is not None:
                ours["max_concurrency"] = concurrency
            configs[i] = merge_configs(user_configs[i], ours)
        return _Plan(batch_id, budget, allocation, grants, reasons, budgets, configs, tracker)

    def _knobs(self, budget: TokenBudget, grant: int) -> dict[str, Any]:
        knobs: dict[str, Any] = {CAP_KEY: budget}
        reached = [name for smallest, name in self.effort_levels if grant >= smallest]
        if reached:
            knobs[EFFORT_KEY] = reached[-1]
        return knobs

    def _abandoned(self, plan: _Plan, i: int) -> Abandoned:
        alloc = plan.allocation
        return Abandoned(
            index=i,
            reason=plan.reasons[i],
            breakeven_price=float(alloc.breakeven[i]),
            shadow_price=float(alloc.shadow_price),
        )

    def _fallback_inputs(self, plan: _Plan, inputs: list[Any]) -> list[int]:
        missing = [i for i, g in enumerate(plan.grants) if g == 0]
        if self.on_abandon == "raise" and missing:
            self._release_all(plan)
            raise InputAbandoned(self._abandoned(plan, missing[0]))
        return missing

    def _release_all(self, plan: _Plan) -> None:
        for i in plan.budgets:
            self.ledger.release(f"{plan.batch_id}:{i}")

    def _fallback_runnable(self) -> Runnable[Any, Any] | None:
        if isinstance(self.on_abandon, str):
            return None
        if isinstance(self.on_abandon, Runnable):
            return self.on_abandon
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(self.on_abandon)

    def _finish(self, plan: _Plan, n: int, outputs: dict[int, Any], return_exceptions: bool) -> BatchRun:
        usage = plan.tracker.usage_by_input()
        rows = []
        spent = 0
        for i in range(n):
            grant = plan.grants[i]
            seen = usage.get(i)
            used = 0
            if i in plan.budgets:
                # The tracker also sees calls made by models that were not wrapped: charge those too.
                used = max(plan.budgets[i].spent, seen.output_tokens if seen else 0)
                self.ledger.settle(f"{plan.batch_id}:{i}", used)
                spent += used
            error = outputs.get(i)
            rows.append(
                InputReport(
                    index=i,
                    cap=grant,
                    output_tokens=used,
                    reasoning_tokens=seen.reasoning_tokens if seen else 0,
                    input_tokens=seen.input_tokens if seen else 0,
                    calls=seen.calls if seen else 0,
                    cut_off=bool(seen and seen.cut_off),
                    abandoned=grant == 0,
                    error=f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else None,
                    flags=seen.flags if seen else (),
                )
            )
        alloc = plan.allocation
        report = BatchReport(
            budget=plan.budget,
            granted=sum(plan.grants),
            spent=spent,
            shadow_price=float(alloc.shadow_price),
            predicted_utility=float(alloc.utility),
            upper_bound=float(alloc.upper_bound),
            inputs=tuple(rows),
        )
        self.last_report = report
        if np.isfinite(alloc.shadow_price) and alloc.shadow_price > 0:
            self.price = float(alloc.shadow_price)
        ordered = [outputs[i] for i in range(n)]
        if not return_exceptions and any(isinstance(o, BaseException) for o in ordered):
            raise BudgetedBatchError(ordered, report)
        return BatchRun(outputs=ordered, report=report)

    # --- batches ---------------------------------------------------------------------

    def run_batch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False) -> BatchRun:
        """Allocate the budget over ``inputs``, run the funded ones, and report.

        Args:
            inputs: The batch.
            config: One config for all inputs or one per input (merged with the caps).
            return_exceptions: Put a failed input's exception in its place instead of
                raising :class:`BudgetedBatchError` (which carries every output).

        Returns:
            :class:`BatchRun` with the outputs in input order and the report.
        """
        inputs = list(inputs)
        plan = self._plan(inputs, config)
        abandoned = self._fallback_inputs(plan, inputs)
        funded = sorted(plan.configs)
        outputs: dict[int, Any] = {}
        try:
            if funded:
                results = self.chain.batch(
                    [inputs[i] for i in funded], [plan.configs[i] for i in funded], return_exceptions=True
                )
                outputs.update(zip(funded, results))
        except BaseException:
            self._release_all(plan)
            raise
        fallback = self._fallback_runnable()
        if fallback is not None and abandoned:
            outputs.update(zip(abandoned, fallback.batch([inputs[i] for i in abandoned], return_exceptions=True)))
        else:
            outputs.update({i: self._abandoned(plan, i) for i in abandoned})
        return self._finish(plan, len(inputs), outputs, return_exceptions)

    async def arun_batch(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False
    ) -> BatchRun:
        """Async twin of :meth:`run_batch`."""
        inputs = list(inputs)
        plan = self._plan(inputs, config)
        abandoned = self._fallback_inputs(plan, inputs)
        funded = sorted(plan.configs)
        outputs: dict[int, Any] = {}
        try:
            if funded:
                results = await self.chain.abatch(
                    [inputs[i] for i in funded], [plan.configs[i] for i in funded], return_exceptions=True
                )
                outputs.update(zip(funded, results))
        except BaseException:
            self._release_all(plan)
            raise
        fallback = self._fallback_runnable()
        if fallback is not None and abandoned:
            results = await fallback.abatch([inputs[i] for i in abandoned], return_exceptions=True)
            outputs.update(zip(abandoned, results))
        else:
            outputs.update({i: self._abandoned(plan, i) for i in abandoned})
        return self._finish(plan, len(inputs), outputs, return_exceptions)

    def batch(
        self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[Any]:
        """Outputs of :meth:`run_batch`, in input order; the report is in :attr:`last_report`."""
        return self.run_batch(inputs, config, return_exceptions=return_exceptions).outputs

    async def abatch(
        self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[Any]:
        """Async twin of :meth:`batch`."""
        return (await self.arun_batch(inputs, config, return_exceptions=return_exceptions)).outputs

    # --- one input at a time ----------------------------------------------------------

    def quote(self, input: Any) -> int:
        """Tokens one input would be granted now: its best response at the current
        price, cut to what the ledger has free (0 = abandon)."""
        curves = self.curves_for([input])
        price = self.price
        if price == 0 and curves.form == "cumulative" and not np.isfinite(curves.max_tokens[0]):
            # Accuracy keeps creeping up forever at price 0; stop where a token buys 1% of
            # the steepest gain (about 99% of the curve's ceiling) instead of taking everything.
            price = IDLE_PRICE_FRACTION * float(curves.scale[0] / (curves.beta[0] * np.e))
        wanted = int(best_response(curves, price)[0])
        free = self.ledger.snapshot().free
        if wanted <= free:
            return wanted
        # Not enough left for its best response: the best use of what is left, or nothing.
        return int(allocate(curves, free).tokens[0])

    def _single(self, input: Any, config: RunnableConfig | None) -> tuple[str, TokenBudget, RunnableConfig, UsageTracker] | Any:
        grant = self.quote(input)
        query_id = f"single:{uuid.uuid4().hex[:12]}"
        if grant == 0 or self.ledger.try_reserve(query_id, grant) is None:
            abandoned = Abandoned(
                index=0,
                reason=(
                    f"abandoned: at {self.price:.4g} per token with {self.ledger.snapshot().free} tokens free, "
                    "no grant is worth its tokens"
                ),
                shadow_price=self.price,
            )
            if self.on_abandon == "raise":
                raise InputAbandoned(abandoned)
            return abandoned
        tracker = UsageTracker()
        budget = TokenBudget(grant, min_call_tokens=min(self.min_call_tokens, grant))
        ours = {
            "configurable": self._knobs(budget, grant),
            "metadata": {INPUT_KEY: 0, INPUT_CAP_KEY: grant},
            "callbacks": [tracker],
        }
        return query_id, budget, merge_configs(ensure_config(config), ours), tracker

    def _settle_single(self, query_id: str, budget: TokenBudget, tracker: UsageTracker) -> None:
        self.ledger.settle(query_id, max(budget.spent, tracker.output_tokens))

    def _abandoned_output(self, input: Any, abandoned: Abandoned, config: RunnableConfig | None) -> Any:
        fallback = self._fallback_runnable()
        return abandoned if fallback is None else fallback.invoke(input, config)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run one input with a cap quoted from the current price and the ledger."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            return self._abandoned_output(input, planned, config)
        query_id, budget, run_config, tracker = planned
        try:
            return self.chain.invoke(input, run_config, **kwargs)
        finally:
            self._settle_single(query_id, budget, tracker)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`invoke`."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            fallback = self._fallback_runnable()
            return planned if fallback is None else await fallback.ainvoke(input, config)
        query_id, budget, run_config, tracker = planned
        try:
            return await self.chain.ainvoke(input, run_config, **kwargs)
        finally:
            self._settle_single(query_id, budget, tracker)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Stream one input's output; the tokens are settled when the stream ends."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            yield self._abandoned_output(input, planned, config)
            return
        query_id, budget, run_config, tracker = planned
        try:
            yield from self.chain.stream(input, run_config, **kwargs)
        finally:
            self._settle_single(query_id, budget, tracker)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async twin of :meth:`stream`."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            fallback = self._fallback_runnable()
            yield planned if fallback is None else await fallback.ainvoke(input, config)
            return
        query_id, budget, run_config, tracker = planned
        try:
            async for chunk in self.chain.astream(input, run_config, **kwargs):
                yield chunk
        finally:
            self._settle_single(query_id, budget, tracker)
