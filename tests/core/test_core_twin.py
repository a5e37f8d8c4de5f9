"""The compiled kernel held to its pure-Python twin on random instances (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast import _reference, _solver
from core_oracles import run_with


positive = st.floats(min_value=1e-3, max_value=1e3)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 12))
    form = draw(st.sampled_from(["surge", "cumulative"]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e6]))  # tiny, ordinary and huge values
    tau = np.array(draw(st.lists(st.floats(0, 2000), min_size=n, max_size=n)))
    width = np.array(draw(st.lists(st.floats(1, 800), min_size=n, max_size=n)))
    peak = np.array(draw(st.lists(positive, min_size=n, max_size=n))) * scale
    shared = draw(st.booleans())
    if shared:  # the paper's case: one alpha, beta for all, no bounds
        width[:] = width[0]
        peak[:] = peak[0]
        return cf.SurgeCurves.from_peak(tau, peak, width, form=form), draw(st.integers(0, 20000))
    caps = np.array(draw(st.lists(st.one_of(st.just(np.inf), st.floats(1, 4000)), min_size=n, max_size=n)))
    minimum = np.minimum(np.array(draw(st.lists(st.floats(0, 500), min_size=n, max_size=n))), caps)
    weight = np.array(draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    curves = cf.SurgeCurves.from_peak(
        tau, peak, width, weight=weight, min_tokens=minimum, max_tokens=caps, form=form
    )
    return curves, draw(st.integers(0, 20000))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_allocate_matches_the_twin(instance):
    curves, budget = instance
    compiled = run_with(_solver, cf.allocate, curves, budget)
    twin = run_with(_reference, cf.allocate, curves, budget)
    assert compiled.spent <= budget and twin.spent <= budget
    scale = max(1.0, abs(twin.upper_bound))
    assert compiled.utility == pytest.approx(twin.utility, rel=1e-7, abs=1e-9 * scale)
    assert compiled.upper_bound == pytest.approx(twin.upper_bound, rel=1e-7, abs=1e-9 * scale)
    if compiled.clearing != twin.clearing:
        # A tie: the budget sits exactly where two descriptions meet (the edge of a jump, or two
        # marginal choices worth the same). Either answer is right; the utilities and bounds above
        # already agree, and which equally good query is funded is not specified.
        return
    # grants agree query by query in what they buy; where a curve has saturated (its marginal gain
    # below float resolution) any grant on the flat part is equally good, so compare utilities
    np.testing.assert_allclose(
        cf.utility(curves, compiled.tokens), cf.utility(curves, twin.tokens), rtol=1e-7, atol=1e-9 * scale
    )
    assert np.array_equal(compiled.funded, twin.funded)


TIES = [  # (curves, budget): exact ties hypothesis found, where kernel and twin may describe the answer differently
    (cf.SurgeCurves(tau=[0, 0], alpha=0.00271828, beta=1, min_tokens=[0, 1]), 1),
    (cf.SurgeCurves(tau=[0, 0, 1, 0], alpha=0.00271828, beta=1, weight=[0, 3, 0.25, 0], min_tokens=[0, 4, 0, 0]), 4),
]


@pytest.mark.parametrize(("curves", "budget"), TIES)
def test_ties_get_equally_good_answers(curves, budget):
    compiled = run_with(_solver, cf.allocate, curves, budget)
    twin = run_with(_reference, cf.allocate, curves, budget)
    assert compiled.utility == twin.utility and compiled.upper_bound == twin.upper_bound
    assert compiled.optimal and twin.optimal
    assert compiled.spent <= budget and twin.spent <= budget


# A weight at the bottom of the double range: -price * beta / a used to underflow to 0 for the
# other queries, sending their best grants to infinity and the twin to a far worse answer.
TINY_WEIGHT = cf.SurgeCurves(
    tau=[627.3724550641193, 1329.3767524193468, 730.0205229203929],
    alpha=[1956.2744005402067, 315.02447014047385, 616.7195504818872],
    beta=[0.003721289389319416, 0.001931501072258423, 0.001611208706060145],
    weight=[2.430018084393215, 9.23389246280982, 5e-324],
    min_tokens=[372.22294063546906, 263.5693235597243, 45.135575727548506],
    max_tokens=[np.inf, np.inf, 1831.370491803486],
    form="cumulative",
)


@pytest.mark.parametrize("kernel", [_solver, _reference], ids=["compiled", "twin"])
def test_a_subnormal_weight_does_not_break_the_others(kernel):
    result = run_with(kernel, cf.allocate, TINY_WEIGHT, 2924)
    assert result.tokens.tolist() == [0, 2924, 0]  # query 1 alone is worth the most (brute force below)
    best = max(
        float(cf.utility(TINY_WEIGHT, [b0, 2924 - b0, 0]).sum()) for b0 in range(0, 2925)
    )
    assert result.utility == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("kernel", [_solver, _reference], ids=["compiled", "twin"])
def test_a_subnormal_price_gives_a_finite_grant(kernel):
    curves = cf.SurgeCurves(tau=[0.0], alpha=2.0, beta=1.0, form="cumulative")
    grant = run_with(kernel, cf.best_response, curves, 5e-324)
    # the root of u'(b) = price: b = -W_{-1}(-price beta / a) / beta, about 744 + log(744) tokens
    assert 740 < grant[0] < 760


def test_a_subnormal_price_on_the_surge_gives_the_twins_grant():
    # At price 5e-324, lam * beta underflowed to 0 in the grant's slope (a division by zero the
    # bounds-checked debug build raises on); the slope now divides w by lam first.
    curves = cf.SurgeCurves(tau=[0.0, 0.0], alpha=1.35914091, beta=0.5)
    compiled = run_with(_solver, cf.best_response, curves, 5e-324)
    np.testing.assert_array_equal(compiled, run_with(_reference, cf.best_response, curves, 5e-324))
    assert np.all(compiled == 2)  # the surge's peak, 1 / beta past the threshold


@settings(max_examples=200, deadline=None)
@given(instances(), st.floats(0, 1))
def test_pricing_matches_the_twin(instance, fraction):
    curves, _ = instance
    be_compiled = run_with(_solver, cf.breakeven_price, curves)
    be_twin = run_with(_reference, cf.breakeven_price, curves)
    np.testing.assert_allclose(be_compiled, be_twin, rtol=1e-10)
    price = float(fraction * be_twin.max()) or 1e-9
    np.testing.assert_array_equal(
        run_with(_solver, cf.best_response, curves, price), run_with(_reference, cf.best_response, curves, price)
    )
    tokens = np.linspace(0, 3000, len(curves))
    np.testing.assert_allclose(
        run_with(_solver, cf.utility, curves, tokens), run_with(_reference, cf.utility, curves, tokens), rtol=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.floats(0, 500), min_size=3, max_size=3), min_size=n, max_size=n),
            st.lists(st.lists(st.floats(-1, 5), min_size=3, max_size=3), min_size=n, max_size=n),
            st.integers(0, 2000),
        )
    )
)
def test_levels_match_the_twin(instance):
    costs, utilities, budget = instance
    compiled = run_with(_solver, cf.allocate_levels, costs, utilities, budget)
    twin = run_with(_reference, cf.allocate_levels, costs, utilities, budget)
    np.testing.assert_array_equal(compiled.level, twin.level)
    assert compiled.utility == pytest.approx(twin.utility, rel=1e-12, abs=1e-12)
    assert compiled.upper_bound == pytest.approx(twin.upper_bound, rel=1e-12, abs=1e-12)
