"""Tenant fairness: value weights, and minimum shares held by a per-tenant price discount."""

from __future__ import annotations

import numpy as np
import pytest

import clear_fast as cf
from clear_fast.runtime import Pacer, TenantShares
from clear_fast.workloads import make_stream

from pacer_traffic import PERIOD, Clock, arrival_times

N = 800


def test_value_weights_scale_a_tenants_utility():
    curve = make_stream("MostlyHard", 1, seed=4).curves
    be = float(cf.breakeven_price(curve)[0])
    pacer = Pacer(10**7, 3600, price=1.5 * be, clock=Clock(), resolve_every=10**6,
                  fairness=TenantShares(weights={"gold": 2.0}))
    assert pacer.quote(curve).tokens[0] == 0
    gold = pacer.quote(curve, tenant="gold")
    doubled = cf.SurgeCurves(curve.tau, curve.alpha, curve.beta, weight=2.0, form="cumulative")
    assert gold.tokens[0] == cf.best_response(doubled, 1.5 * be)[0] > 0
    assert gold.breakeven[0] == pytest.approx(2 * be)


def two_tenants(minimum=None, by="queries"):
    """Half the traffic from a tenant with hard queries, half from one with easy ones, interleaved."""
    hard = make_stream("MostlyHard", N // 2, seed=21).curves
    easy = make_stream("MostlyEasy", N // 2, seed=22).curves
    tenants = np.array(["lab", "shop"] * (N // 2))
    clock = Clock()
    shares = TenantShares(minimum, by=by)
    budget = 200 * N
    pacer = Pacer(budget, PERIOD, sample=make_stream("Balanced", 256, seed=2).curves, expected_queries=N,
                  clock=clock, fairness=shares)
    caps = np.zeros(N, dtype=np.int64)
    for i, t in enumerate(arrival_times(N, 5)):
        clock.now = t
        curve = (hard if tenants[i] == "lab" else easy).subset([i // 2])
        caps[i] = pacer.quote(curve, tenant=str(tenants[i])).tokens[0]
        pacer.record(int(caps[i]))
    lab = tenants == "lab"
    funded = caps > 0
    return {
        "queries": funded[lab].sum() / funded.sum(),
        "tokens": caps[lab].sum() / caps.sum(),
        "spend": caps.sum() / budget,
        "reported": shares.shares(),
    }


def test_a_minimum_share_of_funded_queries_is_held():
    plain = two_tenants()
    fair = two_tenants({"lab": 0.4})
    assert plain["queries"] < 0.3  # one price alone abandons most of the hard tenant
    assert fair["queries"] >= 0.38
    assert fair["reported"]["lab"] == pytest.approx(fair["queries"])
    assert 0.95 <= fair["spend"] <= 1.0  # the budget still holds and is spent


def test_a_minimum_share_of_tokens_is_held():
    plain = two_tenants()
    fair = two_tenants({"lab": 0.5}, by="tokens")
    assert plain["tokens"] < 0.45
    assert fair["tokens"] >= 0.48
    assert 0.95 <= fair["spend"] <= 1.0


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"minimum": {"a": 1.5}}, ValueError, r"`minimum\['a'\]` must be in \[0, 1\], got 1.5"),
        ({"minimum": {"a": 0.6, "b": 0.6}}, ValueError, "`minimum` shares must sum to <= 1, got 1.2"),
        ({"weights": {"a": -1}}, ValueError, r"`weights\['a'\]` must be >= 0, got -1"),
        ({"weights": [("a", 1)]}, TypeError, "`weights` must be a dict of tenant -> number, got list"),
        ({"by": "euros"}, ValueError, "`by` must be one of"),
    ],
)
def test_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        TenantShares(**arguments)
