"""Type stub of clear_fast/_solver/effort_levels.pyx (the twin: clear_fast/_reference/effort_levels.py)."""

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

def level_hulls(
    costs: _F64,
    utilities: _F64,
    n: int,
    levels: int,
    inc_query: _I64,
    inc_level: _I64,
    inc_cost: _F64,
    inc_gain: _F64,
) -> int: ...
def level_greedy(
    order: _I64,
    inc_query: _I64,
    inc_level: _I64,
    inc_cost: _F64,
    inc_gain: _F64,
    budget: float,
    level_out: _I64,
    cost_out: _F64,
) -> tuple[float, float, float]: ...
