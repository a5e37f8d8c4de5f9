"""``allocate_ray`` on a local Ray runtime (2 CPUs, started and stopped here): the grants of ``allocate``."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pytest
import ray
from engine_cases import FailOnce, cases, check_answer

import clear_fast as cf
from clear_fast.distributed import allocate_ray


@pytest.fixture(scope="module")
def ray_runtime():
    ray.cloudpickle.register_pickle_by_value(sys.modules[FailOnce.__module__])
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def _dataset(case):
    return ray.data.from_arrow([pa.Table.from_pandas(frame, preserve_index=False) for frame in case.frames()])


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_same_caps_as_allocate(ray_runtime, case):
    dataset = _dataset(case)
    assert dataset.num_blocks() == len(case.sizes)
    answer = allocate_ray(dataset, case.budget, form=case.curves.form)
    check_answer(answer.data.to_pandas(), answer, case)


def test_a_failing_block_is_retried_with_the_same_answer(ray_runtime, tmp_path):
    case = cases()[1]
    marker = tmp_path / "failed"
    answer = allocate_ray(_dataset(case), case.budget, to_curves=FailOnce(marker, 1, case.curves.form))
    assert marker.exists()  # the block did fail, and Ray ran it again
    np.testing.assert_array_equal(answer.data.to_pandas()["cap"].to_numpy(), cf.allocate(case.curves, case.budget).tokens)


def test_a_missing_column_is_named(ray_runtime):
    dataset = ray.data.from_arrow(pa.table({"tau": [1.0], "alpha": [1.0]}))
    with pytest.raises(ValueError, match="beta"):
        allocate_ray(dataset, 10)
