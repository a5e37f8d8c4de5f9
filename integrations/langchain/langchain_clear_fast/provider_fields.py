"""The attributes of LangChain's provider chat models that carry a length cap and reasoning knob.

clear_fast's :func:`clear_fast.calls.request_fields` spells a cap the way each
provider's HTTP API wants it; LangChain's chat classes (``ChatOpenAI``,
``ChatAnthropic``, ``ChatGoogleGenerativeAI``) name the same settings as
attributes of the model. This module translates one into the other, so the
thinking split and every check stay those of the core.
"""

from __future__ import annotations

from typing import Any

from clear_fast.calls import request_fields


def langchain_fields(
    provider: str,
    cap: int,
    *,
    effort: str | None = None,
    answer_reserve: int = 256,
) -> dict[str, Any]:
    """Attributes of a LangChain chat model that cap one call at ``cap`` tokens.

    The attribute names of ``ChatOpenAI``, ``ChatAnthropic`` and
    ``ChatGoogleGenerativeAI`` (and OpenAI-compatible vLLM models), so a copy of
    the model with these attributes set sends the cap.

    Args:
        provider: ``"openai"``, ``"anthropic"``, ``"google"`` or ``"vllm"``.
        cap: Tokens granted (>= 1).
        effort: ``reasoning_effort`` for ``"openai"``.
        answer_reserve: Tokens kept for the answer when a thinking budget is set.

    Returns:
        ``{attribute: value}``.

    Raises:
        ValueError, TypeError: As :func:`clear_fast.calls.request_fields` does for
            the same arguments (unknown provider, a cap below 1, an effort for a
            provider without levels).
    """
    wire = request_fields(provider, cap, effort=effort, answer_reserve=answer_reserve)
    if provider == "anthropic":
        # The wire body leaves thinking out when the cap is too small for it; the class wants it off explicitly.
        return {"max_tokens": wire["max_tokens"], "thinking": wire.get("thinking", {"type": "disabled"})}
    if provider == "google":
        config = wire["generationConfig"]
        return {
            "max_output_tokens": config["maxOutputTokens"],
            "thinking_budget": config["thinkingConfig"]["thinkingBudget"],
        }
    # openai and vllm: ChatOpenAI's attribute is `max_tokens` whatever the wire name.
    fields: dict[str, Any] = {"max_tokens": wire.get("max_completion_tokens", wire.get("max_tokens"))}
    if "reasoning_effort" in wire:
        fields["reasoning_effort"] = wire["reasoning_effort"]
    return fields
