"""The one place that picks the implementation of the numerical kernel.

The compiled package ``clear_fast._solver`` is the default. Its pure-Python
twin ``clear_fast._reference`` implements the same entry points, module for
module, slowly and obviously; it is used only when asked for with
``CLEAR_FAST_PUREPYTHON=1``, and then the compiled modules are never imported.
A missing extension is an error, never a silent slowdown. Each package
imports an entry point's module when it is first used.

Every caller reaches the kernel as ``_kernel.kernel.<entry point>`` when it
calls, never through a name bound at import, so replacing the one attribute
``kernel`` swaps the implementation behind every caller at once (the tests do
so to hold one implementation to the other).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

PURE_PYTHON = os.environ.get("CLEAR_FAST_PUREPYTHON", "") not in ("", "0")

if PURE_PYTHON:
    from . import _reference as kernel
else:
    try:
        from . import _solver as kernel  # type: ignore[no-redef]
        kernel.ClearingKind  # loads a compiled module now, so a missing build fails here, with the message below
    except ImportError as error:  # pragma: no cover - depends on the build
        checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if os.path.isfile(os.path.join(checkout, "setup.py")):
            # The usual cause: python started in the repository, so ./clear_fast (never compiled)
            # hides the installed package.
            fix = (
                f"Python imported clear_fast from the source checkout {checkout} (the current directory "
                "comes first on sys.path), where the kernel was never compiled. Run Python from another "
                "directory to use the package installed with `pip install .`, or compile the checkout in place "
                f"with `pip install -e .` in {checkout}"
            )
        else:
            fix = "Install the package with `pip install .` (it needs a C compiler)"
        raise ImportError(
            f"clear_fast's compiled kernel (clear_fast._solver) is not built or cannot be loaded: {error}. "
            f"{fix}, or set CLEAR_FAST_PUREPYTHON=1 to use the slow pure-Python kernel."
        ) from error

IMPLEMENTATION = "python" if PURE_PYTHON else "compiled"

if TYPE_CHECKING:
    from ._reference.market import ClearingKind
else:
    #: how clear_price cleared; the same names and values in both implementations
    ClearingKind = kernel.ClearingKind

__all__ = ["kernel", "ClearingKind", "IMPLEMENTATION", "PURE_PYTHON"]
