"""Pure-Python twin of the compiled kernel: the executable specification.

Every entry point of the compiled package ``clear_fast._solver`` exists here
with the same name, arguments and results, in a module of the same name,
written to be read rather than to be fast (plain loops over ``math``). Each
module's docstring carries its mathematics. The test suite holds the compiled
kernel to this package, and ``CLEAR_FAST_PUREPYTHON=1`` runs the whole library
on it (``clear_fast._kernel`` picks one of the two).

``lambert``        Lambert W on both real branches
``curve``          one query's curve: utility, best grant, break-even price, bounds
``market_rows``    passes over a prefix of the market in clearing order
``market``         clear_price: the price at which demand meets the budget
``shared_params``  the exact scan when all queries share their parameters
``effort_levels``  hull increments and the greedy of the discrete-level problem

Inputs are trusted, as by the kernel: validation happens in the Python layer.
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
