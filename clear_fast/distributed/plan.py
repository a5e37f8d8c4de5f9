"""The recipe of the grants: a few small steps every partition replays to get its own tokens.

The driver never holds the grants. It decides global scalars (a price, a cut in
the order of queries, the gain at which one more token stops) and the odd
explicit grant, and records them as steps; a partition replays the steps on
its own queries and gets exactly the tokens ``allocate`` would give them.

Queries are ordered as ``allocate`` orders them: by decreasing break-even price,
then by increasing global position (the stable sort). A *key* ``(price, index)``
cuts that order: the queries before it are those with a larger break-even
price, or an equal one and a smaller index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .. import _kernel
from .._rounding import one_more_token_passes
from ..curves import SurgeCurves

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Fill:
    """Fund the fundable queries before the key ``(cut_price, cut_index)`` at ``price``, rounded down.

    With ``indices``, the continuous grants are given instead: ``continuous`` at
    those global indices (the clearing ran on the driver), 0 elsewhere.
    """

    price: float
    cut_price: float
    cut_index: int
    indices: NDArray[np.int64] | None = None
    continuous: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Pass:
    """One more token to the candidates it raises whose gain is at the cut ``(gain, index)`` or above.

    ``gain=None``: to every candidate it raises. The candidates are the funded
    queries right after a :class:`Fill` (by the gains the fill computed), else
    the queries the last step made active; the ones that got a token become active.
    """

    gain: float | None = None
    index: int = -1


@dataclass(frozen=True)
class ActivateFunded:
    """Make every funded query active (the leftover passes start over)."""


@dataclass(frozen=True)
class Assign:
    """Set the grants of queries at global ``indices``; ``reset`` first abandons every query.

    ``active`` (global indices, ascending) become the active queries.
    """

    indices: NDArray[np.int64] = field(default_factory=lambda: _EMPTY)
    grants: NDArray[np.int64] = field(default_factory=lambda: _EMPTY)
    reset: bool = False
    active: NDArray[np.int64] = field(default_factory=lambda: _EMPTY)


Step = Fill | Pass | ActivateFunded | Assign


def before_key(breakeven: NDArray[np.float64], index: NDArray[np.int64], price: float, cut: int) -> NDArray[np.bool_]:
    """Which fundable queries come before the key ``(price, cut)`` in the order of ``allocate``."""
    return (breakeven > 0.0) & ((breakeven > price) | ((breakeven == price) & (index < cut)))


def best_responses(curves: SurgeCurves, funded: NDArray[np.bool_], price: float) -> tuple[NDArray[np.float64], float, float]:
    """Continuous best responses at ``price`` of the ``funded`` queries (0 for the others), their total and slope.

    A funded query responds even when its break-even price is below ``price``
    (the marginal query funded at a jump), as the kernel's market rows do.
    """
    out = np.empty(len(curves))
    gate = np.where(funded, np.inf, -1.0)
    total, slope = _kernel.kernel.demand(
        curves.form_code, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens, gate,
        float(price), out,
    )
    return out, float(total), float(slope)


def grant_curvature(slope: float, price: float, beta: float) -> float:
    """The kernel's ``grant_curvature``: second derivative in the price of one grant whose slope is ``slope``."""
    if slope >= 0.0 or price <= 0.0:
        return 0.0
    r = -slope * price * beta
    return -slope * r * (2.0 - r) / price


def demand_curvatures(curves: SurgeCurves, grants: NDArray[np.float64], price: float) -> NDArray[np.float64]:
    """Each continuous best response's second derivative in the price (0 where a bound holds it).

    An interior grant ``tau + x`` has ``W = 1 - beta x`` (surge) or ``W = -beta x``
    (cumulative), its slope ``-W / (price beta (1 + W))``: the kernel's per-row
    slope and curvature, recovered from the grant without another Lambert W.
    """
    out = np.zeros(len(curves))
    if price <= 0.0 or not len(curves):
        return out
    lower = np.ceil(np.maximum(curves.tau, curves.min_tokens))
    upper = np.floor(curves.max_tokens)
    interior = (grants > lower) & (grants < upper)
    x = grants[interior] - curves.tau[interior]
    beta = curves.beta[interior]
    w = 1.0 - beta * x if curves.form == "surge" else -beta * x
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(w != -1.0, -(w / price) / (beta * (1.0 + w)), 0.0)  # as the kernel's best_grant
        r = -slope * price * beta
        out[interior] = np.where(slope < 0.0, -slope * r * (2.0 - r) / price, 0.0)
    return out


class Replay:
    """One partition's tokens after some steps of a recipe, with what the next step needs."""

    def __init__(self, curves: SurgeCurves, index: NDArray[np.int64], breakeven: NDArray[np.float64]) -> None:
        self.curves, self.index, self.breakeven = curves, index, breakeven
        self.tokens = np.zeros(len(curves))
        self.active = np.zeros(0, dtype=np.intp)
        self.fill_gains: NDArray[np.float64] | None = None  # set by a Fill until the next step
        self.continuous: NDArray[np.float64] | None = None
        self.surplus = 0.0

    def run(self, steps: list[Step]) -> Replay:
        for step in steps:
            self.apply(step)
        return self

    def apply(self, step: Step) -> None:
        if isinstance(step, Fill):
            self._fill(step)
            return
        if isinstance(step, Pass):
            candidates, gains = self.candidates()
            chosen = gains > 0
            if step.gain is not None:
                chosen &= (gains > step.gain) | ((gains == step.gain) & (self.index[candidates] <= step.index))
            self.active = candidates[chosen]
            self.tokens[self.active] += 1.0
        elif isinstance(step, ActivateFunded):
            self.active = np.flatnonzero(self.tokens > 0)
        else:
            if step.reset:
                self.tokens[:] = 0.0
            here = self._local(step.indices)
            self.tokens[here] = step.grants[self._mine(step.indices)]
            self.active = self._local(step.active)
        self.fill_gains = None

    def candidates(self) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """The queries the next :class:`Pass` considers, ascending, and their gains from one more token."""
        if self.fill_gains is not None:
            candidates = np.flatnonzero(self.fill_gains > -np.inf)
            return candidates, self.fill_gains[candidates]
        gains = np.empty(self.active.shape[0])
        c, a = self.curves, self.active
        _kernel.kernel.unit_gains(
            c.form_code, np.ascontiguousarray(c.tau[a]), np.ascontiguousarray(c.scale[a]),
            np.ascontiguousarray(c.beta[a]), np.ascontiguousarray(c.max_tokens[a]),
            np.ascontiguousarray(self.tokens[a]), gains,
        )
        return a, gains

    def passes_on_active(self, leftover: int) -> int:
        """The leftover passes on this partition's active queries alone (all of them here); returns what is left."""
        self.active, leftover = one_more_token_passes(self.curves, self.tokens, self.active, leftover)
        return leftover

    def _fill(self, step: Fill) -> None:
        if step.indices is not None and step.continuous is not None:
            continuous = np.zeros(len(self.curves))
            continuous[self._local(step.indices)] = step.continuous[self._mine(step.indices)]
            funded = continuous > 0
        else:
            funded = before_key(self.breakeven, self.index, step.cut_price, step.cut_index)
            continuous, _, _ = best_responses(self.curves, funded, step.price)
        c = self.curves
        gains = np.empty(len(c))
        _kernel.kernel.floor_grants(c.form_code, c.tau, c.scale, c.beta, c.max_tokens, continuous, self.tokens, gains)
        values = np.empty(len(c))
        _kernel.kernel.utility(c.form_code, c.tau, c.scale, c.beta, continuous, values)
        with np.errstate(invalid="ignore"):
            surplus = values - step.price * continuous
        self.surplus = float(surplus[funded & (surplus > 0)].sum())
        self.continuous = continuous
        self.fill_gains = gains
        self.active = np.flatnonzero(self.tokens > 0)

    def _mine(self, indices: NDArray[np.int64]) -> NDArray[np.bool_]:
        if len(self.index) == 0:
            return np.zeros(indices.shape[0], dtype=bool)
        return (indices >= self.index[0]) & (indices <= self.index[-1])

    def _local(self, indices: NDArray[np.int64]) -> NDArray[np.intp]:
        if len(self.index) == 0:
            return np.zeros(0, dtype=np.intp)
        return (indices[self._mine(indices)] - self.index[0]).astype(np.intp)
