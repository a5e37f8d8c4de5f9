"""A chain under one token budget: CLEAR allocation for batches, a paced quote for single calls.

``BudgetedRunnable(chain, budget=...)`` predicts each input's utility curve, splits
the budget with clear_fast (abandoning inputs not worth their tokens), and runs
the chain with each input's grant as a :class:`TokenBudget` in its config. Models
wrapped with :func:`budgeted` inside the chain read it: every call is capped at
its share of what the input has left, and the branches of a ``RunnableParallel``
share the input's grant instead of racing for it.

The budget lives on a ledger (``clear_fast.Ledger`` unless you pass your own, e.g.
a ``RedisLedger`` shared by a fleet). A batch reserves all its grants in one
``reserve_many`` before any model call and settles the tokens really used in one
``settle_many``, so concurrent batches and single calls never spend more than
the budget. Each batch is one run in LangChain's callbacks and tracers, with
its allocation in the run's metadata and outputs.
"""

from __future__ import annotations

import math
import textwrap
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator, Optional, Sequence, Union, cast

import numpy as np
from clear_fast import ConstantPrior, FitResult, Ledger, Pacer, allocate, best_response
from clear_fast.runtime import LedgerAPI
from langchain_core.callbacks import AsyncCallbackManager, BaseCallbackManager, CallbackManager
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnableSerializable
from langchain_core.runnables.config import ensure_config, get_config_list, merge_configs
from langchain_core.utils.pydantic import create_model_v2
from pydantic import BaseModel, ConfigDict, PrivateAttr

from .arguments import check_effort_levels, check_positive, text_of
from .batch_passes import BatchPasses
from .batch_plan import ALLOCATION_KEY, BatchPlan, knobs_for
from .curve_sources import CurveSource, check_curves_argument
from .parallel_share import budgeted_models, share_parallels
from .results import Abandoned, BatchReport, BatchRun, BudgetedBatchError, InputAbandoned, NestedRunnerError
from .solve import solve_shuffled
from .token_budget import TokenBudget
from .tracker import INPUT_CAP_KEY, INPUT_KEY, UsageTracker
from .waves import Waves, as_waves

ON_ABANDON = ("result", "raise")
# Single calls with no pacer and no batch price yet: a token must buy this share of the
# curve's steepest gain (the cap then reaches about 99% of the curve's ceiling).
IDLE_PRICE_FRACTION = 0.01


class BudgetedRunnable(RunnableSerializable[Any, Any]):
    """Runs a chain on many inputs under one token budget, spent where it buys most.

    Args:
        chain: Any runnable whose chat models were wrapped with :func:`budgeted`.
        budget: Total output tokens (an int), or a ledger (``clear_fast.Ledger``,
            ``clear_fast.RedisLedger``) shared with other workers. Every batch and
            call of this object draws on it.
        predictor: ``predict(texts) -> (tau, spread)`` (any ``clear_fast``
            estimator); default ``clear_fast.ConstantPrior()``. With ``learn``, its
            ``update`` gets what each finished input taught.
        curves: Instead of a predictor, each input's own curve: a function of one
            input returning ``SurgeCurves`` of one query, or the name of a column of
            dict inputs holding it (or holding just its threshold ``tau``).
        profile: The model's fitted profile (``clear_fast.fit_rollouts(...)`` or
            ``clear_fast.load_profile(path)``): gives ``width`` and ``ceiling``.
        width: The model's curve width ``1/beta`` in tokens (default: the profile's,
            else 200), used with a predictor.
        ceiling: The model's success probability when nothing is cut off (default:
            the profile's, else 1).
        max_tokens: The most one input may be granted. Default: the sum of the
            output limits (model profile, or a cap set on the model) of the budgeted
            models found in the chain; set it for chains that call a model in a loop.
        risk_aware: Allocate against expected accuracy over the predictor's
            ``spread`` (``clear_fast.allocate_uncertain``) instead of trusting ``tau``.
        seed: Seeds the shuffle that breaks ties between inputs with the same curve
            (alike inputs are funded at random, not by position).
        on_abandon: ``"result"`` (an :class:`Abandoned` in the input's place),
            ``"raise"``, or a runnable or function run on the abandoned input instead
            (a cache, a cheap model), with the caller's config.
        fallback_tokens: Tokens each ``on_abandon`` fallback may spend, reserved on
            the same ledger after the funded inputs (0 by default: a budgeted model
            in the fallback stops with ``BudgetExhausted``; usage of models that were
            not wrapped is charged all the same).
        text_of: Maps an input to the text the predictor reads.
        max_concurrency: Inputs run at once (a ``max_concurrency`` in the call's
            config takes precedence).
        min_call_tokens: Smallest cap worth a model call; an input whose budget has
            fewer tokens left stops with :class:`BudgetExhausted`.
        pacer: A ``clear_fast.Pacer`` quoting caps for single inputs
            (``invoke``/``stream``); build it on the same ledger. Without one,
            single inputs are priced at the last batch's shadow price, and the
            runner refuses single inputs handed over by an enclosing runnable's batch.
        effort_levels: Reasoning level by grant size, ``{"low": 0, "medium": 2000,
            "high": 8000}``: an input gets the highest level whose smallest grant it
            reaches (sent as ``reasoning_effort`` by models that have one).
        learn: Feed finished inputs back to ``predictor.update`` (an answer cut at
            its cap is a censored observation; with waves, each input's last run).
        waves: Reinvest what the first pass of a batch did not use: a number of
            waves, or :class:`Waves` (with a grader and the decoding). After the
            first pass, the leftover is re-allocated to the inputs abandoned or cut
            at their cap (``clear_fast.waves.next_wave``), and those are rerun at
            their new caps; an input that finished under its cap (or that the grader
            accepts) is never rerun. For ``batch``/``abatch``/``run_batch`` and the
            ``as_completed`` forms (which then hand out each input once, its final
            output); single inputs (``invoke``, ``stream``) run one pass.

    Example:
        ```python
        model = budgeted(ChatOpenAI(model="gpt-5-mini"))
        chain = prompt | model | StrOutputParser()
        runner = BudgetedRunnable(chain, budget=200_000, predictor=HistoryPredictor())
        answers = runner.batch(questions)
        print(runner.last_report.table())
        ```
    """

    chain: Runnable[Any, Any]
    ledger: Any
    predictor: Any = None
    curves: Any = None
    width: float = 200.0
    ceiling: float = 1.0
    max_tokens: Optional[int] = None
    risk_aware: bool = True
    seed: int = 0
    on_abandon: Any = "result"
    fallback_tokens: Optional[int] = None
    text_of: Any = text_of
    max_concurrency: Optional[int] = None
    min_call_tokens: int = 1
    pacer: Any = None
    effort_levels: list[tuple[int, str]] = []
    learn: bool = True
    waves: Optional[Waves] = None
    price: float = 0.0
    """The last batch's shadow price: it prices later single calls."""
    last_report: Optional[BatchReport] = None
    """The report of the last batch."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    _shared: Runnable[Any, Any] = PrivateAttr()
    _source: CurveSource = PrivateAttr()

    def __init__(
        self,
        chain: Runnable[Any, Any],
        *,
        budget: int | LedgerAPI,
        predictor: Any = None,
        curves: Callable[[Any], Any] | str | None = None,
        profile: FitResult | None = None,
        width: float | None = None,
        ceiling: float | None = None,
        max_tokens: int | None = None,
        risk_aware: bool = True,
        seed: int = 0,
        on_abandon: str | Runnable[Any, Any] | Callable[[Any], Any] = "result",
        fallback_tokens: int = 0,
        text_of: Callable[[Any], str] = text_of,
        max_concurrency: int | None = None,
        min_call_tokens: int = 1,
        pacer: Pacer | None = None,
        effort_levels: dict[str, int] | None = None,
        learn: bool = True,
        waves: int | Waves | Any = None,
    ) -> None:
        if not isinstance(chain, Runnable):
            raise TypeError(f"`chain` must be a langchain Runnable, got {type(chain).__name__}")
        ledger = budget if isinstance(budget, LedgerAPI) else Ledger(budget)
        if predictor is not None and curves is not None:
            raise ValueError("pass `predictor` or `curves`, not both")
        if predictor is not None and not callable(getattr(predictor, "predict", None)):
            raise TypeError(f"`predictor` must have a predict(texts) method, got {type(predictor).__name__}")
        check_curves_argument(curves)
        if profile is not None and not isinstance(profile, FitResult):
            raise TypeError(f"`profile` must be a clear_fast FitResult, got {type(profile).__name__}")
        if width is None:
            width = 200.0 if profile is None else 1.0 / profile.beta
        if ceiling is None:
            ceiling = 1.0 if profile is None else profile.success_probability
        for name, value, smallest in (("max_tokens", max_tokens, 1), ("fallback_tokens", fallback_tokens, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < smallest):
                raise ValueError(f"`{name}` must be a whole number >= {smallest} or None, got {value!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"`seed` must be a whole number >= 0, got {seed!r}")
        if isinstance(on_abandon, str) and on_abandon not in ON_ABANDON:
            raise ValueError(f"`on_abandon` must be one of {ON_ABANDON}, a runnable or a function, got {on_abandon!r}")
        if not isinstance(on_abandon, (str, Runnable)) and not callable(on_abandon):
            raise TypeError(f"`on_abandon` must be a string, a runnable or a function, got {on_abandon!r}")
        if max_concurrency is not None and (not isinstance(max_concurrency, int) or max_concurrency < 1):
            raise ValueError(f"`max_concurrency` must be a whole number >= 1, got {max_concurrency!r}")
        if isinstance(min_call_tokens, bool) or not isinstance(min_call_tokens, int) or min_call_tokens < 1:
            raise ValueError(f"`min_call_tokens` must be a whole number >= 1, got {min_call_tokens!r}")
        if pacer is not None and not isinstance(pacer, Pacer):
            raise TypeError(f"`pacer` must be a clear_fast.Pacer, got {type(pacer).__name__}")
        if max_tokens is None:
            max_tokens = _output_limit_of(chain)
        super().__init__(
            chain=chain, ledger=ledger,
            predictor=predictor if predictor is not None or curves is not None else ConstantPrior(),
            curves=curves, width=check_positive("width", width), ceiling=check_positive("ceiling", ceiling),
            max_tokens=max_tokens, risk_aware=bool(risk_aware), seed=seed,
            on_abandon=on_abandon if isinstance(on_abandon, (str, Runnable)) else RunnableLambda(on_abandon),
            fallback_tokens=None if isinstance(on_abandon, str) else fallback_tokens,
            text_of=text_of, max_concurrency=max_concurrency, min_call_tokens=min_call_tokens, pacer=pacer,
            effort_levels=check_effort_levels(effort_levels), learn=bool(learn), waves=as_waves(waves),
        )
        self._shared = share_parallels(chain)
        self._source = CurveSource(self.predictor if curves is None else None, curves, text_of, self.width,
                                   self.ceiling, self.max_tokens)

    # --- LangChain's view of it: name, schemas, serialisation, repr ----------------------

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_clear_fast"]

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        return self.chain.InputType

    @property
    def OutputType(self) -> Any:  # noqa: N802
        stand_in = self.on_abandon.OutputType if isinstance(self.on_abandon, Runnable) else Abandoned
        return Union[self.chain.OutputType, stand_in]  # noqa: UP007 - a runtime type object

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return self.chain.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return create_model_v2(self.get_name("Output"), root=self.OutputType)

    def __repr__(self) -> str:
        books = self.ledger.snapshot()
        source = (f"curves={self.curves!r}" if self.curves is not None else f"predictor={self.predictor!r}")
        chain = textwrap.indent(repr(self.chain), "  ").lstrip()
        return (
            f"BudgetedRunnable(budget={type(self.ledger).__name__}: {books.free} of {books.budget} tokens free, "
            f"{source}, max_tokens={self.max_tokens}, on_abandon={self.on_abandon!r},\n  chain={chain})"
        )

    # --- one allocation per batch -----------------------------------------------------

    def _open(self, inputs: list[Any], config: Any) -> BatchPlan:
        texts = [self.text_of(x) for x in inputs]
        curves, spread = self._source.for_inputs(inputs)
        if self.waves is not None and curves.form != "cumulative":
            raise ValueError(
                f"waves need curves of form 'cumulative' (a chance of success at each cap), got {curves.form!r}"
            )
        budget = self.ledger.snapshot().free
        set_aside = 0  # tokens kept for the fallbacks of the inputs the allocation abandons
        for _ in range(8):
            solution = solve_shuffled(curves, spread, budget - set_aside, risk_aware=self.risk_aware, seed=self.seed)
            wanted = min(budget, int((solution.tokens == 0).sum()) * (self.fallback_tokens or 0))
            if wanted <= set_aside:
                break
            set_aside = wanted
        plan = BatchPlan.open(self.ledger, solution, budget, texts, config,
                              fallback_tokens=self.fallback_tokens, min_call_tokens=self.min_call_tokens)
        plan.curves, plan.spread = curves, spread
        if self.on_abandon == "raise" and plan.abandoned:
            plan.release(self.ledger)
            raise InputAbandoned(plan.abandoned_marker(plan.abandoned[0]))
        return plan

    def _parent_manager(self, plan: BatchPlan, manager_class: Any) -> Any:
        first = plan.user_configs[0] if plan.user_configs else ensure_config(None)
        return manager_class.configure(
            inheritable_callbacks=first.get("callbacks"), local_callbacks=None, verbose=False,
            inheritable_tags=first.get("tags"), local_tags=None,
            inheritable_metadata=first.get("metadata"), local_metadata={ALLOCATION_KEY: plan.allocation()},
        )

    def _run_name(self, plan: BatchPlan) -> str:
        first = plan.user_configs[0] if plan.user_configs else {}
        return first.get("run_name") or self.get_name()

    def _configs(self, plan: BatchPlan, parent: BaseCallbackManager | None) -> dict[int, RunnableConfig]:
        first = plan.user_configs[0] if plan.user_configs else {}
        concurrency = first.get("max_concurrency") or self.max_concurrency
        return plan.configs(parent, knobs_for(self.effort_levels), concurrency)

    def _passes(self, plan: BatchPlan, inputs: list[Any], kwargs: dict[str, Any], parent: Any) -> BatchPasses:
        return BatchPasses(
            plan, inputs, ledger=self.ledger, chain=self._shared, fallback=self._fallback(),
            configs_of=lambda p: self._configs(p, parent), kwargs=kwargs, waves=self.waves,
            min_call_tokens=self.min_call_tokens,
        )

    def _close(self, passes: BatchPasses) -> BatchReport:
        report, observations = passes.close()
        self.last_report = report
        price = passes.first.solution.shadow_price
        if math.isfinite(price) and price > 0:
            self.price = price
        update = getattr(self.predictor, "update", None)
        if self.learn and observations and callable(update) and self.curves is None:
            update(list(observations.values()))
        return report

    @staticmethod
    def _ordered(passes: BatchPasses, report: BatchReport, return_exceptions: bool) -> BatchRun:
        ordered = [passes.outputs[i] for i in range(len(passes.inputs))]
        if not return_exceptions and any(isinstance(o, BaseException) for o in ordered):
            raise BudgetedBatchError(ordered, report)
        return BatchRun(outputs=ordered, report=report)

    @staticmethod
    def _run_outputs(passes: BatchPasses, report: BatchReport) -> dict[str, Any]:
        return {"output": [passes.outputs.get(i) for i in range(len(passes.inputs))],
                ALLOCATION_KEY: {**passes.allocation(), "spent": report.spent}}

    @staticmethod
    def _handed_out(passes: BatchPasses, return_exceptions: bool) -> Iterator[tuple[int, Any]]:
        """The outputs that became final, for the ``as_completed`` forms (a failure raises unless returned)."""
        for i, output in passes.ready():
            if isinstance(output, BaseException) and not return_exceptions:
                raise output
            yield i, output

    def _fallback(self) -> Runnable[Any, Any] | None:
        return self.on_abandon if isinstance(self.on_abandon, Runnable) else None

    def run_batch(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> BatchRun:
        """Allocate the budget over ``inputs``, run the funded ones (and the waves), and report.

        Args:
            inputs: The batch.
            config: One config for all inputs or one per input (merged with the caps).
                The batch is one run (named after the runner), a child of the first
                config's callbacks, with the allocation in its metadata and outputs.
                Reruns in waves get the same configs, under the same run.
            return_exceptions: Put a failed input's exception in its place instead of
                raising :class:`BudgetedBatchError` (which carries every output).
            **kwargs: Passed on to the chain's ``batch``.

        Returns:
            :class:`BatchRun` with the outputs in input order and the report.
        """
        inputs = list(inputs)
        plan = self._open(inputs, config)
        run = self._parent_manager(plan, CallbackManager).on_chain_start(
            None, {"input": inputs}, name=self._run_name(plan), run_id=_run_id(plan))
        passes = self._passes(plan, inputs, kwargs, run.get_child())
        try:
            while (step := passes.next_step()) is not None:
                results = step.runnable.batch(step.values, step.configs, return_exceptions=True, **step.extra)
                for j, output in enumerate(results):
                    passes.record(step, j, output)
        except BaseException as error:
            self._close(passes)
            run.on_chain_error(error)
            raise
        report = self._close(passes)
        run.on_chain_end(self._run_outputs(passes, report))
        return self._ordered(passes, report, return_exceptions)

    async def arun_batch(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> BatchRun:
        """Async twin of :meth:`run_batch`."""
        inputs = list(inputs)
        plan = self._open(inputs, config)
        run = await self._parent_manager(plan, AsyncCallbackManager).on_chain_start(
            None, {"input": inputs}, name=self._run_name(plan), run_id=_run_id(plan))
        passes = self._passes(plan, inputs, kwargs, run.get_child())
        try:
            while (step := passes.next_step()) is not None:
                results = await step.runnable.abatch(step.values, step.configs, return_exceptions=True, **step.extra)
                for j, output in enumerate(results):
                    passes.record(step, j, output)
        except BaseException as error:
            self._close(passes)
            await run.on_chain_error(error)
            raise
        report = self._close(passes)
        await run.on_chain_end(self._run_outputs(passes, report))
        return self._ordered(passes, report, return_exceptions)

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

    def batch_as_completed(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> Iterator[tuple[int, Any]]:
        """``(index, output)`` pairs as inputs finish, under one allocation for the whole batch.

        Abandoned inputs come first. The ledger is settled and :attr:`last_report`
        set when the iteration ends (or is stopped: inputs still running are
        waited for, the ones not started are never sent). With waves, each input
        comes once, with its final output: at once when it is done, after the
        waves when a wave could rerun it (abandoned inputs come then too).
        """
        inputs = list(inputs)
        plan = self._open(inputs, config)
        run = self._parent_manager(plan, CallbackManager).on_chain_start(
            None, {"input": inputs}, name=self._run_name(plan), run_id=_run_id(plan))
        passes = self._passes(plan, inputs, kwargs, run.get_child())
        streams: list[Any] = []
        try:
            while True:
                yield from self._handed_out(passes, return_exceptions)
                step = passes.next_step()
                if step is None:
                    break
                stream = step.runnable.batch_as_completed(step.values, step.configs, return_exceptions=True,
                                                          **step.extra)
                streams.append(stream)
                for j, output in stream:
                    passes.record(step, j, output)
                    yield from self._handed_out(passes, return_exceptions)
            yield from self._handed_out(passes, return_exceptions)  # what the end of the waves made final
        except BaseException as error:
            for stream in streams:
                stream.close()  # waits for the inputs in flight, cancels the others
            self._close(passes)
            run.on_chain_error(error)
            raise
        report = self._close(passes)
        run.on_chain_end(self._run_outputs(passes, report))

    async def abatch_as_completed(
        self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> AsyncIterator[tuple[int, Any]]:
        """Async twin of :meth:`batch_as_completed`."""
        inputs = list(inputs)
        plan = self._open(inputs, config)
        run = await self._parent_manager(plan, AsyncCallbackManager).on_chain_start(
            None, {"input": inputs}, name=self._run_name(plan), run_id=_run_id(plan))
        passes = self._passes(plan, inputs, kwargs, run.get_child())
        streams: list[Any] = []
        try:
            while True:
                for pair in self._handed_out(passes, return_exceptions):
                    yield pair
                step = passes.next_step()
                if step is None:
                    break
                stream = step.runnable.abatch_as_completed(step.values, step.configs, return_exceptions=True,
                                                           **step.extra)
                streams.append(stream)
                async for j, output in stream:
                    passes.record(step, j, output)
                    for pair in self._handed_out(passes, return_exceptions):
                        yield pair
            for pair in self._handed_out(passes, return_exceptions):
                yield pair
        except BaseException as error:
            for stream in streams:
                await stream.aclose()
            self._close(passes)
            await run.on_chain_error(error)
            raise
        report = self._close(passes)
        await run.on_chain_end(self._run_outputs(passes, report))

    # --- one input at a time ----------------------------------------------------------

    def quote(self, input: Any) -> tuple[int, str]:
        """The grant one input would get now, and why: the pacer's quote, or its best
        response at the last batch's price, cut to what the ledger has free (0 = abandon)."""
        curves, _ = self._source.for_inputs([input])
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

    def _single(self, input: Any, config: RunnableConfig | None) -> tuple[Abandoned | SingleCall, RunnableConfig]:
        """Quote and reserve one input: what to run it with (or its ``Abandoned``) and its run's config."""
        config = ensure_config(config)
        callbacks = config.get("callbacks")
        if self.pacer is None and isinstance(callbacks, BaseCallbackManager) and callbacks.parent_run_id is not None:
            raise NestedRunnerError(
                "BudgetedRunnable got a single input from inside another runnable and has no pacer: an enclosing "
                "batch (RunnableParallel(...).batch and the like) hands it its inputs one invoke at a time, so "
                "each would be priced alone instead of in one allocation. Make the runner the outermost runnable "
                "(BudgetedRunnable(RunnableParallel(...), ...).batch(inputs)), or pass pacer= to price single inputs"
            )
        grant, why = self.quote(input)
        query_id = f"single:{uuid.uuid4().hex[:12]}"
        runnable: Runnable[Any, Any] = self._shared
        if grant == 0 or self.ledger.try_reserve(query_id, grant) is None:
            why = why if grant == 0 else "abandoned: the ledger is spent"
            abandoned = Abandoned(index=0, reason=why, shadow_price=self.price)
            fallback = self._fallback()
            if self.on_abandon == "raise":
                raise InputAbandoned(abandoned)
            if fallback is None:
                return abandoned, merge_configs(config, {"metadata": {INPUT_CAP_KEY: 0, "clear_fast_quote": why}})
            # Reserved even at 0 tokens: usage of models in it that were not wrapped is charged all the same.
            grant, runnable = int(self.ledger.reserve(query_id, self.fallback_tokens, at_least=0).tokens), fallback
        tracker = UsageTracker()
        budget = TokenBudget(grant, min_call_tokens=max(1, min(self.min_call_tokens, grant)))
        ours: dict[str, Any] = {
            "configurable": knobs_for(self.effort_levels)(budget, grant),
            "metadata": {INPUT_KEY: 0, INPUT_CAP_KEY: grant, "clear_fast_quote": why},
            "callbacks": [tracker],
        }
        return SingleCall(runnable, query_id, budget, tracker), merge_configs(config, cast(RunnableConfig, ours))

    def _settle_single(self, call: SingleCall) -> None:
        used = max(call.budget.spent, call.tracker.output_tokens)
        self.ledger.settle(call.query_id, used)
        if self.pacer is not None:
            try:
                self.pacer.record(used)
            except RuntimeError:
                pass  # the pacer reads its spend from a ledger: the settle above is enough

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run one input with a cap quoted from the pacer (or the last price) and reserved on the ledger.

        The call is one run named after the runner; its quote is in the metadata."""
        planned, config = self._single(input, config)

        def run(value: Any, config: RunnableConfig) -> Any:
            if isinstance(planned, Abandoned):
                return planned
            try:
                return planned.runnable.invoke(value, config, **kwargs)
            finally:
                self._settle_single(planned)

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`invoke`."""
        planned, config = self._single(input, config)

        async def run(value: Any, config: RunnableConfig) -> Any:
            if isinstance(planned, Abandoned):
                return planned
            try:
                return await planned.runnable.ainvoke(value, config, **kwargs)
            finally:
                self._settle_single(planned)

        return await self._acall_with_config(run, input, config)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        """Stream one input's output; its tokens are settled when the stream ends (or is closed)."""
        planned, config = self._single(input, config)

        def run(values: Iterator[Any], config: RunnableConfig) -> Iterator[Any]:
            value = next(values)
            if isinstance(planned, Abandoned):
                yield planned
                return
            try:
                yield from planned.runnable.stream(value, config, **kwargs)
            finally:
                self._settle_single(planned)

        yield from self._transform_stream_with_config(iter([input]), run, config)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        """Async twin of :meth:`stream`."""
        planned, config = self._single(input, config)

        async def run(values: AsyncIterator[Any], config: RunnableConfig) -> AsyncIterator[Any]:
            value = await values.__anext__()
            if isinstance(planned, Abandoned):
                yield planned
                return
            try:
                async for chunk in planned.runnable.astream(value, config, **kwargs):
                    yield chunk
            finally:
                self._settle_single(planned)

        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self._atransform_stream_with_config(one(), run, config):
            yield chunk


@dataclass(frozen=True)
class SingleCall:
    """One input reserved on the ledger: the runnable it runs (the chain, or the fallback) and its books."""

    runnable: Runnable[Any, Any]
    query_id: str
    budget: TokenBudget
    tracker: UsageTracker


def _run_id(plan: BatchPlan) -> Any:
    return plan.user_configs[0].pop("run_id", None) if plan.user_configs else None


def _output_limit_of(chain: Runnable[Any, Any]) -> int | None:
    """The most one input can use: the sum of the output limits of the budgeted models in ``chain``."""
    limits = [model.output_limit for model in budgeted_models(chain)]
    if not limits or any(limit is None for limit in limits):
        return None
    return int(sum(cast(list[int], limits)))
