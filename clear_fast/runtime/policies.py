"""What to do with a query the price turns away.

Abandonment is a rational choice of the allocator, but it should be the
user's choice how it looks to the caller. A policy receives the quote of a
query the pacer did not fund and returns a :class:`Decision`:

* :class:`Refuse` - say no, with the reason (its break-even price against the current price);
* :class:`Defer` - wait, re-quoting until the price falls below the query's
  break-even price or a timeout passes;
* :class:`FallBack` - run a cheaper action instead (a smaller model, a
  no-thinking mode), priced on its own curve or given a fixed cap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol

from .._checks import as_budget, as_seconds
from ..curves import SurgeCurves
from .quote import Quote

ACTIONS = ("run", "fallback", "refuse")


class Requotes(Protocol):
    """What a policy needs from a pacer: a fresh quote that is not counted as a new arrival."""

    def requote(self, curves: SurgeCurves, *, tenant: str | None = None) -> Quote: ...


@dataclass(frozen=True)
class Decision:
    """What to do with one query.

    Attributes
    ----------
    action : {"run", "fallback", "refuse"}
        Run the query with ``tokens``; run the ``alternative`` with ``tokens``; or do not run it.
    tokens : int
        The cap (0 when refused).
    reason : str
        A sentence for logs and for the user.
    price : float
        Price per token at the decision.
    breakeven : float
        The query's break-even price.
    waited : float
        Seconds spent deferring.
    alternative : object
        The fallback the user supplied, when ``action == "fallback"``.
    """

    action: str
    tokens: int
    reason: str
    price: float
    # stored privately and read through a property, as ``Allocation.breakeven`` is
    _breakeven: float
    waited: float = 0.0
    alternative: Any = None

    @property
    def breakeven(self) -> float:
        """The query's break-even price."""
        return self._breakeven


def run_decision(quote: Quote, waited: float = 0.0) -> Decision:
    """The decision for a funded quote."""
    return Decision("run", int(quote.tokens[0]), quote.why(0), quote.price, float(quote.breakeven[0]), waited)


def refuse_decision(quote: Quote, waited: float = 0.0, prefix: str = "") -> Decision:
    """The decision for a quote nobody can fund."""
    return Decision("refuse", 0, prefix + quote.why(0), quote.price, float(quote.breakeven[0]), waited)


class Refuse:
    """Turn the query away with the reason the price gives."""

    def decide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        return refuse_decision(quote)

    async def adecide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        return self.decide(pacer, curve, quote, tenant)


class Defer:
    """Wait for the price to fall below the query's break-even price, then run it.

    Parameters
    ----------
    timeout : float
        Longest wait in seconds; after it the query is refused.
    poll : float, default 1.0
        Seconds between two re-quotes.
    sleep, asleep : callable, optional
        How to wait (default ``time.sleep`` and ``asyncio.sleep``); tests pass
        functions that move a fake clock.
    """

    def __init__(
        self,
        timeout: float,
        *,
        poll: float = 1.0,
        sleep: Callable[[float], Any] = time.sleep,
        asleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.timeout, self.poll = as_seconds("timeout", timeout), as_seconds("poll", poll)
        self._sleep, self._asleep = sleep, asleep

    def _give_up(self, quote: Quote, waited: float) -> Decision:
        return refuse_decision(quote, waited, prefix=f"deferred {waited:g} s without the price falling far enough; ")

    def decide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        waited = 0.0
        while waited < self.timeout:
            self._sleep(self.poll)
            waited += self.poll
            quote = pacer.requote(curve, tenant=tenant)
            if quote.funded[0]:
                return run_decision(quote, waited)
        return self._give_up(quote, waited)

    async def adecide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        import asyncio  # here, not at import: only async callers need it

        asleep = self._asleep or asyncio.sleep
        waited = 0.0
        while waited < self.timeout:
            await asleep(self.poll)
            waited += self.poll
            quote = await asyncio.to_thread(pacer.requote, curve, tenant=tenant)
            if quote.funded[0]:
                return run_decision(quote, waited)
        return self._give_up(quote, waited)


class FallBack:
    """Run a cheaper action instead of the query as asked.

    Parameters
    ----------
    alternative : object
        What to run instead (a smaller model, a settings dict, a callable):
        handed back in ``Decision.alternative``.
    curve : SurgeCurves, optional
        The alternative's own curve (one query): it is priced at the current
        price like any query, and refused if the price says no to it too.
    tokens : int, optional
        A fixed cap for the alternative instead of a curve (e.g. a
        no-thinking answer of a few hundred tokens). Give ``curve`` or ``tokens``.
    """

    def __init__(self, alternative: Any, *, curve: SurgeCurves | None = None, tokens: Any = None) -> None:
        if (curve is None) == (tokens is None):
            raise ValueError("give the alternative's `curve` or a fixed `tokens` cap (exactly one)")
        if curve is not None and (not isinstance(curve, SurgeCurves) or len(curve) != 1):
            raise TypeError("`curve` must be a SurgeCurves of one query")
        self.alternative = alternative
        self.curve = curve
        self.tokens = None if tokens is None else as_budget(tokens, "tokens")

    def decide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        if self.tokens is not None:
            if self.tokens > quote.remaining:
                return refuse_decision(quote, prefix=f"the fallback's {self.tokens} tokens exceed what is left; ")
            reason = f"fell back to a cheaper action with {self.tokens} tokens; the query itself was " + quote.why(0)
            return Decision("fallback", self.tokens, reason, quote.price, float(quote.breakeven[0]), 0.0, self.alternative)
        assert self.curve is not None  # the constructor demands a curve or a fixed cap
        cheaper = pacer.requote(self.curve, tenant=tenant)
        if not cheaper.funded[0]:
            return refuse_decision(cheaper, prefix="the query and its fallback were both turned away; the fallback was ")
        reason = "fell back to a cheaper action, " + cheaper.why(0)
        return Decision(
            "fallback", int(cheaper.tokens[0]), reason, cheaper.price, float(cheaper.breakeven[0]), 0.0, self.alternative
        )

    async def adecide(self, pacer: Requotes, curve: SurgeCurves, quote: Quote, tenant: str | None) -> Decision:
        import asyncio

        return await asyncio.to_thread(self.decide, pacer, curve, quote, tenant)
