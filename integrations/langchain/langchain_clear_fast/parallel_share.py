"""Branches of a ``RunnableParallel`` share their input's budget instead of racing for it.

LangChain runs the steps of a ``RunnableParallel`` at the same time with the same
config, so two budgeted models of one input would both see its whole
``TokenBudget``: the first to start would reserve all of it and the second would
stop with ``BudgetExhausted``. :func:`share_parallels` rebuilds a chain so that
each parallel whose branches call budgeted models splits the input's budget into
one child per such branch (:meth:`TokenBudget.split`): branches that start
together get equal shares, and what a finished branch leaves goes to the others.

Models are found where LangChain itself looks for a runnable's parts: the steps
of sequences and parallels, bound runnables, fallbacks, and the runnables a
``RunnableLambda`` refers to (``RunnableLambda.deps``).
"""

from __future__ import annotations

import uuid
from typing import Any, AsyncIterator, Iterator

from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableConfig,
    RunnableLambda,
    RunnableParallel,
    RunnableSequence,
    RunnableWithFallbacks,
)
from langchain_core.runnables.config import ensure_config, patch_config
from langchain_core.runnables.passthrough import RunnableAssign
from pydantic import BaseModel, PrivateAttr

from .budgeted import BudgetedChatModel
from .token_budget import CAP_KEY, TokenBudget


def parts_of(node: Any) -> list[Runnable[Any, Any]]:
    """The runnables directly inside ``node``."""
    if isinstance(node, BudgetedChatModel):
        return []
    if isinstance(node, RunnableLambda):
        return list(node.deps)
    found: list[Runnable[Any, Any]] = []
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _collect(getattr(node, name, None), found)
    return found


def _collect(value: Any, found: list[Runnable[Any, Any]]) -> None:
    if isinstance(value, Runnable):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)


def budgeted_models(node: Runnable[Any, Any]) -> list[BudgetedChatModel]:
    """Every budgeted model found inside ``node``, once per place it is used."""
    models: list[BudgetedChatModel] = []
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen and not isinstance(current, BudgetedChatModel):
            continue
        seen.add(id(current))
        if isinstance(current, BudgetedChatModel):
            models.append(current)
            continue
        stack.extend(parts_of(current))
    return models


def share_parallels(chain: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """``chain`` with each parallel of two or more model-calling branches sharing its input's budget."""

    def walk(node: Runnable[Any, Any]) -> Runnable[Any, Any]:
        if isinstance(node, RunnableSequence):
            steps = [walk(step) for step in node.steps]
            if all(a is b for a, b in zip(steps, node.steps)):
                return node
            return RunnableSequence(*steps, name=node.name)
        if isinstance(node, RunnableParallel):
            steps = {key: walk(step) for key, step in node.steps__.items()}
            calling = [key for key, step in steps.items() if budgeted_models(step)]
            if len(calling) >= 2:
                return SharingParallel.around(steps, calling, node.name)
            if all(steps[key] is node.steps__[key] for key in steps):
                return node
            return RunnableParallel(steps)
        if isinstance(node, RunnableAssign):
            mapper = walk(node.mapper)
            return node if mapper is node.mapper else RunnableAssign(mapper)  # type: ignore[arg-type]
        if isinstance(node, RunnableBinding) and not isinstance(node.bound, BudgetedChatModel):
            bound = walk(node.bound)
            if bound is node.bound:
                return node
            return node.__class__(
                bound=bound, kwargs=node.kwargs, config=node.config, config_factories=node.config_factories,
                custom_input_type=node.custom_input_type, custom_output_type=node.custom_output_type,
            )
        if isinstance(node, RunnableWithFallbacks):
            runnable = walk(node.runnable)
            fallbacks = [walk(f) for f in node.fallbacks]
            if runnable is node.runnable and all(a is b for a, b in zip(fallbacks, node.fallbacks)):
                return node
            return RunnableWithFallbacks(
                runnable=runnable, fallbacks=fallbacks,
                exceptions_to_handle=node.exceptions_to_handle, exception_key=node.exception_key,
            )
        return node

    return walk(chain)


class SharingParallel(RunnableParallel):  # type: ignore[type-arg]
    """A ``RunnableParallel`` that gives each model-calling branch its own share of the input's budget."""

    _shares_key: str = PrivateAttr(default="")
    _calling: tuple[str, ...] = PrivateAttr(default=())

    @classmethod
    def around(cls, steps: dict[str, Runnable[Any, Any]], calling: list[str], name: str | None) -> SharingParallel:
        shares_key = f"clear_fast_shares_{uuid.uuid4().hex[:8]}"
        wrapped = {
            key: BranchShare(bound=step, shares_key=shares_key, branch=key) if key in calling else step
            for key, step in steps.items()
        }
        parallel = cls(wrapped)
        parallel.name = name
        parallel._shares_key = shares_key
        parallel._calling = tuple(calling)
        return parallel

    def _split(self, config: RunnableConfig | None) -> tuple[RunnableConfig, list[TokenBudget]]:
        config = ensure_config(config)
        budget = config.get("configurable", {}).get(CAP_KEY)
        if not isinstance(budget, TokenBudget):
            return config, []
        children = budget.split(len(self._calling))
        shares = dict(zip(self._calling, children))
        configurable = {**config.get("configurable", {}), self._shares_key: shares}
        return patch_config(config, configurable=configurable), children

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        config, children = self._split(config)
        try:
            return super().invoke(input, config, **kwargs)
        finally:
            _close(children)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        config, children = self._split(config)
        try:
            return await super().ainvoke(input, config, **kwargs)
        finally:
            _close(children)

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        config, children = self._split(config)
        try:
            yield from super().transform(input, config, **kwargs)
        finally:
            _close(children)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        config, children = self._split(config)
        try:
            async for chunk in super().atransform(input, config, **kwargs):
                yield chunk
        finally:
            _close(children)


def _close(children: list[TokenBudget]) -> None:
    for child in children:
        child.close()


class BranchShare(RunnableBinding):  # type: ignore[type-arg]
    """One branch of a :class:`SharingParallel`: runs its step on the branch's share of the budget."""

    shares_key: str
    branch: str

    def __init__(self, *, bound: Runnable[Any, Any], shares_key: str, branch: str, **kwargs: Any) -> None:
        super().__init__(  # type: ignore[call-arg]
            bound=bound, shares_key=shares_key, branch=branch,
            config_factories=[lambda config: self._with_share(config)], **kwargs,
        )

    def _with_share(self, config: RunnableConfig) -> RunnableConfig:
        shares = config.get("configurable", {}).get(self.shares_key)
        if not shares:
            return config
        return patch_config(config, configurable={**config.get("configurable", {}), CAP_KEY: shares[self.branch]})

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        try:
            return super().invoke(input, config, **kwargs)
        finally:
            self._done(config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        try:
            return await super().ainvoke(input, config, **kwargs)
        finally:
            self._done(config)

    def transform(self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from super().transform(input, config, **kwargs)
        finally:
            self._done(config)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        try:
            async for chunk in super().atransform(input, config, **kwargs):
                yield chunk
        finally:
            self._done(config)

    def _done(self, config: RunnableConfig | None) -> None:
        """The branch ended: what it did not use goes to the branches still running."""
        shares = ensure_config(config).get("configurable", {}).get(self.shares_key)
        if shares:
            shares[self.branch].close()
