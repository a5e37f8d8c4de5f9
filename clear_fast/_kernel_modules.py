"""The kernel's entry points, the module of each, and how a kernel package imports them on first use.

Shared by the compiled package ``clear_fast._solver`` and its twin
``clear_fast._reference``, which hold the same modules: importing either
package stays light, and an entry point's module is imported when the entry
point is first used.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

#: each entry point and the module that holds it, in both packages
ENTRY_POINTS = {
    "lambert_w": "lambert",
    "utility": "curve",
    "breakeven": "curve",
    "demand": "curve",
    "unit_gains": "curve",
    "floor_grants": "curve",
    "ClearingKind": "market",
    "clear_price": "market",
    "shared_solve": "shared_params",
    "shared_grants": "shared_params",
    "shared_hand_out": "shared_params",
    "shared_value": "shared_params",
    "level_hulls": "effort_levels",
    "level_greedy": "effort_levels",
    "SearchStatus": "exact_search",
    "token_search": "exact_search",
    "level_search": "exact_search",
}


def entry_point_loader(package: str, namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports an entry point's module on first use."""

    def load(name: str) -> Any:
        if name not in ENTRY_POINTS:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{ENTRY_POINTS[name]}"), name)
        namespace[name] = value  # later lookups find it directly
        return value

    return load
