"""Type stub of clear_fast/_solver/market.pyx (the twin: clear_fast/_reference/market.py)."""

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

class ClearingKind(IntEnum):
    BRACKET_MISSED = -1
    AMPLE = 0
    CONTINUOUS = 1
    JUMP_OUT = 2
    JUMP_IN = 3

def clear_price(
    form: int,
    tau: _F64,
    scale: _F64,
    beta: _F64,
    min_tokens: _F64,
    max_tokens: _F64,
    breakeven_price: _F64,
    order: _I64,
    budget: float,
    tokens_out: _F64,
    lo_hint: float = ...,
    hi_hint: float = ...,
) -> tuple[ClearingKind, float, int, float]: ...
