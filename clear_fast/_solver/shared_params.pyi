"""Type stub of clear_fast/_solver/shared_params.pyx (the twin: clear_fast/_reference/shared_params.py)."""

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]

def shared_scan(form: int, tau_sorted: _F64, a: float, beta: float, budget: float) -> tuple[int, float]: ...
def shared_round(
    form: int, tau: _F64, a: float, beta: float, x: float, tokens_out: _F64, gains_out: _F64
) -> float: ...
def shared_value(form: int, tau: _F64, a: float, beta: float, tokens: _F64) -> float: ...
def shared_dual(
    form: int, tau_sorted: _F64, prefix_tau: _F64, a: float, beta: float, budget: float
) -> tuple[float, float]: ...
