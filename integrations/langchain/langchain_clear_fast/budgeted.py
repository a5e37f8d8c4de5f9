"""Make a chat model's length cap and reasoning knob settable per call.

``budgeted(model)`` returns a runnable that reads two configurable keys at call
time, :data:`CAP_KEY` and :data:`EFFORT_KEY`, and calls a copy of the model with
the provider's own fields set (see :mod:`.provider_fields`). Wrap the model when
you build the chain; the config of each input then reaches it through sequences,
parallels and lambdas.

Unlike ``configurable_fields``, the wrapper survives ``bind_tools`` and
``with_structured_output``: both are rebuilt around the wrapper instead of the bare
model, so the tools or schema and the cap are both applied.
"""

from __future__ import annotations

import threading
from typing import Any, AsyncIterator, Iterator, Sequence, cast

from clear_fast.calls import OPENAI_CAP_PARAMS
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig
from langchain_core.runnables.config import ensure_config, merge_configs
from langchain_core.runnables.configurable import DynamicRunnable

from .provider_fields import langchain_fields
from .rebuild import rebuild_around
from .token_budget import CAP_KEY, EFFORT_KEY, Grant, TokenBudget

# Class name -> provider, for the providers whose fields clear_fast knows.
_PROVIDER_OF_CLASS = {
    "ChatOpenAI": "openai",
    "AzureChatOpenAI": "openai",
    "ChatAnthropic": "anthropic",
    "ChatGoogleGenerativeAI": "google",
    "ChatVertexAI": "google",
}
#: Metadata key carrying the cap of one model call, for :class:`UsageTracker`.
CALL_CAP_KEY = "clear_fast_call_cap"


def _provider_of(model: BaseChatModel) -> str | None:
    for cls in type(model).__mro__:
        if cls.__name__ in _PROVIDER_OF_CLASS:
            return _PROVIDER_OF_CLASS[cls.__name__]
    return None


class BudgetedChatModel(DynamicRunnable):  # unparametrised: pydantic must not re-validate `default`
    """A chat model whose cap and effort come from the call's config.

    Build it with :func:`budgeted`. Configurable values:

    * ``CAP_KEY``: an ``int`` caps the call; a :class:`TokenBudget` caps it at what
      the budget has left and settles the call's output tokens against it.
    * ``EFFORT_KEY``: a reasoning level such as ``"low"``.

    Without these keys the model runs as it was built.
    """

    provider: str | None = None
    cap_field: str = "max_tokens"
    effort_field: str | None = None
    answer_reserve: int = 256
    openai_cap_param: str = "max_completion_tokens"

    # --- building the capped model -------------------------------------------------

    def _fields(self, cap: int | None, effort: str | None) -> dict[str, Any]:
        update: dict[str, Any] = {}
        if self.provider is not None and cap is not None:
            update = langchain_fields(self.provider, cap, answer_reserve=self.answer_reserve)
            raw_name = self.provider == "vllm" or self.openai_cap_param == "max_tokens"
            if self.provider in ("openai", "vllm") and raw_name and "extra_body" in type(self.default).model_fields:
                # ChatOpenAI renames max_tokens to max_completion_tokens on the wire, which
                # llama.cpp and older vLLM ignore; the raw name goes in the body as well.
                body = dict(getattr(self.default, "extra_body", None) or {})
                update["extra_body"] = {**body, "max_tokens": cap}
        elif cap is not None:
            update = {self.cap_field: cap}
        if effort is not None:
            if self.effort_field is None:
                raise ValueError(
                    f"`{EFFORT_KEY}` was set to {effort!r} but {type(self.default).__name__} has no reasoning "
                    "knob here; pass `effort_field=` to budgeted()"
                )
            update[self.effort_field] = effort
        return update

    def _capped(self, cap: int | None, effort: str | None) -> Runnable[Any, Any]:
        update = self._fields(cap, effort)
        # model_copy keeps the provider's client objects: no new connection pool per call.
        return self.default.model_copy(update=update) if update else self.default

    def _prepare(self, config: RunnableConfig | None = None) -> tuple[Runnable[Any, Any], RunnableConfig]:
        config = ensure_config(config)
        configurable = config.get("configurable", {})
        cap = configurable.get(CAP_KEY)
        if isinstance(cap, TokenBudget):
            raise TypeError(
                "a TokenBudget must be settled after each call; call the budgeted model through "
                "invoke/ainvoke/stream/batch, not through a prepared copy"
            )
        return self._capped(_check_cap(cap), configurable.get(EFFORT_KEY)), config

    def _reserve(self, config: RunnableConfig | None) -> tuple[Runnable[Any, Any], RunnableConfig, Grant | None]:
        config = ensure_config(merge_configs(self.config, config))
        configurable = config.get("configurable", {})
        budget = configurable.get(CAP_KEY)
        grant: Grant | None = None
        if isinstance(budget, TokenBudget):
            grant = budget.reserve()
            cap: int | None = grant.cap
        else:
            cap = _check_cap(budget)
        model = self._capped(cap, configurable.get(EFFORT_KEY))
        if cap is not None:
            config = merge_configs(config, {"metadata": {CALL_CAP_KEY: cap}})
        return model, config, grant

    # --- calls ----------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        model, config, grant = self._reserve(config)
        try:
            output = model.invoke(input, config, **kwargs)
        except BaseException:
            if grant is not None:
                grant.release()  # a failed call is not charged (as the ledgers' hold() does)
            raise
        if grant is not None:
            grant.settle(output_tokens(output))
        return output

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        model, config, grant = self._reserve(config)
        try:
            output = await model.ainvoke(input, config, **kwargs)
        except BaseException:
            if grant is not None:
                grant.release()
            raise
        if grant is not None:
            grant.settle(output_tokens(output))
        return output

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        model, config, grant = self._reserve(config)
        seen = _UsageOfChunks()
        try:
            for chunk in model.stream(input, config, **kwargs):
                seen.add(chunk)
                yield chunk
        finally:
            if grant is not None:
                grant.settle(seen.output_tokens)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        model, config, grant = self._reserve(config)
        seen = _UsageOfChunks()
        try:
            async for chunk in model.astream(input, config, **kwargs):
                seen.add(chunk)
                yield chunk
        finally:
            if grant is not None:
                grant.settle(seen.output_tokens)

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        # Streaming through a sequence arrives here, not at stream().
        model, config, grant = self._reserve(config)
        seen = _UsageOfChunks()
        try:
            for chunk in model.transform(input, config, **kwargs):
                seen.add(chunk)
                yield chunk
        finally:
            if grant is not None:
                grant.settle(seen.output_tokens)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        model, config, grant = self._reserve(config)
        seen = _UsageOfChunks()
        try:
            async for chunk in model.atransform(input, config, **kwargs):
                seen.add(chunk)
                yield chunk
        finally:
            if grant is not None:
                grant.settle(seen.output_tokens)

    def batch(self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        # Runnable's thread-pool batch calls self.invoke per input, so every input settles.
        return Runnable.batch(self, inputs, config, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any
    ) -> list[Any]:
        return await Runnable.abatch(self, inputs, config, return_exceptions=return_exceptions, **kwargs)

    # --- the known trap: tools and structured output --------------------------------

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        """Bind tools to the model, keeping the per-call cap."""
        return rebuild_around(self, cast(BaseChatModel, self.default).bind_tools(tools, **kwargs))

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable[Any, Any]:
        """Structured output from the model, keeping the per-call cap."""
        return rebuild_around(self, cast(BaseChatModel, self.default).with_structured_output(schema, **kwargs))


def _check_cap(cap: Any) -> int | None:
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        # A cap of 0 means "abandoned": such an input must never reach a model.
        raise ValueError(f"`{CAP_KEY}` must be a whole number of tokens >= 1 or a TokenBudget, got {cap!r}")
    return cap


def output_tokens(output: Any) -> int | None:
    """Output tokens reported by a chat model's message (``None`` if it reported none)."""
    usage = getattr(output, "usage_metadata", None)
    if not usage:
        return None
    return int(usage.get("output_tokens", 0))


class _UsageOfChunks:
    """Sums usage over streamed chunks (providers report it on one chunk, or per chunk)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self._lock = threading.Lock()

    def add(self, chunk: Any) -> None:
        used = output_tokens(chunk)
        if used is not None:
            with self._lock:
                self.total = (self.total or 0) + used

    @property
    def output_tokens(self) -> int | None:
        return self.total


def budgeted(
    model: BaseChatModel,
    *,
    provider: str | None = None,
    cap_field: str | None = None,
    effort_field: str | None = None,
    answer_reserve: int = 256,
    openai_cap_param: str = "max_completion_tokens",
) -> BudgetedChatModel:
    """Wrap a chat model so each call's token cap (and reasoning level) comes from its config.

    Args:
        model: A bare chat model (not a ``bind`` result: bind tools afterwards,
            on the returned object).
        provider: ``"openai"``, ``"anthropic"``, ``"google"`` or ``"vllm"``; found
            from the model's class when omitted. Known providers get their own
            fields: ``max_tokens`` and ``reasoning_effort`` (OpenAI), ``max_tokens``
            plus a ``thinking`` budget leaving ``answer_reserve`` tokens for the
            answer (Anthropic), ``max_output_tokens`` and ``thinking_budget`` (Google).
        cap_field: For any other model: the attribute that caps its output.
        effort_field: The attribute that takes a reasoning level (OpenAI:
            ``reasoning_effort``, set automatically).
        answer_reserve: Tokens kept for the visible answer when part of the cap
            is a thinking budget.
        openai_cap_param: ``"max_completion_tokens"`` (what OpenAI wants and
            ChatOpenAI sends) or ``"max_tokens"`` for OpenAI-compatible servers that
            ignore the former (llama.cpp, older vLLM): then the cap also goes in the
            request body as ``max_tokens``.

    Returns:
        A :class:`BudgetedChatModel`; use it in chains like the model itself.

    Raises:
        TypeError: If ``model`` is not a bare ``BaseChatModel``.
        ValueError: If the cap field cannot be found (a typo would mean no cap).
    """
    if isinstance(model, RunnableBinding):
        raise TypeError(
            "`model` must be a bare chat model, got a RunnableBinding: call budgeted() first, "
            "then bind_tools()/bind() on its result"
        )
    if not isinstance(model, BaseChatModel):
        raise TypeError(f"`model` must be a langchain BaseChatModel, got {type(model).__name__}")
    if openai_cap_param not in OPENAI_CAP_PARAMS:
        raise ValueError(f"`openai_cap_param` must be one of {OPENAI_CAP_PARAMS}, got {openai_cap_param!r}")
    if isinstance(answer_reserve, bool) or not isinstance(answer_reserve, int) or answer_reserve < 0:
        raise ValueError(f"`answer_reserve` must be a whole number >= 0, got {answer_reserve!r}")
    fields = type(model).model_fields
    if provider is None and cap_field is None:
        provider = _provider_of(model)
    if provider is not None:
        # Validates the provider name early, with a dummy cap.
        langchain_fields(provider, 1)
        if provider == "openai" and effort_field is None:
            effort_field = "reasoning_effort"
        wanted = set(langchain_fields(provider, 1))
    else:
        cap_field = cap_field or "max_tokens"
        wanted = {cap_field}
    if effort_field is not None:
        wanted.add(effort_field)
    missing = sorted(name for name in wanted if name not in fields)
    if missing:
        raise ValueError(
            f"{type(model).__name__} has no field(s) {missing}; pass the attribute that caps its output "
            "as `cap_field=` (an unknown field would silently leave the model uncapped)"
        )
    return BudgetedChatModel(
        default=model,
        provider=provider,
        cap_field=cap_field or "max_tokens",
        effort_field=effort_field,
        answer_reserve=answer_reserve,
        openai_cap_param=openai_cap_param,
    )
