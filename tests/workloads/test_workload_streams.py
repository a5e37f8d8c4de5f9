"""Traffic streams: mixes, reproducibility, true curves."""

import numpy as np
import pytest

from clear_fast import SurgeCurves
from clear_fast.workloads import (
    CALIBRATION,
    POOL_NAMES,
    STREAM_MIXES,
    Stream,
    make_stream,
    paper_streams,
    pool_counts,
    threshold_pools,
)
from clear_fast.workloads import query_from_tag


def _same(a: Stream, b: Stream) -> bool:
    return (
        a.texts == b.texts
        and a.ids == b.ids
        and np.array_equal(a.pools, b.pools)
        and np.array_equal(a.curves.tau, b.curves.tau)
        and np.array_equal(a.curves.alpha, b.curves.alpha)
    )


def test_same_seed_gives_the_same_stream():
    assert _same(make_stream("UShaped", 300, seed=4), make_stream("UShaped", 300, seed=4))


def test_other_seeds_and_shapes_give_other_streams():
    base = make_stream("Balanced", 300, seed=4)
    assert not np.array_equal(base.curves.tau, make_stream("Balanced", 300, seed=5).curves.tau)
    # Same mix sizes would not hide it: the shape keys the draws too.
    other = make_stream("MostlyEasy", 300, seed=4)
    assert not np.array_equal(np.sort(base.curves.tau), np.sort(other.curves.tau))


@pytest.mark.parametrize("shape", list(STREAM_MIXES))
@pytest.mark.parametrize("n", [0, 1, 7, 500, 1001])
def test_pool_sizes_follow_the_mix(shape, n):
    stream = make_stream(shape, n, seed=1)
    assert len(stream) == n
    for pool in POOL_NAMES:
        count = int(np.sum(stream.pools == pool))
        assert abs(count - n * STREAM_MIXES[shape][pool]) < 1.0
    assert sum(int(np.sum(stream.pools == p)) for p in POOL_NAMES) == n


def test_pool_counts_sum_exactly_and_round_each_share():
    for n in range(0, 60):
        counts = pool_counts(n, STREAM_MIXES["Balanced"])
        assert sum(counts.values()) == n
        assert all(abs(c - n / 3) < 1 for c in counts.values())


def test_mixes_are_distributions():
    for shape, mix in STREAM_MIXES.items():
        assert set(mix) == set(POOL_NAMES)
        assert sum(mix.values()) == pytest.approx(1.0), shape


def test_true_curves_are_cumulative_with_shared_width_and_pool_success():
    stream = make_stream("Balanced", 600, seed=2)
    curves = stream.curves
    assert isinstance(curves, SurgeCurves) and curves.form == "cumulative"
    np.testing.assert_allclose(curves.beta, 1 / CALIBRATION.width)
    for pool in POOL_NAMES:
        members = stream.pools == pool
        np.testing.assert_allclose(stream.success_probability[members], CALIBRATION.success[pool], rtol=1e-12)
    assert np.all(stream.success_probability <= 1.0)


def test_thresholds_of_each_pool_come_from_that_pool():
    stream = make_stream("Balanced", 3000, seed=8)
    pools = threshold_pools()
    for name in POOL_NAMES:
        tau = stream.curves.tau[stream.pools == name]
        # Median of the drawn thresholds against the pool's median, with a sampling allowance.
        median = float(pools[name].quantile(0.5))
        assert abs(np.mean(tau <= median) - 0.5) < 4 * np.sqrt(0.25 / len(tau))
        assert tau.min() >= pools[name].quantile(0.0) - 1e-9


def test_texts_carry_the_query_index_tag_and_ids_are_unique():
    stream = make_stream("MostlyHard", 50, seed=0)
    assert [query_from_tag(t) for t in stream.texts] == list(range(50))
    assert len(set(stream.ids)) == 50 and len(set(stream.texts)) == 50


def test_longer_texts_go_with_larger_thresholds():
    stream = make_stream("Balanced", 1000, seed=0)
    lengths = np.array([len(t) for t in stream.texts])
    correlation = np.corrcoef(np.log(lengths), np.log(stream.curves.tau))[0, 1]
    assert correlation > 0.7


def test_stream_is_immutable():
    stream = make_stream("Balanced", 10, seed=0)
    with pytest.raises(ValueError):
        stream.pools[0] = "hard"
    with pytest.raises(ValueError):
        stream.curves.tau[0] = 1.0
    with pytest.raises(AttributeError):
        stream.name = "other"


def test_paper_streams_are_the_four_shapes():
    streams = paper_streams(40, seed=3)
    assert list(streams) == ["Balanced", "MostlyEasy", "MostlyHard", "UShaped"]
    assert all(len(s) == 40 and s.seed == 3 for s in streams.values())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"shape": "Spiky"}, ValueError, "`shape` must be one of"),
        ({"shape": "Balanced", "n": -1}, ValueError, "`n` must be >= 0"),
        ({"shape": "Balanced", "n": 2.5}, TypeError, "`n` must be an integer"),
        ({"shape": "Balanced", "seed": -3}, ValueError, "`seed` must be >= 0"),
        ({"shape": "Balanced", "seed": True}, TypeError, "`seed` must be an integer"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_stream(**kwargs)
