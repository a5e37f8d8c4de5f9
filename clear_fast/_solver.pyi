"""Type stub of the compiled kernel (see _solver.pyx; the same entry points as _reference.py)."""

from typing import Final

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

CLEAR_AMPLE: Final[int]
CLEAR_CONTINUOUS: Final[int]
CLEAR_JUMP_OUT: Final[int]
CLEAR_JUMP_IN: Final[int]

def lambert_w(z: _F64, branch: int, out: _F64) -> None: ...
def utility(form: int, tau: _F64, scale: _F64, beta: _F64, tokens: _F64, out: _F64) -> None: ...
def breakeven(
    form: int, tau: _F64, scale: _F64, beta: _F64, min_tokens: _F64, max_tokens: _F64, price_out: _F64, tangent_out: _F64
) -> None: ...
def demand(
    form: int, tau: _F64, scale: _F64, beta: _F64, min_tokens: _F64, max_tokens: _F64, be: _F64, lam: float, tokens_out: _F64
) -> tuple[float, float]: ...
def clear_price(
    form: int,
    tau: _F64,
    scale: _F64,
    beta: _F64,
    min_tokens: _F64,
    max_tokens: _F64,
    be: _F64,
    order: _I64,
    budget: float,
    tokens_out: _F64,
    lo_hint: float = ...,
    hi_hint: float = ...,
) -> tuple[int, float, int, float]: ...
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
def unit_gains(
    form: int, tau: _F64, scale: _F64, beta: _F64, max_tokens: _F64, tokens: _F64, out: _F64
) -> None: ...
def shared_scan(form: int, tau_sorted: _F64, a: float, beta: float, budget: float) -> tuple[int, float]: ...
def shared_round(
    form: int, tau: _F64, a: float, beta: float, x: float, tokens_out: _F64, gains_out: _F64
) -> float: ...
def shared_value(form: int, tau: _F64, a: float, beta: float, tokens: _F64) -> float: ...
def shared_dual(
    form: int, tau_sorted: _F64, prefix_tau: _F64, a: float, beta: float, budget: float
) -> tuple[float, float]: ...
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
