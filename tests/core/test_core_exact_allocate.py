"""allocate() reaches the whole-token optimum within its tolerance, and proves it, on small scarce batches."""

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from core_oracles import integer_optimum, random_curves
from exact_oracles import highs_grants, scarce_curves

exact_module = importlib.import_module("clear_fast._exact")

# Cumulative form, 9 queries, 540 tokens: the market clearing funded query 8 with 538 tokens, two above its
# threshold (utility 1.9e-5), where query 4 with all 540 tokens is worth 0.072.
CUMULATIVE_EXAMPLE = cf.SurgeCurves(
    tau=[466.47343804, 333.53993364, 344.88674227, 470.14610931, 227.83058841, 557.10139224, 323.955814,
         1691.77167209, 536.08418584],
    alpha=[1.48486669e-05, 1.74981329e-06, 3.09691746e-06, 1.05809992e-05, 2.25590353e-06, 8.97357062e-07,
           3.59157537e-06, 6.05994323e-06, 1.01301314e-05],
    beta=[0.00393456, 0.00163084, 0.00220378, 0.0042476, 0.00207526, 0.00147444, 0.00311969, 0.00370088,
          0.00376262],
    max_tokens=[714, 1184, 1082, 1364, 2116, 2846, 1236, 2063, 1107],
    form="cumulative",
)
# Surge form, 8 queries, 480 tokens: the clearing funds two queries (0.52) where the last query alone,
# with all 480 tokens, is worth 0.57.
SURGE_EXAMPLE = cf.SurgeCurves.from_peak(
    tau=[225.7, 133.7, 431.3, 649.6, 665.3, 608.2, 410.9, 285.9],
    peak=[0.53, 0.29, 0.69, 0.35, 0.33, 0.52, 0.23, 0.58],
    width=[280.0, 65.0, 117.0, 294.0, 203.0, 147.0, 114.0, 228.0],
)
#: a tolerance so wide that the clearing's own answer always stands: how allocate answered before the search
CLEARING_ONLY = 1e9


def assert_feasible(curves: cf.SurgeCurves, result: cf.Allocation, budget: int) -> None:
    assert result.spent <= budget
    funded = result.funded
    assert np.all(result.tokens[funded] >= np.ceil(curves.lower[funded]))
    assert np.all(result.tokens[funded] <= np.floor(curves.max_tokens[funded]))
    assert result.utility == pytest.approx(cf.utility(curves, result.tokens).sum(), rel=1e-12, abs=1e-300)


def assert_optimal(curves: cf.SurgeCurves, result: cf.Allocation, budget: int, optimum: float) -> None:
    """Within the tolerance of the optimum, and the bound is a true bound."""
    room = 1e-9 * max(optimum, 1e-300)
    assert_feasible(curves, result, budget)
    assert result.upper_bound >= optimum - room
    assert result.optimal and result.search != "stopped at the work cap"
    assert result.gap == pytest.approx(result.upper_bound - result.utility)
    assert result.gap <= result.tolerance * (1 + 1e-9) + room
    assert result.utility >= optimum - result.tolerance - room


def test_the_cumulative_example_gives_one_query_the_whole_budget():
    before = cf.allocate(CUMULATIVE_EXAMPLE, 540, rtol=CLEARING_ONLY)
    assert before.tokens[8] >= 538 and before.utility < 1e-4
    result = cf.allocate(CUMULATIVE_EXAMPLE, 540)
    np.testing.assert_array_equal(result.tokens, [0, 0, 0, 0, 540, 0, 0, 0, 0])
    assert result.utility == pytest.approx(0.0722, abs=1e-4)
    assert_optimal(CUMULATIVE_EXAMPLE, result, 540, integer_optimum(CUMULATIVE_EXAMPLE, 540))
    assert result.search == "completed"


def test_the_surge_example_funds_one_query_instead_of_two():
    before = cf.allocate(SURGE_EXAMPLE, 480, rtol=CLEARING_ONLY)
    assert before.funded.sum() == 2 and before.utility < 0.53
    result = cf.allocate(SURGE_EXAMPLE, 480, rtol=0)
    optimum = integer_optimum(SURGE_EXAMPLE, 480)
    assert optimum > 0.57 and result.funded.sum() == 1
    assert_optimal(SURGE_EXAMPLE, result, 480, optimum)
    assert result.utility >= optimum - result.shadow_price  # rtol=0: exact to one token's value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 40),
    per_query=st.integers(10, 800),
    form=st.sampled_from(["surge", "cumulative"]),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    share=st.floats(0.3, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_small_scarce_batches_reach_the_whole_token_optimum(n, per_query, form, flags, share, seed):
    # the plain dynamic programme costs n * budget^2: batches of at most 1,600 tokens
    per_query = max(10, min(per_query, 1600 // n))
    curves = scarce_curves(np.random.default_rng(seed), n, per_query, form, caps=flags[0], weights=flags[1],
                           minimums=flags[2])
    budget = int(share * n * per_query)
    result = cf.allocate(curves, budget)
    assert_optimal(curves, result, budget, integer_optimum(curves, budget))
    assert result.tolerance == pytest.approx(max(1e-3 * result.utility, result.shadow_price))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 40),
    per_query=st.integers(10, 800),
    form=st.sampled_from(["surge", "cumulative"]),
    share=st.floats(0.05, 1.0),
    rtol=st.sampled_from([1e-3, 0.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shared_parameters_reach_the_whole_token_optimum(n, per_query, form, share, rtol, seed):
    """The paper's case (one peak and width for all, no bounds) takes the sort-and-scan path; it is exact too."""
    per_query = max(10, min(per_query, 1600 // n))
    rng = np.random.default_rng(seed)
    mixed = scarce_curves(rng, n, per_query, form, caps=False, weights=False, minimums=False)
    curves = cf.SurgeCurves.from_peak(mixed.tau, rng.uniform(0.1, 1.0), rng.uniform(0.2, 3.0) * per_query, form=form)
    assert curves.is_shared
    budget = max(1, int(share * n * per_query))
    result = cf.allocate(curves, budget, rtol=rtol)
    assert_optimal(curves, result, budget, integer_optimum(curves, budget))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    form=st.sampled_from(["surge", "cumulative"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_rtol_zero_is_exact_to_one_tokens_value(n, form, seed):
    rng = np.random.default_rng(seed)
    curves = scarce_curves(rng, n, int(rng.integers(10, 1200 // n + 10)), form, caps=True, weights=True,
                           minimums=True)
    budget = int(rng.integers(10, 1200))
    result = cf.allocate(curves, budget, rtol=0)
    optimum = integer_optimum(curves, budget)
    assert_optimal(curves, result, budget, optimum)
    assert result.tolerance == result.shadow_price


@pytest.mark.parametrize("seed", range(6))
def test_the_dynamic_programme_and_highs_agree_on_every_whole_token(seed):
    rng = np.random.default_rng(500 + seed)
    form = ["surge", "cumulative"][seed % 2]
    curves = scarce_curves(rng, int(rng.integers(2, 7)), int(rng.integers(30, 80)), form, caps=True,
                           weights=True, minimums=True)
    budget = int(rng.integers(60, 400))
    optimum = integer_optimum(curves, budget)
    assert highs_grants(curves, budget, grid=1) == pytest.approx(optimum, rel=1e-9, abs=1e-12)
    assert cf.allocate(curves, budget, rtol=0).utility >= optimum - cf.allocate(curves, budget, rtol=0).tolerance


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("seed", range(3))
def test_larger_batches_against_highs_on_a_fine_grid(form, seed):
    # 40 queries, 100-800 tokens each: too big for the plain table, so HiGHS on a grid of at most 120 grants
    # per query, a lower bound on the optimum, and the certificate checked against it
    rng = np.random.default_rng(900 + seed)
    per_query = int(rng.integers(100, 800))
    curves = scarce_curves(rng, 40, per_query, form, caps=True, weights=True, minimums=False)
    budget = int(rng.uniform(0.3, 1.0) * 40 * per_query)
    grid_optimum = highs_grants(curves, budget, grid=4, most=120)
    result = cf.allocate(curves, budget)
    assert_feasible(curves, result, budget)
    assert result.optimal
    assert result.upper_bound >= grid_optimum * (1 - 1e-9)
    assert result.utility >= grid_optimum - result.tolerance


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_more_budget_never_lowers_utility(form):
    rng = np.random.default_rng(31)
    for _ in range(6):
        curves = scarce_curves(rng, 8, 60, form, caps=True, weights=True, minimums=True)
        results = [cf.allocate(curves, budget, rtol=0) for budget in range(0, 900, 15)]
        optima = [integer_optimum(curves, budget) for budget in range(0, 900, 15)]
        assert all(b >= a - 1e-12 for a, b in zip(optima, optima[1:]))
        # each answer is within one token's value of the optimum, which never falls
        for earlier, later in zip(results, results[1:]):
            assert later.utility >= earlier.utility - later.tolerance - 1e-12
        assert all(r.utility >= o - r.tolerance - 1e-12 for r, o in zip(results, optima))


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_permuting_a_scarce_batch_permutes_the_answer(form):
    rng = np.random.default_rng(12)
    for _ in range(10):
        n = int(rng.integers(2, 30))
        curves = scarce_curves(rng, n, int(rng.integers(20, 150)), form, caps=True, weights=True, minimums=True)
        budget = int(rng.uniform(0.3, 1.0) * n * 80)
        permutation = rng.permutation(n)
        original = cf.allocate(curves, budget)
        shuffled = cf.allocate(curves.subset(permutation), budget)
        np.testing.assert_array_equal(shuffled.tokens, original.tokens[permutation])
        assert shuffled.utility == pytest.approx(original.utility, rel=1e-12)


def assert_no_unspent_token_helps(curves: cf.SurgeCurves, tokens: np.ndarray, budget: int) -> None:
    leftover = budget - int(tokens.sum())
    lower, cap = np.ceil(curves.lower), np.floor(curves.max_tokens)
    now = cf.utility(curves, tokens)
    room = 1e-12 * max(1.0, now.sum())
    for i in range(len(curves)):
        start = tokens[i] + 1 if tokens[i] > 0 else lower[i]
        grants = np.arange(start, min(cap[i], tokens[i] + leftover) + 1)
        if grants.shape[0]:
            assert cf.utility(curves.subset([i] * len(grants)), grants).max() <= now[i] + room, i


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 30),
    form=st.sampled_from(["surge", "cumulative"]),
    seed=st.integers(0, 2**32 - 1),
    per_query=st.integers(10, 800),
)
def test_no_unspent_token_could_raise_utility(n, form, seed, per_query):
    curves = scarce_curves(np.random.default_rng(seed), n, per_query, form, caps=True, weights=True,
                           minimums=True)
    budget = n * per_query
    result = cf.allocate(curves, budget)
    assert_no_unspent_token_helps(curves, result.tokens, budget)


def test_rounding_leftovers_are_spent_in_more_than_one_pass():
    # two funded surge queries far below their peaks and a large leftover after the clearing: every token helps
    curves = cf.SurgeCurves.from_peak([10.0, 20.0, 5000.0], [0.5, 0.6, 0.9], [400.0, 500.0, 300.0])
    result = cf.allocate(curves, 700)
    assert result.spent == 700
    assert_no_unspent_token_helps(curves, result.tokens, 700)


def test_large_batches_are_certified_without_a_search():
    rng = np.random.default_rng(3)
    for form in ("surge", "cumulative"):
        curves = random_curves(rng, 5000, form=form)
        result = cf.allocate(curves, 150 * 5000)
        assert result.optimal and result.search == "not needed"
        assert result.gap <= result.tolerance


def test_at_the_work_cap_the_gap_is_honest(monkeypatch):
    monkeypatch.setattr(exact_module, "WORK_CAP", 0)  # not even the first round fits
    result = cf.allocate(CUMULATIVE_EXAMPLE, 540)
    optimum = integer_optimum(CUMULATIVE_EXAMPLE, 540)
    assert result.search == "stopped at the work cap" and not result.optimal
    assert result.upper_bound >= optimum and result.utility <= optimum
    assert result.gap > result.tolerance
    assert_feasible(CUMULATIVE_EXAMPLE, result, 540)
    # each abandoned query: a bound on what funding it could be worth, or the cap that stopped the search
    texts = [result.why(i) for i in range(9) if not result.funded[i]]
    assert all("worth at most" in t or "work cap" in t or "whole budget" in t for t in texts)


def test_why_explains_the_search():
    result = cf.allocate(CUMULATIVE_EXAMPLE, 540)
    assert "funded with 540 tokens" in result.why(4) and "cannot be split" in result.why(4)
    assert f"{result.shadow_price:.6g}" in result.why(4)
    texts = [result.why(i) for i in range(9) if i != 4]
    assert all("abandoned" in text for text in texts)
    # query 5's smallest grant (its threshold, 558 tokens) does not fit in 540
    assert "more than the whole budget" in result.why(5)
    assert any("gives up at least" in text and "worth at most" in text for text in texts)
    assert any("whole-token search" in text and "leaves it out" in text for text in texts)


@pytest.mark.parametrize("rtol", [-1e-3, float("nan"), float("inf")])
def test_a_bad_rtol_is_refused(rtol):
    with pytest.raises(ValueError, match="`rtol` must be a finite number >= 0"):
        cf.allocate(SURGE_EXAMPLE, 480, rtol=rtol)


@pytest.mark.parametrize("rtol", ["0.1", True, None])
def test_an_rtol_that_is_not_a_number_is_refused(rtol):
    with pytest.raises(TypeError, match="`rtol` must be a number"):
        cf.allocate(SURGE_EXAMPLE, 480, rtol=rtol)


@pytest.mark.parametrize("form", ["surge", "cumulative"])
def test_the_cheap_loss_bound_never_exceeds_a_querys_least_loss(form):
    # the bound that keeps most of a million queries out of the search must never keep out one that matters
    rng = np.random.default_rng(21)
    curves = scarce_curves(rng, 60, 80, form, caps=True, weights=True, minimums=True)
    lower, upper = np.ceil(curves.lower), np.floor(np.minimum(curves.max_tokens, 20000))
    for price in np.concatenate(([0.0], cf.breakeven_price(curves) * rng.uniform(0.2, 3.0, 60))):
        bound = exact_module.least_loss_bound(curves, lower, float(price))
        for i in np.flatnonzero(lower <= upper):
            grants = np.arange(lower[i], upper[i] + 1)
            surplus = cf.utility(curves.subset([i] * len(grants)), grants) - price * grants
            least_loss = max(0.0, surplus.max()) - surplus.max()
            assert bound[i] <= least_loss + 1e-12 * max(1.0, abs(surplus.max())), (i, price)


def test_past_the_memory_cap_the_gap_is_honest(monkeypatch):
    # the twin's cap on kept states is a module constant (the compiled one is the same number, built in)
    from clear_fast import _kernel, _reference
    from clear_fast._reference import exact_search

    monkeypatch.setattr(exact_search, "MAX_STATES", 10)
    monkeypatch.setattr(_kernel, "kernel", _reference)
    result = cf.allocate(CUMULATIVE_EXAMPLE, 540)
    optimum = integer_optimum(CUMULATIVE_EXAMPLE, 540)
    assert result.search == "stopped at the work cap" and not result.optimal
    assert result.upper_bound >= optimum and result.utility <= optimum
    assert_feasible(CUMULATIVE_EXAMPLE, result, 540)
