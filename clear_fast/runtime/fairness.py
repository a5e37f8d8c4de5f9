"""Tenant fairness: value weights, and a minimum share of what gets funded.

A single price treats every token alike, so a tenant whose queries are hard
can be abandoned wholesale. ``TenantShares`` makes that a choice:

* value weights scale a tenant's utility (a query worth twice as much beats a
  higher price), exactly as ``SurgeCurves(weight=...)`` does in a batch;
* a minimum share is a constraint "tenant t gets at least m_t of the funded
  queries (or tokens)". Its dual variable mu_t is a discount on the price that
  tenant t faces, ``price * exp(-mu_t)``, raised while the tenant is below its
  share and relaxed once it is above, by online dual ascent.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from .._checks import as_positive_number
from ..curves import SurgeCurves

_MEASURES = ("queries", "tokens")


def _check_mapping(name: str, mapping: Any, low: float, high: float | None) -> dict[str, float]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise TypeError(f"`{name}` must be a dict of tenant -> number, got {type(mapping).__name__}")
    checked = {}
    for tenant, value in mapping.items():
        if not isinstance(tenant, str):
            raise TypeError(f"`{name}` keys must be tenant names (str), got {tenant!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"`{name}[{tenant!r}]` must be a finite number, got {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
            raise ValueError(f"`{name}[{tenant!r}]` must be {bounds}, got {value!r}")
        checked[tenant] = float(value)
    return checked


class TenantShares:
    """Per-tenant value weights and minimum shares for a :class:`Pacer`.

    Parameters
    ----------
    minimum : dict of str to float, optional
        Smallest share (0 to 1) of funded queries, or of granted tokens, each
        tenant should get, as far as its own traffic allows. Shares must sum to <= 1.
    by : {"queries", "tokens"}
        What the minimum shares count.
    weights : dict of str to float, optional
        Value of a tenant's queries relative to others (default 1).
    step : float, default 0.05
        Dual ascent step: how fast a discount grows while a tenant is short.

    Notes
    -----
    The discount is capped at ``exp(-max_discount)`` (default a factor 1e-6 on
    the price) so a tenant whose queries can never be funded does not drive it
    without bound. Tenants not named (and ``tenant=None``) have weight 1 and no
    minimum.
    """

    def __init__(
        self,
        minimum: dict[str, float] | None = None,
        *,
        by: str = "queries",
        weights: dict[str, float] | None = None,
        step: float = 0.05,
        max_discount: float = math.log(1e6),
    ) -> None:
        if by not in _MEASURES:
            raise ValueError(f"`by` must be one of {_MEASURES}, got {by!r}")
        self.minimum = _check_mapping("minimum", minimum, 0.0, 1.0)
        if sum(self.minimum.values()) > 1.0 + 1e-12:
            raise ValueError(f"`minimum` shares must sum to <= 1, got {sum(self.minimum.values()):g}")
        self.weights = _check_mapping("weights", weights, 0.0, None)
        self.by = by
        self.step = as_positive_number("step", step)
        self.max_discount = float(max_discount)
        self._lock = threading.Lock()
        self._dual = dict.fromkeys(self.minimum, 0.0)
        self._funded: dict[str | None, float] = {}

    def weighted(self, curves: SurgeCurves, tenant: str | None) -> SurgeCurves:
        """``curves`` with the tenant's value weight applied (unchanged at weight 1)."""
        factor = self.weights.get(tenant, 1.0) if tenant is not None else 1.0
        if factor == 1.0:
            return curves
        return SurgeCurves(
            curves.tau, curves.alpha, curves.beta, weight=curves.weight * factor,
            min_tokens=curves.min_tokens, max_tokens=curves.max_tokens, form=curves.form,
        )

    def discount(self, tenant: str | None) -> float:
        """Factor (<= 1) on the price the tenant faces."""
        with self._lock:
            return math.exp(-self._dual.get(tenant, 0.0)) if tenant is not None else 1.0

    def shares(self) -> dict[str | None, float]:
        """Each tenant's share so far of funded queries (or granted tokens)."""
        with self._lock:
            total = sum(self._funded.values())
            return {t: (v / total if total else 0.0) for t, v in self._funded.items()}

    def observe(self, tenant: str | None, tokens: np.ndarray) -> None:
        """Count what a quote funded, then take one dual step for every tenant with a minimum."""
        amount = float(np.count_nonzero(tokens)) if self.by == "queries" else float(np.sum(tokens))
        with self._lock:
            self._funded[tenant] = self._funded.get(tenant, 0.0) + amount
            total = sum(self._funded.values())
            if total <= 0:
                return
            for name, share in self.minimum.items():
                shortfall = share - self._funded.get(name, 0.0) / total
                self._dual[name] = min(max(self._dual[name] + self.step * shortfall, 0.0), self.max_discount)
