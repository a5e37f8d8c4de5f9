"""The compiled kernel: every entry point, gathered from its focused modules.

The modules, bottom up (each cimports only those before it):

``lambert``        Lambert W on both real branches (scalars in lambert.pxd)
``curve``          one query's curve: utility, best grant, tangent point, bounds
``market_rows``    the market's queries packed in clearing order; passes over a prefix
``market``         clear_price: the price at which demand meets the budget
``shared_params``  the exact scan when all queries share their parameters
``effort_levels``  hull increments and the greedy of the discrete-level problem

Each mirrors the module of the same name in ``clear_fast._reference`` (the
pure-Python twin, which carries the mathematics); ``clear_fast._kernel`` picks
one of the two packages.
"""

from .curve import breakeven, demand, floor_grants, unit_gains, utility
from .effort_levels import level_greedy, level_hulls
from .lambert import lambert_w
from .market import ClearingKind, clear_price
from .shared_params import shared_dual, shared_round, shared_scan, shared_value

__all__ = [
    "ClearingKind",
    "breakeven",
    "clear_price",
    "demand",
    "floor_grants",
    "lambert_w",
    "level_greedy",
    "level_hulls",
    "shared_dual",
    "shared_round",
    "shared_scan",
    "shared_value",
    "unit_gains",
    "utility",
]
