"""The `reason` column, built for all rows at once, says exactly what ``Allocation.why`` says, row by row.

Both ways of building it are held to the reference: pyarrow's (NumPy byte
matrices joined by pyarrow) and the plain-Python one used without pyarrow.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clear_fast as cf
from clear_fast.allocate import Allocation
from clear_fast.cli import sentence_column
from clear_fast.cli.number_text import general_format_bytes, integer_bytes
from clear_fast.cli.reasons import curve_reasons, level_reasons
from clear_fast.cli.sentence_column import _strings

WAYS = ["pyarrow", "python"]


@pytest.fixture(params=WAYS)
def way(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(sentence_column, "pyarrow_installed", lambda: False)
    return request.param


def as_list(column) -> list[str]:
    return column if isinstance(column, list) else column.to_pylist()


def without_position(alloc: Allocation, i: int) -> str:
    return alloc.why(i).split(": ", 1)[1]


def test_every_case_of_why_on_a_hand_made_allocation(way):
    # one query per case: funded, never fundable, marginal, above the price at the jump, priced out
    alloc = Allocation(
        tokens=np.array([350, 0, 0, 0, 0, 1_234_567], dtype=np.int64), shadow_price=0.00123456789,
        utility=1.0, upper_bound=1.1, gap=0.1, budget=1_235_000, clearing="jump, marginal query left out", marginal=2,
        _breakeven=np.array([0.0042, 0.0, 0.0017, 0.00150000001, 0.000999, 1e-7]),
    )
    got = as_list(curve_reasons(alloc))
    assert got == [without_position(alloc, i) for i in range(len(alloc))]
    assert [text.split(" ")[0] for text in got] == ["funded", "abandoned:", "abandoned", "abandoned", "abandoned:", "funded"]
    assert "demand jump" in got[3] and "below the shadow price" in got[4] and "1e-07" in got[5]


def test_a_zero_budget_says_so(way):
    alloc = cf.allocate(cf.SurgeCurves([100, 200], 0.01, 0.005), 0)
    assert as_list(curve_reasons(alloc)) == [without_position(alloc, i) for i in range(2)]
    assert as_list(curve_reasons(alloc))[0] == "abandoned: the budget is 0"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), per_query=st.floats(0, 2000))
def test_random_allocations_match_why(seed, n, per_query):
    rng = np.random.default_rng(seed)
    tau = rng.uniform(10, 3000, n)
    max_tokens = np.where(rng.random(n) < 0.1, tau * rng.uniform(0.2, 0.9, n), np.inf)  # some can never be funded
    min_tokens = np.where(rng.random(n) < 0.2, rng.uniform(0, 400, n), 0.0)
    max_tokens = np.maximum(max_tokens, min_tokens + 1)
    curves = cf.SurgeCurves(tau, rng.uniform(0.005, 0.02, n), rng.uniform(0.002, 0.01, n),
                            weight=rng.choice([1.0, 2.0, 0.5], n), min_tokens=min_tokens, max_tokens=max_tokens)
    alloc = cf.allocate(curves, int(per_query * n))
    expected = [without_position(alloc, i) for i in range(n)]
    assert curve_reasons(alloc).to_pylist() == expected
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sentence_column, "pyarrow_installed", lambda: False)
        assert curve_reasons(alloc) == expected


def test_level_reasons_agree_both_ways():
    rng = np.random.default_rng(4)
    costs = np.sort(rng.integers(50, 2000, size=(200, 3)), axis=1).astype(float)
    costs[0, 0] = 0.0  # a free level: infinite utility per token
    utilities = np.sort(rng.uniform(0, 1, size=(200, 3)), axis=1)
    result = cf.allocate_levels(costs, utilities, 40_000)
    names = ["low", "médium", "high,er"]
    fast = level_reasons(names, costs, utilities, np.asarray(result.level), result.shadow_price).to_pylist()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sentence_column, "pyarrow_installed", lambda: False)
        slow = level_reasons(names, costs, utilities, np.asarray(result.level), result.shadow_price)
    assert fast == slow
    assert {text.split(" ")[0] for text in fast} == {"funded", "abandoned:"}
    assert any("médium" in text for text in fast)


floats = st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=1e-6, max_value=1e6) | st.sampled_from(
    [0.0, -0.0, 1.0, 0.1, 99999.95, 999999.5, 123456.5, 9.9999995e-5, 1e-4, 1e16, 5e-324, 1.7976931348623157e308]
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(floats, min_size=1, max_size=60), digits=st.sampled_from([1, 4, 6, 10, 15]))
def test_general_format_is_pythons_format(values, digits):
    x = np.array(values, dtype=np.float64)
    assert _strings(general_format_bytes(x, digits)).to_pylist() == [format(v, f".{digits}g") for v in values]


def test_general_format_on_a_million_values_at_every_scale():
    rng = np.random.default_rng(0)
    x = np.concatenate([10.0 ** rng.uniform(-30, 30, 500_000), np.round(rng.uniform(0, 1000, 500_000), 3)])
    got = _strings(general_format_bytes(x, 6)).to_pylist()
    assert got == [format(v, ".6g") for v in x.tolist()]


@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=60))
def test_integer_text_is_str(values):
    assert _strings(integer_bytes(np.array(values, dtype=np.int64))).to_pylist() == [str(v) for v in values]
