"""Put the budgeted wrapper back where ``bind_tools`` / ``with_structured_output`` put the bare model.

Both methods return runnables built around the bare model (a binding, or a
sequence or parallel containing one), so a cap read from the config by the
wrapper would be lost. Walking the result and swapping the model for the wrapper
keeps the tools or schema and the cap.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableParallel,
    RunnableSequence,
    RunnableWithFallbacks,
)
from langchain_core.runnables.passthrough import RunnableAssign


def rebuild_around(wrapper: Runnable[Any, Any], bare: Runnable[Any, Any], built: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """Replace every use of the ``bare`` model inside ``built`` with ``wrapper``.

    ``bind_tools`` returns ``model.bind(tools=...)``; ``with_structured_output``
    returns a sequence or parallel around such a binding. Put the wrapper where the
    bare model was and the cap is read at call time again.

    Raises:
        TypeError: If the bare model cannot be found (a cap would be silently lost).
    """
    replaced = 0

    def walk(node: Runnable[Any, Any]) -> Runnable[Any, Any]:
        nonlocal replaced
        if node is bare:
            replaced += 1
            return wrapper
        if isinstance(node, RunnableBinding):
            bound = walk(node.bound)
            if bound is node.bound:
                return node
            return node.__class__(
                bound=bound,
                kwargs=node.kwargs,
                config=node.config,
                config_factories=node.config_factories,
                custom_input_type=node.custom_input_type,
                custom_output_type=node.custom_output_type,
            )
        if isinstance(node, RunnableSequence):
            return RunnableSequence(*[walk(step) for step in node.steps], name=node.name)
        if isinstance(node, RunnableParallel):
            return RunnableParallel({key: walk(step) for key, step in node.steps__.items()})
        if isinstance(node, RunnableAssign):
            return RunnableAssign(walk(node.mapper))  # type: ignore[arg-type]
        if isinstance(node, RunnableWithFallbacks):
            return RunnableWithFallbacks(
                runnable=walk(node.runnable),
                fallbacks=[walk(f) for f in node.fallbacks],
                exceptions_to_handle=node.exceptions_to_handle,
                exception_key=node.exception_key,
            )
        return node

    rebuilt = walk(built)
    if replaced == 0:
        raise TypeError(
            f"could not find the model inside {type(built).__name__} returned by {type(bare).__name__}; "
            "the per-call cap would be lost. Bind tools or the schema before calling budgeted()"
        )
    return rebuilt
