"""The sampled-bracket path (large inputs) gives exactly what the full sort gives."""

import importlib

import numpy as np
import pytest

import clear_fast as cf
from clear_fast import _kernel
from core_oracles import random_curves

allocate_module = importlib.import_module("clear_fast.allocate")


@pytest.fixture
def small_threshold(monkeypatch):
    # take the sampled path from 2,000 fundable queries (normally 65,536), sampling 256 of them
    monkeypatch.setattr(allocate_module, "_SAMPLE_FROM", 2000)
    monkeypatch.setattr(allocate_module, "_SAMPLE_SIZE", 256)


def full_sort(curves, budget, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(allocate_module, "_SAMPLE_FROM", 10**12)
        return cf.allocate(curves, budget)


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("per_query", [60, 150, 300, 600])
def test_sampled_bracket_matches_the_full_sort(form, per_query, small_threshold, monkeypatch):
    rng = np.random.default_rng(per_query)
    curves = random_curves(rng, 3000, form=form)
    budget = per_query * 3000
    calls = []
    real = _kernel.kernel.clear_price

    def spy(*args):
        calls.append(len(args))
        return real(*args)

    monkeypatch.setattr(_kernel.kernel, "clear_price", spy)
    sampled = cf.allocate(curves, budget)
    monkeypatch.setattr(_kernel.kernel, "clear_price", real)
    reference = full_sort(curves, budget, monkeypatch)
    np.testing.assert_array_equal(sampled.tokens, reference.tokens)
    assert sampled.shadow_price == pytest.approx(reference.shadow_price, rel=1e-9)
    assert sampled.upper_bound == pytest.approx(reference.upper_bound, rel=1e-9)
    if sampled.clearing != "ample":
        assert 12 in calls  # the bracketed call (with price hints) was made


def test_a_bracket_that_misses_the_price_is_refused():
    curves = cf.SurgeCurves(np.linspace(10, 500, 200), 0.01, 0.01)
    be = cf.breakeven_price(curves)
    order = np.ascontiguousarray(np.argsort(-be), dtype=np.int64)
    out = np.zeros(200)
    kernel = _kernel.kernel
    args = (0, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens, be, order)
    # a bracket far above every break-even price: demand is 0 at both ends
    assert kernel.clear_price(*args, 20_000.0, out, 10 * be.max(), 20 * be.max())[0] == kernel.ClearingKind.BRACKET_MISSED


@pytest.mark.parametrize("form", ["surge", "cumulative"])
@pytest.mark.parametrize("per_query", [40, 150, 600])
def test_any_price_hints_give_the_unhinted_clearing_or_a_refusal(form, per_query):
    # Hints off-centre (the guessed position is then wrong and is galloped from, or the proof fails and the
    # bracketed search runs) and hints that miss the price: the answer is the unhinted one, or a refusal.
    rng = np.random.default_rng(per_query + (form == "surge"))
    curves = random_curves(rng, 3000, form=form)
    budget = float(per_query * 3000)
    be = cf.breakeven_price(curves)
    order = np.ascontiguousarray(np.argsort(-be, kind="stable")[: int(np.count_nonzero(be > 0))], dtype=np.int64)
    kernel = _kernel.kernel
    args = (curves.form_code, curves.tau, curves.scale, curves.beta, curves.min_tokens, curves.max_tokens, be, order)
    expected_tokens = np.zeros(3000)
    kind, price, position, bound = kernel.clear_price(*args, budget, expected_tokens)
    if kind == kernel.ClearingKind.AMPLE:
        pytest.skip("the budget covers every query: no price to hint")
    refused = 0
    for centre in price * np.array([0.5, 0.9, 0.97, 0.995, 1.0, 1.004, 1.02, 1.1, 2.0]):
        for half_width in (1e-4, 0.01, 0.03, 0.3):
            tokens = np.zeros(3000)
            hinted = kernel.clear_price(*args, budget, tokens, centre * (1 - half_width), centre * (1 + half_width))
            if hinted[0] == kernel.ClearingKind.BRACKET_MISSED:
                refused += 1
                # refused only when the hints miss the price or no ordered query lies below them
                lo_hint, hi_hint = centre * (1 - half_width), centre * (1 + half_width)
                assert not lo_hint < price < hi_hint or be[order[-1]] > lo_hint
                continue
            assert hinted[0] == kind and hinted[2] == position
            assert hinted[1] == pytest.approx(price, rel=1e-9)
            assert hinted[3] == pytest.approx(bound, rel=1e-9)
            np.testing.assert_allclose(tokens, expected_tokens, rtol=1e-9, atol=1e-6)
    if be[order[-1]] < 0.5 * price:  # some ordered queries lie below the narrow hints around the price
        assert refused < 36
