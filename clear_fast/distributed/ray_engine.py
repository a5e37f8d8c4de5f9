"""``allocate_ray``: the budget over a ``ray.data.Dataset``, each round one Ray task per block.

The dataset is executed once (its blocks stay in Ray's object store as Arrow
tables, and each block's curves beside them); each round sends the small building block to every block's task and
gathers what it returns. Ray retries a task whose worker dies, or that raises
(``max_retries``); the building blocks are pure functions of the block, so a
retried task gives the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ray

from ..curves import SurgeCurves
from .driver import PartitionedAllocation, allocate_partitioned
from .frames import ColumnReader, DatasetAllocation, answer_columns


def allocate_ray(
    dataset: Any,
    budget: int,
    *,
    columns: Mapping[str, str | float] | None = None,
    form: str = "surge",
    rtol: float = 1e-3,
    max_retries: int = 3,
    to_curves: Callable[[Any], SurgeCurves] | None = None,
) -> DatasetAllocation:
    """Split ``budget`` tokens across the rows of a Ray dataset, exactly as :func:`clear_fast.allocate` would.

    Parameters
    ----------
    dataset : ray.data.Dataset
        One row per query.
    budget : int
        Total tokens (a whole number >= 0).
    columns : mapping, optional
        Curve parameter (``tau``, ``alpha``, ``beta``, ``weight``, ``min_tokens``,
        ``max_tokens``) to column name, or to a number all queries share. By
        default each parameter reads the column of its own name.
    form : {"surge", "cumulative"}
    rtol : float
        As in :func:`clear_fast.allocate`.
    max_retries : int
        How often Ray retries a block's task that failed (raised or lost its worker).
    to_curves : callable, optional
        ``to_curves(table) -> SurgeCurves`` for a block (a ``pyarrow.Table``), in
        place of ``columns`` (e.g. curves derived from other columns). It must be
        a pure function of the block.

    Returns
    -------
    DatasetAllocation
        ``data``: the dataset with ``cap`` (int64), ``funded`` (bool) and ``reason``
        columns, block for block; ``allocation``: the price, utility,
        certificate and number of rounds.
    """
    reader = to_curves if to_curves is not None else ColumnReader(columns, form)
    if isinstance(reader, ColumnReader):
        reader.check(list(dataset.schema().names))
    blocks = dataset.to_arrow_refs()
    reader_ref = ray.put(reader)
    # each block's curves, read once and kept in the object store for every round
    curves = [_read.options(max_retries=max_retries, retry_exceptions=True).remote(reader_ref, block)
              for block in blocks]
    task = _on_curves.options(max_retries=max_retries, retry_exceptions=True)

    def engine(fn: Callable[[int, SurgeCurves], Any]) -> list[Any]:
        fn_ref = ray.put(fn)
        return list(ray.get([task.remote(fn_ref, k, part) for k, part in enumerate(curves)]))

    answer = allocate_partitioned(engine, budget, rtol=rtol)
    answer_ref = ray.put(answer)
    offsets = answer.offsets
    finish = _with_answer.options(max_retries=max_retries, retry_exceptions=True)
    tables = [finish.remote(answer_ref, curves[k], offsets[k], block) for k, block in enumerate(blocks)]
    return DatasetAllocation.of(ray.data.from_arrow_refs(tables), answer)


@ray.remote
def _read(reader: Callable[[Any], SurgeCurves], block: Any) -> SurgeCurves:
    return reader(block)


@ray.remote
def _on_curves(fn: Callable[[int, SurgeCurves], Any], position: int, curves: SurgeCurves) -> Any:
    return fn(position, curves)


@ray.remote
def _with_answer(answer: PartitionedAllocation, curves: SurgeCurves, offset: int, block: Any) -> Any:
    import pyarrow

    columns = answer_columns(answer, curves, offset)
    table = block
    for name, values in columns.items():
        table = table.append_column(name, pyarrow.array(values))
    return table
