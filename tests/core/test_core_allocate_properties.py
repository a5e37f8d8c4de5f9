"""Properties of allocate(): feasibility, monotonicity, symmetry, and the shared-parameter path's exactness."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clear_fast as cf
from core_oracles import integer_optimum, random_curves


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 40),
    st.sampled_from(["surge", "cumulative"]),
    st.integers(0, 2**31),
    st.integers(0, 10**7),
    st.sampled_from([1e-9, 1.0, 1e9]),
)
def test_the_budget_is_never_exceeded_and_grants_respect_bounds(n, form, seed, budget, value_scale):
    rng = np.random.default_rng(seed)
    curves = random_curves(rng, n, form=form)
    curves = cf.SurgeCurves(
        curves.tau * rng.uniform(0.5, 50), curves.alpha * value_scale, curves.beta, weight=curves.weight,
        min_tokens=curves.min_tokens, max_tokens=curves.max_tokens, form=form,
    )
    result = cf.allocate(curves, budget)
    assert result.tokens.dtype == np.int64
    assert result.spent <= budget
    funded = result.funded
    assert np.all(result.tokens[funded] >= np.ceil(curves.lower[funded]))
    assert np.all(result.tokens[funded] <= np.floor(curves.max_tokens[funded]))
    assert np.all(result.tokens[~funded] == 0)
    assert result.gap >= 0 and np.isfinite(result.upper_bound)
    assert result.utility == pytest.approx(cf.utility(curves, result.tokens).sum())


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_more_budget_never_costs_more_than_the_tolerance(form):
    rng = np.random.default_rng(7)
    for _ in range(20):
        curves = random_curves(rng, 8, form=form)
        results = [cf.allocate(curves, budget) for budget in range(0, 2000, 25)]
        # each answer is proven within its tolerance of an optimum that never falls with more budget
        assert all(
            later.utility >= earlier.utility - later.tolerance - 1e-9 for earlier, later in zip(results, results[1:])
        )


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_shared_parameter_path_is_exact_up_to_rounding_and_monotone(form):
    rng = np.random.default_rng(11)
    for trial in range(12):
        n = int(rng.integers(1, 6))
        tau = rng.integers(0, 120, n).astype(float)  # whole thresholds: rounding is then lossless
        curves = cf.SurgeCurves.from_peak(tau, 0.9, rng.uniform(15, 60), form=form)
        assert curves.is_shared
        previous = 0.0
        for budget in range(0, 420, 7):
            result = cf.allocate(curves, budget)
            optimum = integer_optimum(curves, budget)
            # one whole token per funded query is the most rounding can cost
            rounding = result.funded.sum() * curves.scale[0]
            assert result.utility >= optimum - rounding - 1e-9, (trial, budget)
            assert result.upper_bound >= optimum - 1e-9
            assert result.utility >= previous - 1e-9, (trial, budget)  # never less with more budget
            previous = result.utility


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_permuting_queries_permutes_the_answer(form):
    rng = np.random.default_rng(5)
    for _ in range(10):
        curves = random_curves(rng, 30, form=form)
        budget = int(rng.integers(500, 6000))
        permutation = rng.permutation(30)
        shuffled = curves.subset(permutation)
        np.testing.assert_array_equal(cf.allocate(shuffled, budget).tokens, cf.allocate(curves, budget).tokens[permutation])


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_raising_a_weight_does_not_lower_that_querys_tokens(form):
    rng = np.random.default_rng(9)
    violations = 0
    checks = 0
    for _ in range(40):
        curves = random_curves(rng, 10, form=form, bounds=False)
        budget = int(rng.integers(200, 2500))
        before = cf.allocate(curves, budget)
        i = int(rng.integers(10))
        weight = curves.weight.copy()
        weight[i] *= 1.5
        raised = cf.SurgeCurves(curves.tau, curves.alpha, curves.beta, weight=weight, form=form)
        after = cf.allocate(raised, budget)
        checks += 1
        if after.tokens[i] < before.tokens[i]:
            # possible only by the marginal comparison or rounding: never by more than one token,
            # unless the query was the marginal one
            violations += 1
            assert before.tokens[i] - after.tokens[i] <= 1 or i in (before.marginal, after.marginal)
    assert violations <= checks // 10


def test_ample_budget_gives_everyone_their_best_at_price_zero():
    surge = cf.SurgeCurves([10.0, 50.0, 90.0], 0.05, [0.1, 0.02, 0.05])
    result = cf.allocate(surge, 10**6)
    np.testing.assert_array_equal(result.tokens, [20, 100, 110])  # tau + 1/beta, the peaks
    assert result.shadow_price == 0.0 and result.clearing == "ample"
    capped = cf.SurgeCurves([10.0, 50.0], 1e-4, 0.01, max_tokens=[400, 250], form="cumulative")
    result = cf.allocate(capped, 10**6)
    np.testing.assert_array_equal(result.tokens, [400, 250])  # the caps: accuracy only grows
    assert result.shadow_price == 0.0
    assert result.gap == pytest.approx(0.0, abs=1e-12)


def test_an_uncapped_cumulative_curve_always_binds_the_budget():
    curves = cf.SurgeCurves([10.0, 50.0], 1e-4, 0.01, form="cumulative")
    result = cf.allocate(curves, 10**6)
    assert result.spent == 10**6 and result.shadow_price > 0


def test_zero_budget_abandons_everyone_and_says_why():
    curves = cf.SurgeCurves([10.0, 50.0], 0.05, 0.05)
    result = cf.allocate(curves, 0)
    assert not result.funded.any() and result.utility == 0.0 and result.upper_bound == 0.0
    assert "budget is 0" in result.why(0)


def test_hard_queries_are_abandoned_first_and_why_names_the_prices():
    curves = cf.SurgeCurves([20.0, 40.0, 400.0, 800.0], 0.01, 0.02)
    result = cf.allocate(curves, 300)
    np.testing.assert_array_equal(result.funded, [True, True, False, False])
    assert "funded with" in result.why(0)
    assert "abandoned: its smallest grant is more than the whole budget" in result.why(3)
    # a batch the dual bound certifies: the abandoned query with the lowest break-even price is priced out
    rng = np.random.default_rng(0)
    batch = cf.allocate(cf.SurgeCurves(rng.uniform(10, 300, 400), 0.01, 0.02), 20000)
    assert batch.search == "not needed"
    hardest = int(np.argmin(batch.breakeven))
    text = batch.why(hardest)
    assert "abandoned" in text and f"{batch.breakeven[hardest]:.6g}" in text and f"{batch.shadow_price:.6g}" in text
    assert batch.breakeven[hardest] < batch.shadow_price
    never = cf.allocate(cf.SurgeCurves([100.0], 0.01, 0.02, max_tokens=50), 1000)
    assert "can never be funded" in never.why(0)
    with pytest.raises(IndexError):
        result.why(4)


def test_best_response_agrees_with_a_scan_over_whole_tokens():
    rng = np.random.default_rng(2)
    for form in ("surge", "cumulative"):
        curves = random_curves(rng, 20, form=form)
        price = float(np.median(cf.breakeven_price(curves)))
        got = cf.best_response(curves, price)
        grants = np.arange(0, 1200)
        for i in range(20):
            values = cf.utility(curves.subset([i] * len(grants)), grants) - price * grants
            feasible = (grants >= np.ceil(curves.lower[i])) & (grants <= curves.max_tokens[i])
            values[~feasible] = -np.inf
            best = max(0.0, values.max())
            mine = 0.0 if got[i] == 0 else values[got[i]]
            assert mine == pytest.approx(best, rel=1e-9, abs=1e-12)


def test_breakeven_price_is_the_steepest_ray_to_the_curve():
    rng = np.random.default_rng(4)
    for form in ("surge", "cumulative"):
        curves = random_curves(rng, 20, form=form)
        be = cf.breakeven_price(curves)
        grants = np.arange(1, 3000, 0.25)
        for i in range(20):
            feasible = (grants >= np.ceil(curves.lower[i])) & (grants <= np.floor(curves.max_tokens[i]))
            if not feasible.any():
                assert be[i] == 0
                continue
            ratio = cf.utility(curves.subset([i] * feasible.sum()), grants[feasible]) / grants[feasible]
            # the break-even price is the supremum over the continuous interval, the grid a sample of it
            assert be[i] >= ratio.max() * (1 - 1e-12)
            assert be[i] == pytest.approx(ratio.max(), rel=1e-4)
