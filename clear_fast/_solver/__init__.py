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
one of the two packages. An entry point's module is imported when the entry
point is first used; __init__.pyi gives the type checkers every name.
"""

from .._kernel_modules import ENTRY_POINTS, entry_point_loader

__all__ = sorted(ENTRY_POINTS)
__getattr__ = entry_point_loader(__name__, globals())
