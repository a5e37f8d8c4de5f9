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
An entry point's module is imported when the entry point is first used.
"""

from .._kernel_modules import ENTRY_POINTS, entry_point_loader

__all__ = sorted(ENTRY_POINTS)
__getattr__ = entry_point_loader(__name__, globals())
