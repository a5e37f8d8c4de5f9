"""Type stub of clear_fast/_solver/curve.pyx (the twin: clear_fast/_reference/curve.py)."""

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]

def utility(form: int, tau: _F64, scale: _F64, beta: _F64, tokens: _F64, out: _F64) -> None: ...
def breakeven(
    form: int, tau: _F64, scale: _F64, beta: _F64, min_tokens: _F64, max_tokens: _F64, price_out: _F64, tangent_out: _F64
) -> None: ...
def demand(
    form: int, tau: _F64, scale: _F64, beta: _F64, min_tokens: _F64, max_tokens: _F64, breakeven_price: _F64,
    lam: float, tokens_out: _F64,
) -> tuple[float, float]: ...
def unit_gains(
    form: int, tau: _F64, scale: _F64, beta: _F64, max_tokens: _F64, tokens: _F64, out: _F64
) -> None: ...
def floor_grants(
    form: int,
    tau: _F64,
    scale: _F64,
    beta: _F64,
    max_tokens: _F64,
    continuous: _F64,
    tokens_out: _F64,
    gains_out: _F64,
) -> tuple[float, float]: ...
