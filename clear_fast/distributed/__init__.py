"""``allocate`` over a dataset split into partitions: the same grants, in a bounded number of rounds.

The core (:func:`allocate_partitioned`, the per-partition building blocks in
:mod:`clear_fast.distributed.partition_ops`) imports no engine. The engines come
with their extras: :func:`allocate_ray` (``pip install "clear-fast[ray]"``) and
:func:`allocate_dask` (``pip install "clear-fast[dask]"``), imported when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .driver import PartitionedAllocation, allocate_partitioned

_ENGINES = {"allocate_ray": ".ray_engine", "allocate_dask": ".dask_engine", "DatasetAllocation": ".frames"}

__all__ = ["PartitionedAllocation", "allocate_partitioned", "allocate_ray", "allocate_dask", "DatasetAllocation"]


def __getattr__(name: str) -> Any:
    if name in _ENGINES:
        return getattr(importlib.import_module(_ENGINES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
