"""A chain under one token budget: CLEAR allocation for batches, a paced quote for single calls.

``BudgetedRunnable(chain, budget=...)`` predicts each input's utility curve, splits
the budget with clear_fast (abandoning inputs not worth their tokens), and runs
the chain with each input's grant as a :class:`TokenBudget` in its config. Models
wrapped with :func:`budgeted` inside the chain read it: every call is capped at
what the input has left.

The budget lives on a ledger (``clear_fast.Ledger`` unless you pass your own, e.g.
a ``RedisLedger`` shared by a fleet). Grants are reserved before any model call
and settled with the tokens really used, so concurrent batches and single calls
never spend more than the budget.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, AsyncIterator, Callable, Iterator, Sequence, cast

import numpy as np
from clear_fast import ConstantPrior, FitResult, Ledger, Observation, Pacer, SurgeCurves, allocate, best_response
from clear_fast.runtime import LedgerAPI
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import ensure_config, get_config_list, merge_configs

from .arguments import check_effort_levels, check_positive, text_of
from .batch_plan import BatchPlan, observation_of
from .predictors import curves_from_prediction, run_predictor
from .results import Abandoned, BatchReport, BatchRun, BudgetedBatchError, InputAbandoned, InputReport
from .solve import solve
from .token_budget import CAP_KEY, EFFORT_KEY, TokenBudget
from .tracker import INPUT_CAP_KEY, INPUT_KEY, UsageTracker

ON_ABANDON = ("result", "raise")
# Single calls with no pacer and no batch price yet: a token must buy this share of the
# curve's steepest gain (the cap then reaches about 99% of the curve's ceiling).
IDLE_PRICE_FRACTION = 0.01


class BudgetedRunnable(Runnable[Any, Any]):
    """Runs a chain on many inputs under one token budget, spent where it buys most.

    Args:
        chain: Any runnable whose chat models were wrapped with :func:`budgeted`.
        budget: Total output tokens (an int), or a ledger (``clear_fast.Ledger``,
            ``clear_fast.RedisLedger``) shared with other workers. Every batch and
            call of this object draws on it.
        predictor: ``predict(texts) -> (tau, spread)`` (any ``clear_fast``
            estimator); default ``clear_fast.ConstantPrior()``. With ``learn``, its
            ``update`` gets what each finished input taught.
        curves: Instead of a predictor: ``SurgeCurves`` for the batch's inputs, or
            a function ``inputs -> SurgeCurves``.
        profile: The model's fitted profile (``clear_fast.fit_rollouts(...)`` or
            ``clear_fast.load_profile(path)``): gives ``width`` and ``ceiling``.
        width: The model's curve width ``1/beta`` in tokens (default: the profile's,
            else 200), used with a predictor.
        ceiling: The model's success probability when nothing is cut off (default:
            the profile's, else 1).
        max_tokens: The model's own output limit: no grant goes past it.
        risk_aware: Allocate against expected accuracy over the predictor's
            ``spread`` (``clear_fast.allocate_uncertain``) instead of trusting ``tau``.
        on_abandon: ``"result"`` (an :class:`Abandoned` in the input's place),
            ``"raise"``, or a runnable or function run on the abandoned input instead
            (a cache, a cheap default); it gets no tokens from the budget.
        text_of: Maps an input to the text the predictor reads.
        max_concurrency: Inputs run at once (a ``max_concurrency`` in the call's
            config takes precedence).
        min_call_tokens: Smallest cap worth a model call; an input whose budget has
            fewer tokens left stops with :class:`BudgetExhausted`.
        pacer: A ``clear_fast.Pacer`` quoting caps for single inputs
            (``invoke``/``stream``); build it on the same ledger. Without one,
            single inputs are priced at the last batch's shadow price.
        effort_levels: Reasoning level by grant size, ``{"low": 0, "medium": 2000,
            "high": 8000}``: an input gets the highest level whose smallest grant it
            reaches (sent as ``reasoning_effort`` by models that have one).
        learn: Feed finished inputs back to ``predictor.update`` (an answer cut at
            its cap is a censored observation).

    Example:
        ```python
        model = budgeted(ChatOpenAI(model="gpt-5-mini"))
        chain = prompt | model | StrOutputParser()
        runner = BudgetedRunnable(chain, budget=200_000, predictor=HistoryPredictor())
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
        profile: FitResult | None = None,
        width: float | None = None,
        ceiling: float | None = None,
        max_tokens: int | None = None,
        risk_aware: bool = True,
        on_abandon: str | Runnable[Any, Any] | Callable[[Any], Any] = "result",
        text_of: Callable[[Any], str] = text_of,
        max_concurrency: int | None = None,
        min_call_tokens: int = 1,
        pacer: Pacer | None = None,
        effort_levels: dict[str, int] | None = None,
        learn: bool = True,
    ) -> None:
        if not isinstance(chain, Runnable):
            raise TypeError(f"`chain` must be a langchain Runnable, got {type(chain).__name__}")
        self.chain = chain
        self.ledger = budget if isinstance(budget, LedgerAPI) else Ledger(budget)
        if predictor is not None and curves is not None:
            raise ValueError("pass `predictor` or `curves`, not both")
        if predictor is not None and not callable(getattr(predictor, "predict", None)):
            raise TypeError(f"`predictor` must have a predict(texts) method, got {type(predictor).__name__}")
        if curves is not None and not (isinstance(curves, SurgeCurves) or callable(curves)):
            raise TypeError(f"`curves` must be SurgeCurves or a function of the inputs, got {type(curves).__name__}")
        self.predictor = predictor if predictor is not None or curves is not None else ConstantPrior()
        self.curves = curves
        if profile is not None and not isinstance(profile, FitResult):
            raise TypeError(f"`profile` must be a clear_fast FitResult, got {type(profile).__name__}")
        if width is None:
            width = 200.0 if profile is None else 1.0 / profile.beta
        if ceiling is None:
            ceiling = 1.0 if profile is None else profile.success_probability
        self.width = check_positive("width", width)
        self.ceiling = check_positive("ceiling", ceiling)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
            raise ValueError(f"`max_tokens` must be a whole number >= 1 or None, got {max_tokens!r}")
        self.max_tokens = max_tokens
        self.risk_aware = bool(risk_aware)
        if isinstance(on_abandon, str) and on_abandon not in ON_ABANDON:
            raise ValueError(f"`on_abandon` must be one of {ON_ABANDON}, a runnable or a function, got {on_abandon!r}")
        if not isinstance(on_abandon, (str, Runnable)) and not callable(on_abandon):
            raise TypeError(f"`on_abandon` must be a string, a runnable or a function, got {on_abandon!r}")
        self.on_abandon = on_abandon
        self.text_of = text_of
        if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise ValueError(f"`max_concurrency` must be a whole number >= 1, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        if isinstance(min_call_tokens, bool) or not isinstance(min_call_tokens, int) or min_call_tokens < 1:
            raise ValueError(f"`min_call_tokens` must be a whole number >= 1, got {min_call_tokens!r}")
        self.min_call_tokens = min_call_tokens
        if pacer is not None and not isinstance(pacer, Pacer):
            raise TypeError(f"`pacer` must be a clear_fast.Pacer, got {type(pacer).__name__}")
        self.pacer = pacer
        self.effort_levels = check_effort_levels(effort_levels)
        self.learn = bool(learn)
        self.price = 0.0  # set by each batch: its shadow price prices later single calls
        self.last_report: BatchReport | None = None

    # --- curves and allocation -------------------------------------------------------

    def curves_for(self, inputs: Sequence[Any]) -> tuple[SurgeCurves, np.ndarray]:
        """Predicted curves of ``inputs`` and the spread of each ``log tau`` (0 when given)."""
        if isinstance(self.curves, SurgeCurves):
            curves, spread = self.curves, np.zeros(len(self.curves))
        elif self.curves is not None:
            curves = self.curves(list(inputs))
            spread = np.zeros(len(curves))
        else:
            tau, spread = run_predictor(self.predictor, [self.text_of(x) for x in inputs])
            curves = curves_from_prediction(
                tau, width=self.width, ceiling=self.ceiling,
                max_tokens=None if self.max_tokens is None else float(self.max_tokens),
            )
        if len(curves) != len(inputs):
            raise ValueError(f"`curves` has {len(curves)} queries for a batch of {len(inputs)} inputs")
        return curves, spread

    def _knobs(self, budget: TokenBudget, grant: int) -> dict[str, Any]:
        knobs: dict[str, Any] = {CAP_KEY: budget}
        reached = [name for smallest, name in self.effort_levels if grant >= smallest]
        if reached:
            knobs[EFFORT_KEY] = reached[-1]
        return knobs

    def _run_config(self, user: RunnableConfig, grant: int, key: Any, tracker: UsageTracker, budget: TokenBudget,
                    concurrency: int | None) -> RunnableConfig:
        ours: dict[str, Any] = {
            "configurable": self._knobs(budget, grant),
            "metadata": {INPUT_KEY: key, INPUT_CAP_KEY: grant},
            "callbacks": [tracker],
        }
        if concurrency is not None:
            ours["max_concurrency"] = concurrency
        return merge_configs(user, cast(RunnableConfig, ours))

    def _plan(self, inputs: list[Any], config: Any) -> BatchPlan:
        user_configs = get_config_list(config, len(inputs))
        texts = [self.text_of(x) for x in inputs]
        curves, spread = self.curves_for(inputs)
        budget = self.ledger.snapshot().free
        solution = solve(curves, spread, budget, risk_aware=self.risk_aware)
        batch_id = uuid.uuid4().hex[:12]
        grants = [int(t) for t in solution.tokens]
        reasons: dict[int, str] = {}
        tracker = UsageTracker()
        budgets: dict[int, TokenBudget] = {}
        configs: dict[int, RunnableConfig] = {}
        concurrency = (user_configs[0].get("max_concurrency") if user_configs else None) or self.max_concurrency
        for i, grant in enumerate(grants):
            if grant == 0:
                reasons[i] = solution.reasons[i]
                continue
            if self.ledger.try_reserve(f"{batch_id}:{i}", grant) is None:
                # Another worker spent the tokens between the snapshot and now.
                grants[i] = 0
                reasons[i] = f"query {i}: abandoned: the ledger could no longer cover its {grant} tokens"
                continue
            budgets[i] = TokenBudget(grant, min_call_tokens=min(self.min_call_tokens, grant))
            configs[i] = self._run_config(user_configs[i], grant, i, tracker, budgets[i], concurrency)
        return BatchPlan(batch_id, budget, solution, texts, grants, reasons, budgets, configs, tracker)

    def _abandoned(self, plan: BatchPlan, i: int) -> Abandoned:
        return Abandoned(
            index=i,
            reason=plan.reasons[i],
            breakeven_price=float(plan.solution.breakeven[i]),
            shadow_price=plan.solution.shadow_price,
        )

    def _abandoned_indices(self, plan: BatchPlan) -> list[int]:
        missing = [i for i, g in enumerate(plan.grants) if g == 0]
        if self.on_abandon == "raise" and missing:
            self._release_all(plan)
            raise InputAbandoned(self._abandoned(plan, missing[0]))
        return missing

    def _release_all(self, plan: BatchPlan) -> None:
        for i in plan.budgets:
            self.ledger.release(f"{plan.batch_id}:{i}")

    def _fallback(self) -> Runnable[Any, Any] | None:
        if isinstance(self.on_abandon, str):
            return None
        if isinstance(self.on_abandon, Runnable):
            return self.on_abandon
        return RunnableLambda(self.on_abandon)

    def _teach(self, observations: list[Observation]) -> None:
        update = getattr(self.predictor, "update", None)
        if self.learn and observations and callable(update) and self.curves is None:
            update(observations)

    def _finish(self, plan: BatchPlan, n: int, outputs: dict[int, Any], return_exceptions: bool) -> BatchRun:
        usage = plan.tracker.usage_by_input()
        rows, observations, spent = [], [], 0
        for i in range(n):
            grant, seen, used = plan.grants[i], usage.get(i), 0
            if i in plan.budgets:
                # The tracker also sees calls of models that were not wrapped: charge those too.
                used = max(plan.budgets[i].spent, seen.output_tokens if seen else 0)
                self.ledger.settle(f"{plan.batch_id}:{i}", used)
                spent += used
                if not isinstance(outputs.get(i), BaseException):
                    learned = observation_of(plan.texts[i], seen, grant)
                    if learned is not None:
                        observations.append(learned)
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
        solution = plan.solution
        report = BatchReport(
            budget=plan.budget,
            granted=sum(plan.grants),
            spent=spent,
            shadow_price=solution.shadow_price,
            predicted_utility=solution.utility,
            upper_bound=solution.upper_bound,
            inputs=tuple(rows),
        )
        self.last_report = report
        if math.isfinite(solution.shadow_price) and solution.shadow_price > 0:
            self.price = solution.shadow_price
        self._teach(observations)
        ordered = [outputs[i] for i in range(n)]
        if not return_exceptions and any(isinstance(o, BaseException) for o in ordered):
            raise BudgetedBatchError(ordered, report)
        return BatchRun(outputs=ordered, report=report)

    # --- batches ---------------------------------------------------------------------

    def run_batch(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> BatchRun:
        """Allocate the budget over ``inputs``, run the funded ones, and report.

        Args:
            inputs: The batch.
            config: One config for all inputs or one per input (merged with the caps).
            return_exceptions: Put a failed input's exception in its place instead of
                raising :class:`BudgetedBatchError` (which carries every output).
            **kwargs: Passed on to the chain's ``batch``.

        Returns:
            :class:`BatchRun` with the outputs in input order and the report.
        """
        inputs = list(inputs)
        plan = self._plan(inputs, config)
        abandoned = self._abandoned_indices(plan)
        funded = sorted(plan.configs)
        outputs: dict[int, Any] = {}
        try:
            if funded:
                results = self.chain.batch(
                    [inputs[i] for i in funded], [plan.configs[i] for i in funded], return_exceptions=True, **kwargs
                )
                outputs.update(zip(funded, results))
        except BaseException:
            self._release_all(plan)
            raise
        fallback = self._fallback()
        if fallback is not None and abandoned:
            outputs.update(zip(abandoned, fallback.batch([inputs[i] for i in abandoned], return_exceptions=True)))
        else:
            outputs.update({i: self._abandoned(plan, i) for i in abandoned})
        return self._finish(plan, len(inputs), outputs, return_exceptions)

    async def arun_batch(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> BatchRun:
        """Async twin of :meth:`run_batch`."""
        inputs = list(inputs)
        plan = self._plan(inputs, config)
        abandoned = self._abandoned_indices(plan)
        funded = sorted(plan.configs)
        outputs: dict[int, Any] = {}
        try:
            if funded:
                results = await self.chain.abatch(
                    [inputs[i] for i in funded], [plan.configs[i] for i in funded], return_exceptions=True, **kwargs
                )
                outputs.update(zip(funded, results))
        except BaseException:
            self._release_all(plan)
            raise
        fallback = self._fallback()
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
        return self.run_batch(inputs, config, return_exceptions=return_exceptions, **kwargs).outputs

    async def abatch(
        self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[Any]:
        """Async twin of :meth:`batch`."""
        return (await self.arun_batch(inputs, config, return_exceptions=return_exceptions, **kwargs)).outputs

    # --- one input at a time ----------------------------------------------------------

    def quote(self, input: Any) -> tuple[int, str]:
        """The grant one input would get now, and why: the pacer's quote, or its best
        response at the last batch's price, cut to what the ledger has free (0 = abandon)."""
        curves, _ = self.curves_for([input])
        free = self.ledger.snapshot().free
        if self.pacer is not None:
            quote = self.pacer.quote(curves)
            grant = min(int(quote.tokens[0]), free)
            if 0 < grant < math.ceil(curves.lower[0]):
                return 0, f"abandoned: {free} tokens free, below its threshold of {curves.lower[0]:.0f}"
            return grant, quote.why(0)
        price = self.price
        if price == 0 and curves.form == "cumulative" and not np.isfinite(curves.max_tokens[0]):
            # Accuracy keeps creeping up forever at price 0: stop near the curve's ceiling.
            price = IDLE_PRICE_FRACTION * float(curves.scale[0] / (curves.beta[0] * np.e))
        wanted = int(best_response(curves, price)[0])
        if wanted == 0:
            return 0, f"abandoned: not worth its tokens at {price:.4g} per token"
        if wanted <= free:
            return wanted, f"funded with {wanted} tokens at {price:.4g} per token"
        # Not enough left for its best response: the best use of what is left, or nothing.
        grant = int(allocate(curves, free).tokens[0])
        if grant == 0:
            return 0, f"abandoned: {free} tokens free, too few to be worth a call"
        return grant, f"funded with the {grant} tokens left"

    def _single(self, input: Any, config: RunnableConfig | None) -> Any:
        grant, why = self.quote(input)
        query_id = f"single:{uuid.uuid4().hex[:12]}"
        if grant == 0 or self.ledger.try_reserve(query_id, grant) is None:
            abandoned = Abandoned(index=0, reason=why if grant == 0 else "abandoned: the ledger is spent",
                                  shadow_price=self.price)
            if self.on_abandon == "raise":
                raise InputAbandoned(abandoned)
            return abandoned
        tracker = UsageTracker()
        budget = TokenBudget(grant, min_call_tokens=min(self.min_call_tokens, grant))
        return query_id, budget, self._run_config(ensure_config(config), grant, 0, tracker, budget, None), tracker

    def _settle_single(self, query_id: str, budget: TokenBudget, tracker: UsageTracker) -> None:
        used = max(budget.spent, tracker.output_tokens)
        self.ledger.settle(query_id, used)
        if self.pacer is not None:
            try:
                self.pacer.record(used)
            except RuntimeError:
                pass  # the pacer reads its spend from a ledger: the settle above is enough

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run one input with a cap quoted from the pacer (or the last price) and reserved on the ledger."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            fallback = self._fallback()
            return planned if fallback is None else fallback.invoke(input, config)
        query_id, budget, run_config, tracker = planned
        try:
            return self.chain.invoke(input, run_config, **kwargs)
        finally:
            self._settle_single(query_id, budget, tracker)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`invoke`."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            fallback = self._fallback()
            return planned if fallback is None else await fallback.ainvoke(input, config)
        query_id, budget, run_config, tracker = planned
        try:
            return await self.chain.ainvoke(input, run_config, **kwargs)
        finally:
            self._settle_single(query_id, budget, tracker)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Stream one input's output; its tokens are settled when the stream ends."""
        planned = self._single(input, config)
        if isinstance(planned, Abandoned):
            fallback = self._fallback()
            yield planned if fallback is None else fallback.invoke(input, config)
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
            fallback = self._fallback()
            yield planned if fallback is None else await fallback.ainvoke(input, config)
            return
        query_id, budget, run_config, tracker = planned
        try:
            async for chunk in self.chain.astream(input, run_config, **kwargs):
                yield chunk
        finally:
            self._settle_single(query_id, budget, tracker)
