"""``allocate_dask``: the budget over a Dask DataFrame, each round one task per partition on a Dask cluster.

The dataframe is persisted on the cluster once, each partition's curves beside
it; each round submits the small
building block against every partition and gathers what it returns. Dask
retries a task that raised (``retries``) or whose worker died; the building
blocks are pure functions of the partition, so a retried task gives the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dask.dataframe as dd
import numpy as np
from distributed import Client, default_client

from ..curves import SurgeCurves
from .driver import PartitionedAllocation, allocate_partitioned
from .frames import ColumnReader, DatasetAllocation, answer_columns


def allocate_dask(
    ddf: Any,
    budget: int,
    *,
    columns: Mapping[str, str | float] | None = None,
    form: str = "surge",
    rtol: float = 1e-3,
    retries: int = 3,
    to_curves: Callable[[Any], SurgeCurves] | None = None,
    client: Client | None = None,
) -> DatasetAllocation:
    """Split ``budget`` tokens across the rows of a Dask DataFrame, exactly as :func:`clear_fast.allocate` would.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per query.
    budget : int
        Total tokens (a whole number >= 0).
    columns, form, rtol
        As in :func:`allocate_ray`.
    retries : int
        How often Dask retries a partition's task that failed.
    to_curves : callable, optional
        ``to_curves(frame) -> SurgeCurves`` for a partition (a ``pandas.DataFrame``),
        in place of ``columns``. It must be a pure function of the partition.
    client : distributed.Client, optional
        The cluster to run on (default: the current client).

    Returns
    -------
    DatasetAllocation
        ``data``: the dataframe with ``cap`` (int64), ``funded`` (bool) and
        ``reason`` columns, partition for partition; ``allocation``: the price,
        utility, certificate and number of rounds.
    """
    client = client if client is not None else default_client()
    reader = to_curves if to_curves is not None else ColumnReader(columns, form)
    if isinstance(reader, ColumnReader):
        reader.check([str(name) for name in ddf.columns])
    parts = client.compute(ddf.to_delayed())  # persisted on the workers, one future per partition
    [reader_future] = client.scatter([reader], broadcast=True, hash=False)
    # each partition's curves, read once and kept beside it on its worker for every round
    curves = [client.submit(_read, reader_future, part, retries=retries, pure=False) for part in parts]

    def engine(fn: Callable[[int, SurgeCurves], Any]) -> list[Any]:
        [fn_future] = client.scatter([fn], broadcast=True, hash=False)
        futures = [client.submit(_on_curves, fn_future, k, part, retries=retries, pure=False)
                   for k, part in enumerate(curves)]
        return list(client.gather(futures))

    answer = allocate_partitioned(engine, budget, rtol=rtol)
    [answer_future] = client.scatter([answer], broadcast=True, hash=False)
    frames = [client.submit(_with_answer, answer_future, curves[k], answer.offsets[k], part, retries=retries,
                            pure=False) for k, part in enumerate(parts)]
    meta = ddf._meta.assign(cap=np.int64(0), funded=False, reason="")  # empty: the columns' types
    return DatasetAllocation.of(dd.from_delayed(frames, meta=meta, verify_meta=False), answer)


def _read(reader: Callable[[Any], SurgeCurves], frame: Any) -> SurgeCurves:
    return reader(frame)


def _on_curves(fn: Callable[[int, SurgeCurves], Any], position: int, curves: SurgeCurves) -> Any:
    return fn(position, curves)


def _with_answer(answer: PartitionedAllocation, curves: SurgeCurves, offset: int, frame: Any) -> Any:
    columns = answer_columns(answer, curves, offset)
    reason = columns["reason"]
    columns["reason"] = reason.to_pylist() if hasattr(reason, "to_pylist") else list(reason)
    return frame.assign(**{name: np.asarray(values) if name != "reason" else values
                           for name, values in columns.items()})
