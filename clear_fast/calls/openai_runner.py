"""Budgeted batches through the official ``openai`` client, and Batch API files.

:func:`run_openai_batch` allocates one budget over a batch of chat requests
(``clear_fast.allocate`` over their curves, or ``allocate_levels`` over effort
levels) or takes caps decided elsewhere (a risk-aware allocation, a uniform cap,
the next wave of a batch), sends only the funded requests with their own caps
through an ``openai.AsyncOpenAI`` client, reads the usage back and settles it on a
ledger. :func:`write_batch_jsonl` writes the same caps into a file for OpenAI's Batch API.
:func:`run_openai_waves` runs a batch in waves: after each pass, what it did not
use goes to the requests it abandoned or that were cut at their cap
(:func:`clear_fast.waves.next_wave`).

The client is used by duck typing (``client.chat.completions.create``), so this
module never imports ``openai``; any OpenAI-compatible server works. Servers
differ in which cap they honour (llama.cpp and older vLLM ignore
``max_completion_tokens``), so the cap parameter is an argument, and every
response is checked against its cap: overruns are reported, and charged.

An ``AsyncOpenAI`` client keeps a pool of connections that belong to the event
loop it first ran in. A second ``asyncio.run`` with the same client fails its
requests with "Event loop is closed", possibly after they reached the server, so
the batch functions refuse such a client before sending anything, and say what
to do instead.
"""

from __future__ import annotations

import json
import math
import uuid
import weakref
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_budget, as_whole_counts
from ..allocate import allocate
from ..curves import SurgeCurves
from ..levels import allocate_levels
from ..uncertainty import allocate_uncertain
from ..waves import Learner, PassOutcome, next_wave
from ..runtime import Ledger, LedgerAPI
from .providers import OPENAI_CAP_PARAMS, grants_to_requests, level_names

if TYPE_CHECKING:
    import asyncio


@dataclass(frozen=True)
class RequestOutcome:
    """What happened to one request of a budgeted batch.

    Attributes
    ----------
    index : int
        Position in the batch.
    cap : int
        Tokens granted (0: abandoned, no request was sent).
    effort : str or None
        ``reasoning_effort`` sent, if any.
    content : str or None
        The answer text.
    finish_reason : str or None
        ``"stop"``, ``"length"`` (cut at the cap), ...
    input_tokens, output_tokens, reasoning_tokens : int
        Usage the server reported (``output_tokens`` includes reasoning).
    error : str or None
        The exception's text if the request failed.
    """

    index: int
    cap: int
    effort: str | None
    content: str | None = None
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    error: str | None = None

    @property
    def abandoned(self) -> bool:
        """True when the budget did not fund the request (nothing was sent)."""
        return self.cap == 0

    @property
    def overran(self) -> bool:
        """True when the server generated more tokens than the cap (it ignored it)."""
        return self.cap > 0 and self.output_tokens > self.cap

    @property
    def cut_off(self) -> bool:
        """True when the answer stopped at the cap."""
        return self.finish_reason == "length"


@dataclass(frozen=True)
class OpenAIBatchResult:
    """Outcomes of a budgeted batch, in request order, with the totals.

    Attributes
    ----------
    outcomes : list of RequestOutcome
    budget : int
        Tokens the batch could spend.
    granted : int
        Sum of the caps sent.
    spent : int
        Output tokens the server reported (charged to the ledger).
    shadow_price : float
        The allocation's price per token.
    """

    outcomes: list[RequestOutcome]
    budget: int
    granted: int
    spent: int
    shadow_price: float

    @property
    def overruns(self) -> list[int]:
        """Indices of requests whose server ignored the cap."""
        return [o.index for o in self.outcomes if o.overran]

    @property
    def abandoned(self) -> NDArray[np.bool_]:
        """Per request: True when it was never sent (as ``Allocation.abandoned``)."""
        return np.array([o.abandoned for o in self.outcomes], dtype=bool)


def _messages_of(request: Any, index: int) -> dict[str, Any]:
    """A request as keyword arguments for ``chat.completions.create``, without any cap of its own.

    A cap already in the request is dropped: under the other name it would reach
    the server beside the granted one, and a server may honour either.
    """
    if isinstance(request, dict):
        if "messages" not in request:
            raise ValueError(f"`requests[{index}]` must have 'messages', got keys {sorted(request)}")
        return {key: value for key, value in request.items() if key not in OPENAI_CAP_PARAMS}
    if isinstance(request, str):
        return {"messages": [{"role": "user", "content": request}]}
    if isinstance(request, (list, tuple)):
        return {"messages": list(request)}
    raise TypeError(
        f"`requests[{index}]` must be a prompt string, a list of messages or a dict of create() arguments, "
        f"got {type(request).__name__}"
    )


def _usage_of(response: Any) -> tuple[int, int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0, 0
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = int(getattr(details, "reasoning_tokens", 0) or 0) if details is not None else 0
    return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0), reasoning


async def _send(
    client: Any,
    semaphore: asyncio.Semaphore,
    ledger: LedgerAPI,
    query_id: str,
    index: int,
    body: dict[str, Any],
    cap: int,
    effort: str | None,
) -> RequestOutcome:
    async with semaphore:
        try:
            response = await client.chat.completions.create(**body)
        except Exception as error:  # one failed request must not lose the others
            await ledger.arelease(query_id)
            return RequestOutcome(index, cap, effort, error=f"{type(error).__name__}: {error}")
    prompt, output, reasoning = _usage_of(response)
    if getattr(response, "usage", None) is None:
        output = cap  # no usage reported: charge the whole cap, never under-count
    await ledger.asettle(query_id, output)
    choice = response.choices[0] if response.choices else None
    return RequestOutcome(
        index,
        cap,
        effort,
        content=getattr(getattr(choice, "message", None), "content", None),
        finish_reason=getattr(choice, "finish_reason", None),
        input_tokens=prompt,
        output_tokens=output,
        reasoning_tokens=reasoning,
    )


# client -> the event loop it last ran a batch in (weakly: neither is kept alive by this)
_CLIENT_LOOPS: weakref.WeakKeyDictionary[Any, weakref.ReferenceType[Any]] = weakref.WeakKeyDictionary()


def _claim_for_this_loop(client: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Refuse a client whose earlier batch ran in an event loop that has since closed.

    Its pooled connections are bound to that loop: a request on one fails with
    "Event loop is closed", and may already have reached the server (tokens spent,
    answer lost), so the batch stops before it reserves or sends anything.
    """
    try:
        previous = _CLIENT_LOOPS.get(client)
    except TypeError:  # a client that cannot be weakly referenced is not tracked
        return
    earlier = previous() if previous is not None else None
    if previous is not None and earlier is not loop and (earlier is None or earlier.is_closed()):
        raise RuntimeError(
            "`client` ran an earlier batch in an event loop that is now closed (a previous asyncio.run); its "
            "pooled connections belong to that loop, and requests on them fail with 'Event loop is closed', "
            "possibly after reaching the server. Create the client inside the coroutine you give asyncio.run "
            "(`async with openai.AsyncOpenAI() as client: ...`), or run every batch in one asyncio.run"
        )
    try:
        _CLIENT_LOOPS[client] = weakref.ref(loop)
    except TypeError:
        pass


def _as_caps(caps: Any, n: int) -> tuple[list[int], float]:
    """Caps from an allocation (anything with ``tokens``) or an array of whole tokens, and its shadow price."""
    price = float(getattr(caps, "shadow_price", math.nan))
    return as_whole_counts("caps", getattr(caps, "tokens", caps), n).tolist(), price


async def _run(
    client: Any,
    requests: Sequence[Any],
    caps: list[int],
    efforts: list[str | None],
    *,
    model: str,
    cap_param: str,
    max_concurrency: int,
    ledger: LedgerAPI,
    budget: int,
    shadow_price: float,
) -> OpenAIBatchResult:
    import asyncio  # here, not at the top: `import clear_fast` must stay free of asyncio

    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"`max_concurrency` must be a whole number >= 1, got {max_concurrency!r}")
    _claim_for_this_loop(client, asyncio.get_running_loop())
    fields = grants_to_requests("openai", np.asarray(caps, dtype=np.int64), efforts=efforts, openai_cap_param=cap_param)
    semaphore = asyncio.Semaphore(max_concurrency)
    batch_id = uuid.uuid4().hex[:12]
    tasks: dict[int, asyncio.Task[RequestOutcome]] = {}
    outcomes: dict[int, RequestOutcome] = {}
    for i, extra in enumerate(fields):
        if extra is None:
            outcomes[i] = RequestOutcome(i, 0, None)
            continue
        query_id = f"{batch_id}:{i}"
        if await ledger.atry_reserve(query_id, caps[i]) is None:
            outcomes[i] = RequestOutcome(i, 0, None, error="the ledger could no longer cover its cap")
            continue
        body = {"model": model, **_messages_of(requests[i], i), **extra}
        tasks[i] = asyncio.create_task(_send(client, semaphore, ledger, query_id, i, body, caps[i], efforts[i]))
    for i, task in tasks.items():
        outcomes[i] = await task
    ordered = [outcomes[i] for i in range(len(requests))]
    return OpenAIBatchResult(
        outcomes=ordered,
        budget=budget,
        granted=sum(o.cap for o in ordered),
        spent=sum(o.output_tokens for o in ordered),
        shadow_price=shadow_price,
    )


def _ledger_and_budget(budget: Any, ledger: LedgerAPI | None) -> tuple[LedgerAPI, int]:
    if ledger is None:
        budget = as_budget(budget)
        return Ledger(budget), budget
    if not isinstance(ledger, LedgerAPI):
        raise TypeError(f"`ledger` must be a clear_fast.runtime ledger, got {type(ledger).__name__}")
    free = ledger.snapshot().free
    return ledger, free if budget is None else min(as_budget(budget), free)


async def run_openai_batch(
    client: Any,
    requests: Sequence[Any],
    curves: SurgeCurves | None = None,
    budget: int | None = None,
    *,
    model: str,
    caps: Any = None,
    cap_param: str = "max_completion_tokens",
    max_concurrency: int = 8,
    ledger: LedgerAPI | None = None,
) -> OpenAIBatchResult:
    """Allocate ``budget`` over ``requests`` (or take ``caps``) and send the funded ones, each with its cap.

    Parameters
    ----------
    client : openai.AsyncOpenAI
        Or any object with an async ``chat.completions.create``. Use it within one
        event loop: a client whose earlier batch ran in an ``asyncio.run`` that has
        ended is refused (its connections belong to the closed loop).
    requests : sequence, length n
        Each a prompt string, a list of chat messages, or a dict of ``create()``
        arguments with ``messages``.
    curves : SurgeCurves, length n, optional
        Predicted utility of each request against its cap: the batch runs
        ``clear_fast.allocate(curves, budget)``. Give either ``curves`` or ``caps``.
    budget : int or None
        Output tokens for the batch; None with a ``ledger``: what it has free; None
        with ``caps`` and no ledger: the sum of the caps.
    model : str
        Model name sent with every request.
    caps : allocation or array_like of int, shape (n,), optional
        Caps decided elsewhere, sent as they are: any allocation with ``tokens``
        (``allocate_uncertain(...)``, ``allocate(...)``; its ``shadow_price`` is kept) or
        whole numbers of tokens (0 = not sent), e.g. a uniform cap or the next wave of
        :mod:`clear_fast.waves`. Their sum must fit the budget.
    cap_param : {"max_completion_tokens", "max_tokens"}
        The cap parameter the server honours.
    max_concurrency : int, default 8
        Requests in flight at once.
    ledger : clear_fast.runtime ledger, optional
        Shared budget to reserve caps on and settle usage to (a fleet's
        ``RedisLedger``); by default a private one holding ``budget``.

    Returns
    -------
    OpenAIBatchResult
        Outcomes in request order. Abandoned requests were never sent.

    Raises
    ------
    ValueError, TypeError
        On a bad budget, cap parameter, request or a length mismatch; on both or
        neither of ``curves`` and ``caps``; on caps that are not whole tokens or whose
        sum exceeds the budget.
    RuntimeError
        When ``client`` ran an earlier batch in an event loop that is now closed.
    """
    if (curves is None) == (caps is None):
        raise TypeError("give either `curves` (to allocate the budget here) or `caps` (decided elsewhere), not both")
    if curves is not None and not isinstance(curves, SurgeCurves):
        raise TypeError(f"`curves` must be SurgeCurves, got {type(curves).__name__}")
    if cap_param not in OPENAI_CAP_PARAMS:
        raise ValueError(f"`cap_param` must be one of {OPENAI_CAP_PARAMS}, got {cap_param!r}")
    if curves is not None:
        if len(curves) != len(requests):
            raise ValueError(f"`curves` has {len(curves)} queries for {len(requests)} requests")
        ledger, budget = _ledger_and_budget(budget, ledger)
        allocation = allocate(curves, budget)
        granted, price = [int(t) for t in allocation.tokens], float(allocation.shadow_price)
    else:
        granted, price = _as_caps(caps, len(requests))
        if budget is None and ledger is None:
            budget = sum(granted)
        ledger, budget = _ledger_and_budget(budget, ledger)
        if sum(granted) > budget:
            raise ValueError(f"`caps` sum to {sum(granted)} tokens, over the budget of {budget}")
    return await _run(
        client,
        requests,
        granted,
        [None] * len(granted),
        model=model,
        cap_param=cap_param,
        max_concurrency=max_concurrency,
        ledger=ledger,
        budget=budget,
        shadow_price=price,
    )


@dataclass(frozen=True)
class OpenAIWavesResult:
    """A batch run in waves: every pass, and each request's last outcome.

    Attributes
    ----------
    passes : list of OpenAIBatchResult
        The first pass, then each wave (a wave's ``budget`` is what was left).
    outcomes : list of RequestOutcome
        Per request, the outcome of the last pass that sent it (its first-pass
        outcome, abandoned, if none did).
    answered_correctly : ndarray of bool or None
        Per request, whether some pass answered it right (``is_correct`` given), else None.
    budget : int
        Tokens the whole batch could spend.
    spent : int
        Output tokens over all passes (overruns included).
    """

    passes: list[OpenAIBatchResult]
    outcomes: list[RequestOutcome]
    answered_correctly: NDArray[np.bool_] | None
    budget: int
    spent: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spent", sum(p.spent for p in self.passes))

    @property
    def abandoned(self) -> NDArray[np.bool_]:
        """Per request: True when no pass sent it."""
        return np.array([o.abandoned for o in self.outcomes], dtype=bool)

    @property
    def overruns_by_pass(self) -> list[tuple[int, int]]:
        """``(pass, request index)`` of every response whose server ignored its cap."""
        return [(k, i) for k, result in enumerate(self.passes) for i in result.overruns]


async def run_openai_waves(
    client: Any,
    requests: Sequence[Any],
    curves: SurgeCurves,
    budget: int,
    *,
    model: str,
    spread: ArrayLike = 0.0,
    first: Any = None,
    max_waves: int = 3,
    decoding: str = "deterministic",
    is_correct: Callable[[int, str | None], bool] | None = None,
    learn: Learner | None = None,
    cap_param: str = "max_completion_tokens",
    max_concurrency: int = 8,
) -> OpenAIWavesResult:
    """Run a batch, then spend what it did not use on the requests it abandoned or that were cut.

    Parameters
    ----------
    client, requests, model, cap_param, max_concurrency
        As in :func:`run_openai_batch`.
    curves : SurgeCurves, form "cumulative", length n
        Predicted chance of success of each request against its cap.
    budget : int
        Output tokens for all passes together.
    spread : float or array_like, shape (n,)
        Standard deviation of each predicted ``log tau`` (0: the thresholds are taken as
        known).
    first : allocation or array_like of int, optional
        Caps of the first pass; default ``allocate_uncertain(curves, spread, budget)``
        (``allocate(curves, budget)`` when every spread is 0).
    max_waves : int
        Waves after the first pass (>= 0).
    decoding : {"deterministic", "sampled"}
        Whether the server repeats an answer (temperature 0) or samples afresh.
    is_correct : callable, optional
        ``is_correct(index, content) -> bool``, a grader: correct requests are never
        rerun, even when their answer was cut after it came. Without one, a request that
        finished under its cap is done and one cut at its cap is a candidate.
    learn : callable, optional
        ``learn(PassOutcome) -> (curves, spread) or None`` after each pass but the last: new
        predictions for the next wave (e.g. a :class:`clear_fast.estimators.OutcomeLearner`).

    Returns
    -------
    OpenAIWavesResult

    Notes
    -----
    One private ledger holds ``budget`` for all passes: each wave reserves only what
    the earlier ones left, so the batch never spends more than its budget (an endpoint
    that ignores caps is charged what it used, and the next wave has that much less).
    A rerun is a new request at a larger cap (a chat API cannot continue a cut answer).
    """
    total = as_budget(budget)
    if not isinstance(curves, SurgeCurves):
        raise TypeError(f"`curves` must be SurgeCurves, got {type(curves).__name__}")
    if len(curves) != len(requests):
        raise ValueError(f"`curves` has {len(curves)} queries for {len(requests)} requests")
    rounds = max_waves if isinstance(max_waves, int) and not isinstance(max_waves, bool) else -1
    if rounds < 0:
        raise ValueError(f"`max_waves` must be a whole number >= 0, got {max_waves!r}")
    spreads = np.broadcast_to(np.asarray(spread, dtype=np.float64), (len(curves),))
    if first is None:
        first = allocate_uncertain(curves, spreads, total) if np.any(spreads > 0) else allocate(curves, total)
    ledger = Ledger(total)
    n = len(requests)
    tried = np.zeros(n, dtype=np.float64)
    cut = np.zeros(n, dtype=bool)
    correct = np.zeros(n, dtype=bool)
    latest: list[RequestOutcome | None] = [None] * n
    passes: list[OpenAIBatchResult] = []
    caps: Any = first
    for wave in range(rounds + 1):
        if wave > 0:
            plan = next_wave(
                curves, spreads, ledger.snapshot().free, tried=tried, cut=cut,
                correct=correct if is_correct is not None else None, decoding=decoding,
            )
            if not plan.tokens.any():
                break
            caps = plan.tokens
        result = await run_openai_batch(
            client, requests, caps=caps, model=model, cap_param=cap_param, max_concurrency=max_concurrency,
            ledger=ledger,
        )
        passes.append(result)
        this_correct = np.zeros(n, dtype=bool)
        for outcome in result.outcomes:
            if outcome.abandoned and latest[outcome.index] is not None:
                continue
            latest[outcome.index] = outcome
            if outcome.abandoned or outcome.error is not None:
                continue
            tried[outcome.index] = outcome.cap
            cut[outcome.index] = outcome.cut_off
            if is_correct is not None and is_correct(outcome.index, outcome.content):
                correct[outcome.index] = this_correct[outcome.index] = True
        if learn is not None and wave < rounds:
            answered = np.array([not o.abandoned and o.error is None for o in result.outcomes], dtype=bool)
            learnt = learn(PassOutcome(
                caps=np.where(answered, [o.cap for o in result.outcomes], 0).astype(np.int64),
                correct=this_correct if is_correct is not None else None,
                tokens_used=np.array([o.output_tokens for o in result.outcomes], dtype=np.int64),
                cut=answered & np.array([o.cut_off for o in result.outcomes], dtype=bool),
            ))
            if learnt is not None:
                curves, spread = learnt
                spreads = np.broadcast_to(np.asarray(spread, dtype=np.float64), (len(curves),))
    return OpenAIWavesResult(
        passes=passes,
        outcomes=[o if o is not None else RequestOutcome(i, 0, None) for i, o in enumerate(latest)],
        answered_correctly=correct if is_correct is not None else None,
        budget=total,
    )


async def run_openai_levels(
    client: Any,
    requests: Sequence[Any],
    costs: ArrayLike,
    utilities: ArrayLike,
    budget: int | None,
    *,
    model: str,
    levels: Sequence[str] = ("low", "medium", "high"),
    cap_param: str = "max_completion_tokens",
    max_concurrency: int = 8,
    ledger: LedgerAPI | None = None,
) -> OpenAIBatchResult:
    """Pick a ``reasoning_effort`` level per request under one budget and send them.

    Parameters
    ----------
    costs, utilities : array_like, shape (n, L)
        Measured tokens and accuracy of each request at each level (columns in
        the order of ``levels``). The cost of the chosen level is also the
        request's cap, so the budget holds even if a level runs long.
    levels : sequence of str, length L
        The ``reasoning_effort`` names of the columns.
    Others
        As in :func:`run_openai_batch`.

    Returns
    -------
    OpenAIBatchResult
    """
    if cap_param not in OPENAI_CAP_PARAMS:
        raise ValueError(f"`cap_param` must be one of {OPENAI_CAP_PARAMS}, got {cap_param!r}")
    cost_table = np.asarray(costs, dtype=np.float64)
    if cost_table.ndim != 2 or cost_table.shape[1] != len(levels):
        raise ValueError(f"`costs` must have shape (n, {len(levels)}) (one column per level), got {cost_table.shape}")
    if cost_table.shape[0] != len(requests):
        raise ValueError(f"`costs` has {cost_table.shape[0]} rows for {len(requests)} requests")
    ledger, budget = _ledger_and_budget(budget, ledger)
    chosen = allocate_levels(cost_table, utilities, budget)
    names = level_names(chosen.level, levels)
    caps = [int(t) for t in chosen.tokens]
    return await _run(
        client,
        requests,
        caps,
        names,
        model=model,
        cap_param=cap_param,
        max_concurrency=max_concurrency,
        ledger=ledger,
        budget=budget,
        shadow_price=float(chosen.shadow_price),
    )


def write_batch_jsonl(
    out: str | IO[str],
    requests: Sequence[Any],
    tokens: ArrayLike,
    *,
    model: str,
    cap_param: str = "max_completion_tokens",
    efforts: Sequence[str | None] | None = None,
    endpoint: str = "/v1/chat/completions",
    id_prefix: str = "request-",
) -> list[str]:
    """Write an OpenAI Batch API input file with a cap per request.

    Parameters
    ----------
    out : str or text file
        Path to write, or an open text file.
    requests : sequence, length n
        As in :func:`run_openai_batch`.
    tokens : array_like of int, shape (n,)
        Caps, e.g. ``allocate(...).tokens``; abandoned requests (0) are left out.
    model, cap_param
        As in :func:`run_openai_batch`.
    efforts : sequence of str or None, optional
        Per-request ``reasoning_effort``.
    endpoint : str
        The Batch API ``url`` of each line.
    id_prefix : str
        ``custom_id`` is ``id_prefix + <request index>``, to match results back.

    Returns
    -------
    list of str
        The ``custom_id`` of each line written, in order.
    """
    fields = grants_to_requests("openai", tokens, efforts=efforts, openai_cap_param=cap_param)
    if len(fields) != len(requests):
        raise ValueError(f"`tokens` has {len(fields)} caps for {len(requests)} requests")
    lines = []
    ids = []
    for i, extra in enumerate(fields):
        if extra is None:
            continue
        custom_id = f"{id_prefix}{i}"
        body = {"model": model, **_messages_of(requests[i], i), **extra}
        lines.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": endpoint, "body": body}))
        ids.append(custom_id)
    text = "".join(line + "\n" for line in lines)
    if isinstance(out, str):
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        out.write(text)
    return ids
