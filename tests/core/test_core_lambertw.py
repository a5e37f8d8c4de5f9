"""Lambert W of the kernel (and its twin) against SciPy and, at the branch point, mpmath."""

import mpmath
import numpy as np
import pytest
from scipy.special import lambertw

from clear_fast import _reference, _solver

IMPLEMENTATIONS = [pytest.param(_solver, id="compiled"), pytest.param(_reference, id="python")]


def evaluate(module, z, branch):
    z = np.ascontiguousarray(z, dtype=np.float64)
    out = np.empty_like(z)
    module.lambert_w(z, branch, out)
    return out


@pytest.mark.parametrize("module", IMPLEMENTATIONS)
def test_principal_branch_matches_scipy_over_the_solver_range(module):
    # the surge form evaluates W0(e * price / a) with price in (0, a]: arguments in (0, e]
    z = np.concatenate([np.geomspace(1e-12, np.e, 2000), np.linspace(-0.36, 0.0, 200)])
    expected = lambertw(z, 0).real
    got = evaluate(module, z, 0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("module", IMPLEMENTATIONS)
def test_lower_branch_matches_scipy_away_from_the_branch_point(module):
    # the cumulative form evaluates W_{-1}(-price * beta / a) on [-1/e, 0)
    z = np.concatenate([-np.geomspace(1e-300, 0.3678, 2000), -1 / np.e + np.geomspace(1e-5, 0.1, 200)])
    expected = lambertw(z, -1).real
    got = evaluate(module, z, -1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("module", IMPLEMENTATIONS)
@pytest.mark.parametrize("branch", [0, -1])
def test_both_branches_near_minus_one_over_e_match_high_precision(module, branch):
    # SciPy's lambertw itself loses digits within ~1e-8 of -1/e (k=-1 is off by 7e-5 at 1e-9),
    # so the reference here is mpmath at 50 digits, evaluated at the exact double we pass
    mpmath.mp.dps = 50
    z = -1 / np.e + np.geomspace(1e-16, 1e-3, 60)
    got = evaluate(module, z, branch)
    expected = np.array([float(mpmath.lambertw(mpmath.mpf(float(v)), branch).real) for v in z])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    assert np.all(got >= -1) if branch == 0 else np.all(got <= -1)


@pytest.mark.parametrize("module", IMPLEMENTATIONS)
def test_domain_edges(module):
    assert evaluate(module, [0.0], 0)[0] == 0.0
    assert evaluate(module, [-1 / np.e], 0)[0] == -1.0
    assert evaluate(module, [-1 / np.e], -1)[0] == -1.0
    assert evaluate(module, [np.e], 0)[0] == pytest.approx(1.0, rel=1e-15)


def test_compiled_and_twin_agree_to_the_last_bits():
    z = np.random.default_rng(0).uniform(-1 / np.e, 0, 5000)
    for branch in (0, -1):
        np.testing.assert_allclose(evaluate(_solver, z, branch), evaluate(_reference, z, branch), rtol=1e-14)


@pytest.mark.parametrize("module", IMPLEMENTATIONS)
def test_lower_branch_stays_finite_down_to_the_smallest_subnormal(module):
    # SciPy gives -inf or nan below ~1e-308; the identity w e^w = z checked in logs still holds
    z = np.array([-5e-324, -1e-320, -1e-310, -1e-305])
    w = evaluate(module, z, -1)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(np.log(-w) + w, np.log(-z), rtol=1e-12)
