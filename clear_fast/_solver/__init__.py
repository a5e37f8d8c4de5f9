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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as the type checkers should see them; at run time __getattr__ imports them
    from .curve import breakeven as breakeven
    from .curve import demand as demand
    from .curve import floor_grants as floor_grants
    from .curve import unit_gains as unit_gains
    from .curve import utility as utility
    from .effort_levels import level_greedy as level_greedy
    from .effort_levels import level_hulls as level_hulls
    from .lambert import lambert_w as lambert_w
    from .market import ClearingKind as ClearingKind
    from .market import clear_price as clear_price
    from .shared_params import shared_dual as shared_dual
    from .shared_params import shared_round as shared_round
    from .shared_params import shared_scan as shared_scan
    from .shared_params import shared_value as shared_value

#: each entry point and the module that holds it
ENTRY_POINTS = {
    "lambert_w": "lambert",
    "utility": "curve",
    "breakeven": "curve",
    "demand": "curve",
    "unit_gains": "curve",
    "floor_grants": "curve",
    "ClearingKind": "market",
    "clear_price": "market",
    "shared_scan": "shared_params",
    "shared_round": "shared_params",
    "shared_value": "shared_params",
    "shared_dual": "shared_params",
    "level_hulls": "effort_levels",
    "level_greedy": "effort_levels",
}

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


def __getattr__(name: str) -> Any:
    """Import an entry point's module when it is first used, so that importing clear_fast stays light."""
    if name not in ENTRY_POINTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{ENTRY_POINTS[name]}"), name)
    globals()[name] = value
    return value
