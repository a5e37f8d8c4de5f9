"""``allocate_dask`` on a local Dask cluster (2 worker processes, started and stopped here): the grants of ``allocate``."""

from __future__ import annotations

import sys

import cloudpickle
import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from engine_cases import FailOnce, cases, check_answer

import clear_fast as cf
from clear_fast.distributed import allocate_dask


@pytest.fixture(scope="module")
def client():
    cloudpickle.register_pickle_by_value(sys.modules[FailOnce.__module__])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        yield client


def _dataframe(case):
    frames = case.frames()
    return dd.from_delayed([dask.delayed(frame) for frame in frames], meta=frames[0].iloc[:0], verify_meta=False)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_same_caps_as_allocate(client, case):
    ddf = _dataframe(case)
    assert ddf.npartitions == len(case.sizes)
    answer = allocate_dask(ddf, case.budget, form=case.curves.form)
    check_answer(answer.data.compute(), answer, case)


def test_a_failing_partition_is_retried_with_the_same_answer(client, tmp_path):
    case = cases()[1]
    marker = tmp_path / "failed"
    answer = allocate_dask(_dataframe(case), case.budget, to_curves=FailOnce(marker, 1, case.curves.form))
    assert marker.exists()  # the partition did fail, and Dask ran it again
    np.testing.assert_array_equal(answer.data.compute()["cap"].to_numpy(), cf.allocate(case.curves, case.budget).tokens)


def test_a_missing_column_is_named(client):
    ddf = dd.from_pandas(pd.DataFrame({"tau": [1.0], "alpha": [1.0]}), npartitions=1)
    with pytest.raises(ValueError, match="beta"):
        allocate_dask(ddf, 10)
