"""Type stub of the compiled exact search (see _exact_solver.pyx; the twin is _exact_reference.py)."""

from typing import Final

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

SEARCH_DONE: Final[int]
SEARCH_CAPPED: Final[int]

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
) -> tuple[int, float, float, float, float]: ...
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
) -> tuple[int, float, float, float, float]: ...
