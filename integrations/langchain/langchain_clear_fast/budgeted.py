"""Make a chat model's length cap and reasoning knob settable per call.

``budgeted(model)`` returns a :class:`BudgetedChatModel`, itself a LangChain chat
model, that reads two configurable keys at call time, :data:`CAP_KEY` and
:data:`EFFORT_KEY`, and calls a copy of the model with the provider's own fields
set (see :mod:`.provider_fields`). Wrap the model when you build the chain; the
config of each input then reaches it through sequences, parallels and lambdas.

The grant never goes past what the model can produce: the model profile's
``max_output_tokens`` and a cap the user set on the model bound every call.
Unlike ``configurable_fields``, the wrapper survives ``bind_tools`` and
``with_structured_output``: the provider-formatted tools or schema are bound on
the wrapper, so the tools or schema and the cap are both applied. The wrapped
model may itself be configurable (``configurable_fields`` /
``configurable_alternatives``): it is resolved for each call's config first.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Sequence

from clear_fast.calls import OPENAI_CAP_PARAMS
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult, LLMResult
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig
from langchain_core.runnables.config import ensure_config, merge_configs
from langchain_core.runnables.configurable import DynamicRunnable
from pydantic import ConfigDict, model_validator

from .model_call import CALL_CAP_KEY, ModelCall, output_tokens
from .provider_fields import langchain_fields
from .rebuild import rebuild_around
from .token_budget import CAP_KEY, EFFORT_KEY

# Class name -> provider, for the providers whose fields clear_fast knows.
_PROVIDER_OF_CLASS = {
    "ChatOpenAI": "openai",
    "AzureChatOpenAI": "openai",
    "ChatAnthropic": "anthropic",
    "ChatGoogleGenerativeAI": "google",
    "ChatVertexAI": "google",
}

__all__ = ["CALL_CAP_KEY", "BudgetedChatModel", "budgeted"]


def _provider_of(model: BaseChatModel) -> str | None:
    for cls in type(model).__mro__:
        if cls.__name__ in _PROVIDER_OF_CLASS:
            return _PROVIDER_OF_CLASS[cls.__name__]
    return None


def _bare(model: Any) -> BaseChatModel:
    """The chat model a possibly configurable model runs as by default."""
    while isinstance(model, DynamicRunnable):
        model = model.default
    return model


class BudgetedChatModel(BaseChatModel):
    """A chat model whose cap and effort come from the call's config.

    Build it with :func:`budgeted` (or ``BudgetedChatModel(model=...)``, the same
    checks apply). Configurable values:

    * ``CAP_KEY``: an ``int`` caps the call; a :class:`TokenBudget` caps it at its
      share of what the budget has left and settles the call's output tokens
      against it (including tokens billed for a call that then raised, such as
      structured output cut at its cap).
    * ``EFFORT_KEY``: a reasoning level such as ``"low"``.

    Without these keys the model runs as it was built. Every call is capped at
    most at :attr:`output_limit` when the model has one.
    """

    model: Any
    """The wrapped chat model (a ``BaseChatModel``, possibly made configurable)."""
    provider: str | None = None
    cap_field: str = "max_tokens"
    effort_field: str | None = None
    answer_reserve: int = 256
    openai_cap_param: str = "max_completion_tokens"

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @model_validator(mode="after")
    def _check_model(self) -> BudgetedChatModel:
        model = self.model
        if isinstance(model, RunnableBinding):
            raise TypeError(
                "`model` must be a bare chat model, got a RunnableBinding: call budgeted() first, "
                "then bind_tools()/bind() on its result"
            )
        bare = _bare(model)
        if not isinstance(bare, BaseChatModel) or isinstance(bare, BudgetedChatModel):
            raise TypeError(f"`model` must be a langchain BaseChatModel, got {type(model).__name__}")
        if self.openai_cap_param not in OPENAI_CAP_PARAMS:
            raise ValueError(f"`openai_cap_param` must be one of {OPENAI_CAP_PARAMS}, got {self.openai_cap_param!r}")
        reserve = self.answer_reserve
        if isinstance(reserve, bool) or not isinstance(reserve, int) or reserve < 0:
            raise ValueError(f"`answer_reserve` must be a whole number >= 0, got {reserve!r}")
        provider = self.provider
        if provider is None and "cap_field" not in self.model_fields_set:
            provider = _provider_of(bare)
        if provider is not None:
            langchain_fields(provider, 1)  # validates the provider name early, with a dummy cap
            if provider == "openai" and self.effort_field is None:
                self.effort_field = "reasoning_effort"
            wanted = set(langchain_fields(provider, 1))
        else:
            wanted = {self.cap_field}
        if self.effort_field is not None:
            wanted.add(self.effort_field)
        missing = sorted(name for name in wanted if name not in type(bare).model_fields)
        if missing:
            raise ValueError(
                f"{type(bare).__name__} has no field(s) {missing}; pass the attribute that caps its output "
                "as `cap_field=` (an unknown field would silently leave the model uncapped)"
            )
        self.provider = provider
        if self.profile is None:
            self.profile = bare.profile
        return self

    # --- LangChain serialisation, in this package's namespace ---------------------------

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_clear_fast"]

    # --- what the model can produce -------------------------------------------------------

    @property
    def output_limit(self) -> int | None:
        """The most tokens one call may be granted: the profile's ``max_output_tokens``, or less
        if the wrapped model was built with its own cap (``ChatOpenAI(max_tokens=...)``)."""
        return self._limit_of(_bare(self.model))

    def _cap_fields(self) -> list[str]:
        if self.provider is None:
            return [self.cap_field]
        return [name for name in langchain_fields(self.provider, 1) if "tokens" in name]

    def _limit_of(self, model: BaseChatModel) -> int | None:
        limits = []
        profile = getattr(model, "profile", None) or {}
        if isinstance(profile.get("max_output_tokens"), int):
            limits.append(profile["max_output_tokens"])
        for name in self._cap_fields():
            value = getattr(model, name, None)
            if name in model.model_fields_set and isinstance(value, int) and not isinstance(value, bool):
                limits.append(value)
        return min(limits) if limits else None

    # --- one call ---------------------------------------------------------------------

    def _fields(self, model: BaseChatModel, cap: int | None, effort: str | None) -> dict[str, Any]:
        provider = self.provider
        update: dict[str, Any] = {}
        fields = type(model).model_fields
        if "stream_usage" in fields and getattr(model, "stream_usage", False) is None:
            update["stream_usage"] = True  # without it a custom base_url streams no usage: the whole cap is charged
        if provider is not None and cap is not None:
            update.update(langchain_fields(provider, cap, answer_reserve=self.answer_reserve))
            raw_name = provider == "vllm" or self.openai_cap_param == "max_tokens"
            if provider in ("openai", "vllm") and raw_name and "extra_body" in fields:
                # ChatOpenAI renames max_tokens to max_completion_tokens on the wire, which
                # llama.cpp and older vLLM ignore; the raw name goes in the body as well.
                body = dict(getattr(model, "extra_body", None) or {})
                update["extra_body"] = {**body, "max_tokens": cap}
        elif cap is not None:
            update[self.cap_field] = cap
        if effort is not None:
            if self.effort_field is None:
                raise ValueError(
                    f"`{EFFORT_KEY}` was set to {effort!r} but {type(model).__name__} has no reasoning "
                    "knob here; pass `effort_field=` to budgeted()"
                )
            update[self.effort_field] = effort
        return update

    def _begin(self, config: RunnableConfig | None, kwargs: dict[str, Any]) -> ModelCall:
        """Resolve the model for this config, reserve the call's grant and build the capped copy."""
        config = ensure_config(config)
        if self.tags or self.metadata:
            config = merge_configs({"tags": self.tags or [], "metadata": self.metadata or {}}, config)
        model: Any = self.model
        while isinstance(model, DynamicRunnable):
            model, config = model._prepare(config)
        while isinstance(model, RunnableBinding):  # an alternative may come bound
            kwargs = {**model.kwargs, **kwargs}
            config = merge_configs(model.config, config)
            model = model.bound
        if not isinstance(model, BaseChatModel):
            raise TypeError(f"the configured model is a {type(model).__name__}, not a chat model")
        configurable = config.get("configurable", {})
        call = ModelCall.reserve(configurable.get(CAP_KEY), self._limit_of(model))
        try:
            update = self._fields(model, call.cap, configurable.get(EFFORT_KEY))
        except BaseException:
            call.settle(0)
            raise
        if call.cap is not None:
            config = merge_configs(config, {"metadata": {CALL_CAP_KEY: call.cap}})
            for name in ("max_tokens", "max_completion_tokens", self.cap_field):
                if isinstance(kwargs.get(name), int):  # a bound cap may lower the grant, never raise it
                    kwargs = {**kwargs, name: min(kwargs[name], call.cap)}
        call.model = model.model_copy(update=update) if update else model
        call.config, call.kwargs = config, kwargs
        return call

    # --- calls ----------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> BaseMessage:
        call = self._begin(config, kwargs)
        try:
            output = call.model.invoke(input, call.config, **call.kwargs)
        except BaseException as error:
            call.failed(error)
            raise
        call.finished(output)
        return output

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> BaseMessage:
        call = self._begin(config, kwargs)
        try:
            output = await call.model.ainvoke(input, call.config, **call.kwargs)
        except BaseException as error:
            call.failed(error)
            raise
        call.finished(output)
        return output

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        call = self._begin(config, kwargs)
        try:
            for chunk in call.model.stream(input, call.config, **call.kwargs):
                call.saw(chunk)
                yield chunk
        except BaseException as error:
            call.failed(error)
            raise
        call.finished(None)

    async def astream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AsyncIterator[Any]:
        call = self._begin(config, kwargs)
        try:
            async for chunk in call.model.astream(input, call.config, **call.kwargs):
                call.saw(chunk)
                yield chunk
        except BaseException as error:
            call.failed(error)
            raise
        call.finished(None)

    def stream_events(self, input: Any, config: RunnableConfig | None = None, *, version: str = "v2",
                      stop: list[str] | None = None, **kwargs: Any) -> Any:
        """Events of a call; ``version="v3"`` (LangChain's content-block stream) is capped and settled too."""
        if version != "v3":
            return super().stream_events(input, config, version=version, stop=stop, **kwargs)  # type: ignore[call-overload]
        call = self._begin(config, kwargs)
        return call.model.stream_events(input, _settled_when_done(call), version="v3", stop=stop, **call.kwargs)

    def astream_events(self, input: Any, config: RunnableConfig | None = None, *, version: str = "v2",
                       stop: list[str] | None = None, **kwargs: Any) -> Any:
        """Async twin of :meth:`stream_events`."""
        if version != "v3":
            return super().astream_events(input, config, version=version, stop=stop, **kwargs)  # type: ignore[call-overload]
        call = self._begin(config, kwargs)
        return call.model.astream_events(input, _settled_when_done(call), version="v3", stop=stop, **call.kwargs)

    # --- BaseChatModel's own entry points (generate/agenerate): the model as built --------

    @property
    def _llm_type(self) -> str:
        return f"budgeted-{_bare(self.model)._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {**_bare(self.model)._identifying_params, "budgeted": True}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        return _bare(self.model)._get_ls_params(stop=stop, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return _bare(self.model)._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                         **kwargs: Any) -> ChatResult:
        return await _bare(self.model)._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)

    # --- tools and structured output keep the cap -----------------------------------------

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        """Bind tools to the model, keeping the per-call cap (the provider formats the tools)."""
        formatted = _bare(self.model).bind_tools(tools, **kwargs)
        if not isinstance(formatted, RunnableBinding):
            raise TypeError(f"{type(_bare(self.model)).__name__}.bind_tools returned {type(formatted).__name__}")
        return self.bind(**formatted.kwargs)

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable[Any, Any]:
        """Structured output from the model, keeping the per-call cap."""
        return rebuild_around(self, _bare(self.model), _bare(self.model).with_structured_output(schema, **kwargs))

    def __repr__(self) -> str:
        return f"BudgetedChatModel(model={self.model!r}, provider={self.provider!r}, output_limit={self.output_limit})"


class _SettleWhenDone(BaseCallbackHandler):
    """Settles a call when its model run ends, for entry points that hand back a stream object."""

    run_inline = True

    def __init__(self, call: ModelCall) -> None:
        self.call = call

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        messages = [getattr(g, "message", None) for generations in response.generations for g in generations]
        reported = [output_tokens(m) for m in messages if output_tokens(m) is not None]
        self.call.settle(sum(reported) if reported else None)

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.call.failed(error)


def _settled_when_done(call: ModelCall) -> RunnableConfig:
    return merge_configs(call.config, {"callbacks": [_SettleWhenDone(call)]})


def budgeted(
    model: Any,
    *,
    provider: str | None = None,
    cap_field: str | None = None,
    effort_field: str | None = None,
    answer_reserve: int = 256,
    openai_cap_param: str = "max_completion_tokens",
) -> BudgetedChatModel:
    """Wrap a chat model so each call's token cap (and reasoning level) comes from its config.

    Args:
        model: A chat model (not a ``bind`` result: bind tools afterwards, on the
            returned object). It may be made configurable with
            ``configurable_fields`` or ``configurable_alternatives``.
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
        A :class:`BudgetedChatModel` (a ``BaseChatModel``); use it in chains like the model itself.

    Raises:
        TypeError: If ``model`` is not a chat model, or is a ``bind`` result.
        ValueError: If the cap field cannot be found (a typo would mean no cap).
    """
    options: dict[str, Any] = {
        "model": model, "provider": provider, "effort_field": effort_field,
        "answer_reserve": answer_reserve, "openai_cap_param": openai_cap_param,
    }
    if cap_field is not None:
        options["cap_field"] = cap_field
    return BudgetedChatModel(**options)

