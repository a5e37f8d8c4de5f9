"""Type stub of clear_fast/_solver/exact_search.pyx (the twin: clear_fast/_reference/exact_search.py)."""

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

class SearchStatus(IntEnum):
    DONE = 0
    CAPPED = 1

def token_search(
    form: int,
    tau: _F64,
    scale: _F64,
    beta: _F64,
    lower: _F64,
    top: _F64,
    low: _F64,
    high: _F64,
    peak: _F64,
    budget: float,
    price: float,
    upper: float,
    achieved: float,
    rtol: float,
    max_cells: float,
    grants_out: _F64,
) -> tuple[SearchStatus, float, float, float, float]: ...
def level_search(
    starts: _I64,
    costs: _F64,
    values: _F64,
    budget: float,
    price: float,
    upper: float,
    achieved: float,
    rtol: float,
    max_cells: float,
    chosen_out: _I64,
) -> tuple[SearchStatus, float, float, float, float]: ...
