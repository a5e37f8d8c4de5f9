"""The shared-parameter kernel (blocked scan, fused grants) held to its twin and to a scan of every k.

The kernel skips blocks of 64 values of ``k`` that a bound rules out and keeps
threshold sums only at block starts; these tests use batches of hundreds to
thousands of queries, so many blocks are skipped, evaluated, or cut short.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast import _reference, _solver
from clear_fast._reference.curve import SURGE

from core_oracles import run_with

FORMS = {"surge": 0, "cumulative": 1}


@st.composite
def sorted_thresholds(draw):
    """Thresholds as a batch has them: spread, with runs of equal values and zeros."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.sampled_from([1, 63, 64, 65, 200, 1000, 3000]))
    tau = rng.lognormal(np.log(draw(st.sampled_from([5.0, 400.0]))), draw(st.sampled_from([0.1, 0.8, 2.0])), n)
    if draw(st.booleans()):
        tau = np.round(tau / 50) * 50  # many equal thresholds (and zeros)
    width = draw(st.sampled_from([0.5, 20.0, 200.0]))
    form = draw(st.sampled_from(["surge", "cumulative"]))
    per_query = draw(st.sampled_from([0.5, 5.0, 60.0, 300.0, 3000.0]))
    shape = cf.SurgeCurves.from_peak([0.0], 0.8, width, form=form)  # the kernel's a and beta for this peak and width
    budget = float(max(1, round(per_query * n)))  # allocate passes budget >= 1
    return FORMS[form], np.sort(tau), float(shape.scale[0]), float(shape.beta[0]), budget


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sorted_thresholds())
def test_the_blocked_scan_finds_the_twins_k_and_x_exactly(case):
    code, tau_sorted, a, beta, budget = case
    k, x, price, bound = _solver.shared_solve(code, tau_sorted, a, beta, budget)
    k_twin, x_twin, price_twin, bound_twin = _reference.shared_solve(code, list(tau_sorted), a, beta, budget)
    assert (k, x) == (k_twin, x_twin)  # the same sums in the same order: bit for bit
    assert price == pytest.approx(price_twin, rel=1e-12, abs=1e-300)
    assert bound == pytest.approx(bound_twin, rel=1e-12, abs=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sorted_thresholds())
def test_the_scan_is_the_best_k_of_every_k(case):
    """An independent scan: every k's value with NumPy, no bounds, no blocks."""
    code, tau_sorted, a, beta, budget = case
    k, x, _, bound = _solver.shared_solve(code, tau_sorted, a, beta, budget)
    counts = np.arange(1, tau_sorted.shape[0] + 1)
    remaining = budget - np.cumsum(tau_sorted)
    increments = np.minimum(remaining / counts, 1.0 / beta if code == SURGE else np.inf)
    y = beta * np.maximum(increments, 0.0)
    if code == SURGE:
        utility = a * np.maximum(increments, 0.0) * np.exp(-y)
    else:
        utility = a / beta**2 * (-np.expm1(-y) - y * np.exp(-y))
    values = np.where(remaining > 0, counts * utility, 0.0)
    best = values.max()
    found = 0.0 if k == 0 else values[k - 1]
    assert found >= best * (1 - 1e-12)
    if best > 0:
        assert found > 0 and x == pytest.approx(increments[k - 1], rel=1e-15)
    assert bound >= best * (1 - 1e-12) - 1e-15  # the dual bound is above the continuous optimum


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sorted_thresholds(), st.integers(0, 2**32 - 1))
def test_grants_and_hand_out_match_the_twin(case, seed):
    code, tau_sorted, a, beta, budget = case
    k, x, _, _ = _solver.shared_solve(code, tau_sorted, a, beta, budget)
    if k == 0:
        return
    tau = np.random.default_rng(seed).permutation(tau_sorted)  # the batch's own order
    kth = float(tau_sorted[k - 1])
    ties = k - int(np.searchsorted(tau_sorted, kth))
    out = {}
    for name, kernel in (("compiled", _solver), ("twin", _reference)):
        tokens, funded, gains = np.zeros(tau.shape[0], np.int64), np.empty(k, np.int64), np.empty(k)
        spent, value = kernel.shared_grants(code, tau, a, beta, x, kth, ties, tokens, funded, gains)
        assert value == pytest.approx(_reference.shared_value(code, tau[funded], a, beta, tokens[funded]), rel=1e-12)
        leftover = min(k, max(0, int(budget - spent)))
        given = added = 0
        if leftover:
            cut = float(np.partition(gains, k - leftover)[k - leftover])
            before = tokens.copy()
            given, added = kernel.shared_hand_out(gains, funded, cut, leftover - int(np.count_nonzero(gains > cut)), tokens)
            # the tokens went to the largest positive gains, one each
            took = np.flatnonzero(tokens != before)
            assert given == took.shape[0] <= leftover and np.all(tokens[took] - before[took] == 1)
            position = {query: j for j, query in enumerate(funded)}
            took_gains = np.array([gains[position[q]] for q in took])
            assert np.all(took_gains > 0) and added == pytest.approx(took_gains.sum(), rel=1e-12)
            if given and given < k:
                left = np.setdiff1d(funded, took)
                assert max(gains[position[q]] for q in left) <= took_gains.min()
        out[name] = (tokens, funded, gains, spent, value, given, added)
    compiled, twin = out["compiled"], out["twin"]
    for mine, theirs in zip(compiled, twin):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("per_query", [1, 30, 300, 3000])
def test_allocate_on_shared_parameters_matches_the_twin_on_thousands(form, per_query):
    rng = np.random.default_rng(per_query)
    tau = np.round(rng.lognormal(np.log(400.0), 0.8, 3000))  # whole thresholds: many ties
    curves = cf.SurgeCurves.from_peak(tau, 0.8, 200.0, form=form)
    budget = per_query * 3000
    compiled = run_with(_solver, cf.allocate, curves, budget)
    twin = run_with(_reference, cf.allocate, curves, budget)
    assert compiled.spent <= budget
    np.testing.assert_array_equal(compiled.tokens, twin.tokens)
    assert compiled.utility == pytest.approx(twin.utility, rel=1e-12)
    assert compiled.upper_bound == pytest.approx(twin.upper_bound, rel=1e-12)
    assert compiled.utility == pytest.approx(float(cf.utility(curves, compiled.tokens).sum()), rel=1e-12)
