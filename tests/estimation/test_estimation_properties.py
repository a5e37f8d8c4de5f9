"""Properties over many random inputs (hypothesis): no crash on any reply, budgets never exceeded."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast.estimators import parse_token_estimate
from clear_fast.uncertainty import allocate_uncertain


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_parsing_any_reply_gives_none_or_a_sane_count(reply):
    value = parse_token_estimate(reply, max_tokens=50_000)
    assert value is None or 1.0 <= value <= 50_000


@given(st.integers(min_value=0, max_value=10_000), st.from_regex(r"[a-z ,.:~-]{0,12}", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_a_plain_count_in_words_is_read_back(count, prefix):
    value = parse_token_estimate(f"{prefix} {count} tokens", max_tokens=50_000)
    if count >= 1 and not prefix.rstrip().endswith("-"):
        assert value == count
    else:
        assert value is None or value >= 1


@given(
    st.lists(st.floats(min_value=5.0, max_value=3000.0), min_size=1, max_size=12),
    st.floats(min_value=0.0, max_value=1.5),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["cumulative", "surge"]),
)
@settings(max_examples=60, deadline=None)
def test_risk_aware_allocation_never_exceeds_the_budget(tau, spread, budget, form):
    curves = cf.SurgeCurves(np.array(tau), 0.8 / 100**2, 1 / 100, form=form)
    result = allocate_uncertain(curves, spread, budget, levels=8)
    assert result.spent <= budget
    assert np.all(result.tokens >= 0)
    assert result.total_expected_utility <= result.upper_bound + 1e-9
