"""Type stub of the compiled kernel package: the entry points it gathers from its modules."""

from .curve import breakeven as breakeven
from .curve import demand as demand
from .curve import floor_grants as floor_grants
from .curve import unit_gains as unit_gains
from .curve import utility as utility
from .effort_levels import level_greedy as level_greedy
from .exact_search import SearchStatus as SearchStatus
from .exact_search import level_search as level_search
from .exact_search import token_search as token_search
from .effort_levels import level_hulls as level_hulls
from .lambert import lambert_w as lambert_w
from .market import ClearingKind as ClearingKind
from .market import clear_price as clear_price
from .shared_params import shared_grants as shared_grants
from .shared_params import shared_hand_out as shared_hand_out
from .shared_params import shared_solve as shared_solve
from .shared_params import shared_value as shared_value

__all__ = [
    "ClearingKind",
    "SearchStatus",
    "breakeven",
    "clear_price",
    "demand",
    "floor_grants",
    "lambert_w",
    "level_greedy",
    "level_hulls",
    "level_search",
    "shared_grants",
    "shared_hand_out",
    "shared_solve",
    "shared_value",
    "token_search",
    "unit_gains",
    "utility",
]
