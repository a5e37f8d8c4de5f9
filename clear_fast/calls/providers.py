"""Turn token grants into the request fields each model provider understands.

An allocation says "query i may spend b_i tokens". Providers spell that limit
differently, and some split it between hidden reasoning and the visible answer:

============  ==========================  ==========================================
provider      length cap on the wire      reasoning knob
============  ==========================  ==========================================
openai        ``max_completion_tokens``   ``reasoning_effort`` (a level name)
anthropic     ``max_tokens``              ``thinking.budget_tokens`` (>= 1024, < cap)
google        ``maxOutputTokens``         ``thinkingConfig.thinkingBudget``
vllm          ``max_tokens``              (none here; thinking budgets vary by version)
============  ==========================  ==========================================

OpenAI-compatible servers differ: many (vLLM, llama.cpp) honour ``max_tokens``
and silently ignore ``max_completion_tokens``, so the OpenAI cap parameter is a
choice, never a guess. Nothing here talks to a network; the functions only build
dictionaries, so they are shared by the openai runner, the Batch API writer and
the LangChain integration (which maps them to its chat models' attribute names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

PROVIDERS = ("openai", "anthropic", "google", "vllm")
OPENAI_CAP_PARAMS = ("max_completion_tokens", "max_tokens")
#: The reasoning levels OpenAI accepts, cheapest first (the client does not validate them).
EFFORT_LEVELS = ("none", "minimal", "low", "medium", "high")
#: Anthropic refuses extended thinking with a budget below this many tokens.
ANTHROPIC_MIN_THINKING = 1024


@dataclass(frozen=True)
class ThinkingSplit:
    """How one grant divides between hidden reasoning and the visible answer.

    Attributes
    ----------
    cap : int
        The whole grant: the provider's length cap.
    thinking : int
        Tokens the provider may spend thinking (0 = thinking off).
    answer : int
        Tokens left for the answer, ``cap - thinking``.
    """

    cap: int
    thinking: int
    answer: int


def _check_provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"`provider` must be one of {PROVIDERS}, got {provider!r}")
    return provider


def _check_cap(cap: Any) -> int:
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)):
        raise TypeError(f"`cap` must be a whole number of tokens, got {cap!r}")
    if cap < 1:
        # A cap of 0 is an abandoned query: it must never become a request.
        raise ValueError(f"`cap` must be >= 1 (abandoned queries send no request), got {cap}")
    return int(cap)


def _check_reserve(answer_reserve: Any) -> int:
    if isinstance(answer_reserve, bool) or not isinstance(answer_reserve, (int, np.integer)) or answer_reserve < 0:
        raise ValueError(f"`answer_reserve` must be a whole number >= 0, got {answer_reserve!r}")
    return int(answer_reserve)


def split_thinking(cap: int, *, answer_reserve: int = 256, min_thinking: int = 0) -> ThinkingSplit:
    """Split a grant into a thinking budget and room for the answer.

    Parameters
    ----------
    cap : int
        Tokens granted to the query (>= 1).
    answer_reserve : int, default 256
        Tokens always kept for the visible answer. A thinking budget that eats
        the whole cap ends in an empty answer cut off at the limit.
    min_thinking : int, default 0
        The provider's smallest accepted thinking budget; below it thinking is
        switched off and the whole cap goes to the answer.

    Returns
    -------
    ThinkingSplit
    """
    cap = _check_cap(cap)
    reserve = _check_reserve(answer_reserve)
    thinking = max(cap - reserve, 0)
    if thinking < max(min_thinking, 1):
        thinking = 0
    return ThinkingSplit(cap=cap, thinking=thinking, answer=cap - thinking)


def request_fields(
    provider: str,
    cap: int,
    *,
    effort: str | None = None,
    openai_cap_param: str = "max_completion_tokens",
    answer_reserve: int = 256,
) -> dict[str, Any]:
    """Request-body fields that cap one call at ``cap`` tokens.

    Parameters
    ----------
    provider : {"openai", "anthropic", "google", "vllm"}
        Whose HTTP API the body is for.
    cap : int
        Tokens granted (>= 1; an abandoned query has no request at all).
    effort : str, optional
        OpenAI ``reasoning_effort`` level (see ``EFFORT_LEVELS``); only for "openai".
    openai_cap_param : {"max_completion_tokens", "max_tokens"}
        The name OpenAI-compatible servers honour. OpenAI itself wants
        ``max_completion_tokens``; vLLM and llama.cpp servers honour ``max_tokens``.
    answer_reserve : int, default 256
        For providers with a thinking budget: tokens kept for the answer.

    Returns
    -------
    dict
        Fields to merge into the request body (Gemini's go under ``generationConfig``
        and are returned nested that way).

    Raises
    ------
    ValueError
        Unknown provider or cap parameter, a cap below 1, an effort for a
        provider without levels.
    """
    provider = _check_provider(provider)
    cap = _check_cap(cap)
    if effort is not None and provider != "openai":
        raise ValueError(f"`effort` is an OpenAI knob; provider {provider!r} takes a thinking budget, got {effort!r}")
    if provider == "openai":
        if openai_cap_param not in OPENAI_CAP_PARAMS:
            raise ValueError(f"`openai_cap_param` must be one of {OPENAI_CAP_PARAMS}, got {openai_cap_param!r}")
        fields: dict[str, Any] = {openai_cap_param: cap}
        if effort is not None:
            fields["reasoning_effort"] = _check_effort(effort)
        return fields
    if provider == "vllm":
        return {"max_tokens": cap}
    if provider == "anthropic":
        split = split_thinking(cap, answer_reserve=answer_reserve, min_thinking=ANTHROPIC_MIN_THINKING)
        if split.thinking:
            return {"max_tokens": cap, "thinking": {"type": "enabled", "budget_tokens": split.thinking}}
        return {"max_tokens": cap}
    split = split_thinking(cap, answer_reserve=answer_reserve)
    return {"generationConfig": {"maxOutputTokens": cap, "thinkingConfig": {"thinkingBudget": split.thinking}}}


def _check_effort(effort: Any) -> str:
    if not isinstance(effort, str) or not effort:
        raise TypeError(f"`effort` must be a level name such as 'low', got {effort!r}")
    return effort


def grants_to_requests(
    provider: str,
    tokens: ArrayLike,
    *,
    efforts: Sequence[str | None] | None = None,
    openai_cap_param: str = "max_completion_tokens",
    answer_reserve: int = 256,
) -> list[dict[str, Any] | None]:
    """Request fields for a whole allocation, ``None`` for each abandoned query.

    Parameters
    ----------
    provider : str
        See :func:`request_fields`.
    tokens : array_like of int, shape (n,)
        Grants, e.g. ``allocate(...).tokens``; 0 means abandoned.
    efforts : sequence of str or None, length n, optional
        Per-query ``reasoning_effort`` (OpenAI only).
    openai_cap_param, answer_reserve
        See :func:`request_fields`.

    Returns
    -------
    list of dict or None
        One entry per query, in order.
    """
    grants = np.asarray(tokens)
    if grants.ndim != 1:
        raise ValueError(f"`tokens` must be a 1-D array of grants, got shape {grants.shape}")
    if grants.size and not np.issubdtype(grants.dtype, np.integer):
        if not np.all(np.isfinite(grants)) or np.any(grants != np.floor(grants)):
            raise ValueError("`tokens` must hold whole numbers of tokens")
    if np.any(grants < 0):
        raise ValueError(f"`tokens` must be >= 0, got {grants[int(np.argmax(grants < 0))]}")
    if efforts is not None and len(efforts) != grants.shape[0]:
        raise ValueError(f"`efforts` has length {len(efforts)}, expected {grants.shape[0]} (one per query)")
    out: list[dict[str, Any] | None] = []
    for i, grant in enumerate(grants.tolist()):
        if grant == 0:
            out.append(None)
            continue
        effort = None if efforts is None else efforts[i]
        out.append(
            request_fields(
                provider,
                int(grant),
                effort=effort,
                openai_cap_param=openai_cap_param,
                answer_reserve=answer_reserve,
            )
        )
    return out


def level_names(levels: ArrayLike, names: Sequence[str]) -> list[str | None]:
    """Map ``allocate_levels(...).level`` indices to effort names (``None`` = abandoned).

    Parameters
    ----------
    levels : array_like of int, shape (n,)
        Chosen level per query, -1 for abandoned.
    names : sequence of str, length L
        The name of each level column, in the order of the cost/utility columns.
    """
    chosen = np.asarray(levels)
    if chosen.ndim != 1 or (chosen.size and not np.issubdtype(chosen.dtype, np.integer)):
        raise ValueError(f"`levels` must be a 1-D integer array, got {chosen.dtype} with shape {chosen.shape}")
    bad = (chosen < -1) | (chosen >= len(names))
    if bad.any():
        raise ValueError(f"`levels` must be in [-1, {len(names) - 1}], got {chosen[int(np.argmax(bad))]}")
    return [None if k < 0 else str(names[k]) for k in chosen.tolist()]
