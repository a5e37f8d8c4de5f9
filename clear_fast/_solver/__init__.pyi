"""Type stub of the compiled kernel package: the entry points it gathers from its modules."""

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
