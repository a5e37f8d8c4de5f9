"""``allocate_partitioned`` on the plain-list engine against single-machine ``allocate``: identical grants."""

from __future__ import annotations

import contextlib
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from partitioned_cases import grants_of, instances, list_engine, split

import clear_fast as cf
from clear_fast._kernel import PURE_PYTHON
from clear_fast.distributed import allocate_partitioned
from clear_fast.distributed import clearing, rounds

allocate_module = importlib.import_module("clear_fast.allocate")  # the module, not the function of that name

#: rounds any instance here takes at most (a few more than the most seen)
MAX_ROUNDS = 40


def _check(curves: cf.SurgeCurves, budget: int, cuts: list[int]) -> None:
    parts = split(curves, cuts)
    expected = cf.allocate(curves, budget)
    got = allocate_partitioned(list_engine(parts), budget)
    np.testing.assert_array_equal(grants_of(got, parts), expected.tokens)
    assert got.spent == expected.spent <= budget
    assert got.clearing == expected.clearing
    assert got.search == expected.search
    assert got.shadow_price == pytest.approx(expected.shadow_price, rel=1e-9, abs=1e-300)
    assert got.utility == pytest.approx(expected.utility, rel=1e-9, abs=1e-12)
    assert got.upper_bound == pytest.approx(expected.upper_bound, rel=1e-9, abs=1e-12)
    assert got.optimal == expected.optimal
    if expected.marginal >= 0:
        assert got.marginal == expected.marginal
    assert got.rounds <= MAX_ROUNDS


@settings(max_examples=400, deadline=None)
@given(instances())
def test_same_grants_as_allocate(case):
    _check(*case)


@settings(max_examples=150, deadline=None)
@given(case=instances(max_n=400))
def test_same_grants_on_the_sampled_path(case):
    """With ``allocate``'s sampling thresholds lowered, its sample, bracket and window path runs at small sizes,
    and the leftover passes run as rounds (few queries gathered at a time)."""
    with lowered_thresholds():
        _check(*case)


@contextlib.contextmanager
def lowered_thresholds():
    """``allocate`` samples from 40 fundable queries (8 in the sample), and the driver gathers at most 4 at a time."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (allocate_module, clearing):
            patch.setattr(module, "_SAMPLE_FROM", 40)
            patch.setattr(module, "_SAMPLE_SIZE", 8)
        patch.setattr(rounds, "GATHER_LIMIT", 4)
        yield


def test_many_queries_on_uneven_partitions():
    """200 000 queries on partitions of very different sizes (and empty ones): allocate's sampled path.

    With the slow pure-Python kernel, 6 000 queries take the same path with the sampling thresholds lowered.
    """
    n, thresholds = (6_000, lowered_thresholds) if PURE_PYTHON else (200_000, contextlib.nullcontext)
    rng = np.random.default_rng(7)
    for form, per_query in (("surge", 40), ("cumulative", 400)):
        curves = cf.SurgeCurves.from_peak(
            rng.uniform(0, 200, n), rng.uniform(0.2, 1, n), rng.uniform(10, 80, n), weight=rng.uniform(0.5, 2, n),
            max_tokens=np.where(rng.random(n) < 0.2, 300.0, np.inf), form=form,
        )
        with thresholds():
            _check(curves, per_query * n, [0, 0, 17, n * 3 // 4, n * 3 // 4 + 1, n - 1])


def test_bad_arguments_are_named():
    parts = [cf.SurgeCurves(1.0, 1.0, 1.0)]
    with pytest.raises(ValueError, match="budget"):
        allocate_partitioned(list_engine(parts), -1)
    with pytest.raises(TypeError, match="rtol"):
        allocate_partitioned(list_engine(parts), 10, rtol="x")
    with pytest.raises(TypeError, match="engine"):
        allocate_partitioned(parts, 10)
    with pytest.raises(RuntimeError, match="2 results for 1 partitions"):
        calls = []
        allocate_partitioned(lambda fn: [fn(0, parts[0])] * (2 if calls.append(1) or len(calls) > 1 else 1), 10)
    mixed = [cf.SurgeCurves(1.0, 1.0, 1.0), cf.SurgeCurves(1.0, 1.0, 1.0, form="cumulative")]
    with pytest.raises(ValueError, match="one form"):
        allocate_partitioned(list_engine(mixed), 10)
