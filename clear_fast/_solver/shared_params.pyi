"""Type stub of clear_fast/_solver/shared_params.pyx (the twin: clear_fast/_reference/shared_params.py)."""

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

def shared_solve(form: int, tau_sorted: _F64, a: float, beta: float, budget: float) -> tuple[int, float, float, float]: ...
def shared_grants(
    form: int, tau: _F64, a: float, beta: float, x: float, kth: float, ties: int,
    tokens_out: _I64, funded_out: _I64, gains_out: _F64,
) -> tuple[float, float]: ...
def shared_hand_out(gains: _F64, funded: _I64, cut: float, ties: int, tokens: _I64) -> tuple[int, float]: ...
def shared_value(form: int, tau: _F64, a: float, beta: float, tokens: _F64) -> float: ...
